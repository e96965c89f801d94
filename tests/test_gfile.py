"""tf.gfile / tf.io.gfile on local files.

Every result, error class and message asserted here is what TF 2.21's tf.compat.v1.gfile gives for the
same calls on the same files.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import gpugraph as tf

G = tf.gfile


@pytest.fixture()
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # relative paths, as TF's messages echo the path given
    with G.GFile("a.txt", "w") as f:
        f.write("l1\nl2\n")
        f.write(b"l3")  # TF: write takes str or bytes in any mode
    return tmp_path


def test_io_gfile_is_gfile() -> None:
    assert tf.io.gfile is tf.gfile
    assert tf.io.gfile.GFile is G.GFile and G.FastGFile is G.GFile and G.Open is G.GFile
    for snake, camel in [("exists", "Exists"), ("makedirs", "MakeDirs"), ("mkdir", "MkDir"),
                         ("rmtree", "DeleteRecursively"), ("remove", "Remove"), ("glob", "Glob"),
                         ("isdir", "IsDirectory"), ("listdir", "ListDirectory"), ("copy", "Copy"),
                         ("rename", "Rename"), ("stat", "Stat"), ("walk", "Walk")]:
        assert getattr(G, snake) is getattr(G, camel)


def test_reading(root: Path) -> None:
    # TF: size 8; tell 0; read(2) 'l1'; tell 2; readline '\n'; readlines ['l2\n', 'l3']; read() ''
    f = G.GFile("a.txt")
    assert (f.size(), f.tell(), f.read(2), f.tell(), f.readline(), f.readlines(), f.read()) == \
        (8, 0, "l1", 2, "\n", ["l2\n", "l3"], "")
    assert list(G.GFile("a.txt")) == ["l1\n", "l2\n", "l3"]
    assert G.GFile("a.txt", "rb").read() == b"l1\nl2\nl3"
    assert G.GFile("a.txt", "rb").readline() == b"l1\n"
    f = G.GFile("a.txt")
    f.seek(3)
    assert f.read() == "l2\nl3"


def test_writing_appending_and_lazy_open(root: Path) -> None:
    with G.GFile("b.bin", "wb") as f:
        f.write(b"\x00\x01")
    with G.GFile("b.bin", "a") as f:
        f.write("X")
    assert (root / "b.bin").read_bytes() == b"\x00\x01X"
    G.GFile("empty", "w").close()  # TF: opened at the first write, so nothing is created
    assert not os.path.exists("empty")


def test_file_errors(root: Path) -> None:
    G.MkDir("d")
    cases = [
        (lambda: G.GFile("none").read(), tf.errors.NotFoundError, "none; No such file or directory"),
        (lambda: G.GFile("none", "rb").read(), tf.errors.NotFoundError, "none; No such file or directory"),
        (lambda: G.GFile("d").read(), tf.errors.FailedPreconditionError, "d; Is a directory"),
        (lambda: G.GFile("a.txt").write("x"), tf.errors.PermissionDeniedError, "File isn't open for writing"),
        (lambda: G.GFile("a.txt", "w").read(), tf.errors.PermissionDeniedError, "File isn't open for reading"),
        (lambda: G.GFile("a.txt", "x"), tf.errors.InvalidArgumentError,
         "mode is not 'r' or 'w' or 'a' or 'r+' or 'w+' or 'a+'"),
        (lambda: G.Remove("none"), tf.errors.NotFoundError, "none; No such file or directory"),
        (lambda: G.Remove("d"), tf.errors.FailedPreconditionError, "d; Is a directory"),
        (lambda: G.DeleteRecursively("none"), tf.errors.NotFoundError, "none not found"),
        (lambda: G.ListDirectory("none"), tf.errors.NotFoundError, "Could not find directory none"),
        (lambda: G.ListDirectory("a.txt"), tf.errors.NotFoundError, "Could not find directory a.txt"),
        (lambda: G.Stat("none"), tf.errors.NotFoundError, "none; No such file or directory"),
        (lambda: G.MkDir("x/y"), tf.errors.NotFoundError, "x/y; No such file or directory"),
        (lambda: G.Copy("none", "c"), tf.errors.NotFoundError, "none; No such file or directory"),
        (lambda: G.Copy("a.txt", "a.txt"), tf.errors.AlreadyExistsError, "file already exists"),
    ]
    for call, cls, message in cases:
        with pytest.raises(cls) as info:
            call()
        assert str(info.value) == message


def test_permission_error_maps_to_permission_denied(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: str) -> None:
        raise PermissionError(13, "Permission denied", path)
    monkeypatch.setattr(os, "remove", refuse)  # root ignores file modes, so the OS error is staged
    with pytest.raises(tf.errors.PermissionDeniedError, match=r"^a.txt; Permission denied$"):
        G.Remove("a.txt")


def test_directories(root: Path) -> None:
    assert not G.Exists("d") and not G.IsDirectory("d")
    G.MkDir("d")
    G.MkDir("d")  # TF 2: an existing directory is fine
    G.MakeDirs("d/e/f")
    G.MakeDirs("d/e/f")
    with G.GFile("d/e/x", "w") as f:
        f.write("1")
    assert G.IsDirectory("d") and not G.IsDirectory("a.txt") and G.Exists("a.txt")
    assert sorted(G.ListDirectory(".")) == ["a.txt", "d"]
    assert list(G.Walk("d")) == [("d", ["e"], []), ("d/e", ["f"], ["x"]), ("d/e/f", [], [])]
    assert list(G.Walk("d", in_order=False)) == [("d/e/f", [], []), ("d/e", ["f"], ["x"]), ("d", ["e"], [])]
    assert list(G.Walk("none")) == []
    st = G.Stat("a.txt")
    assert (st.length, st.is_directory, G.Stat("d").is_directory) == (8, False, True)
    assert st.mtime_nsec == os.stat("a.txt").st_mtime_ns
    G.DeleteRecursively("d")
    assert not G.Exists("d")


def test_copy_rename_glob(root: Path) -> None:
    G.Copy("a.txt", "b.txt")
    with pytest.raises(tf.errors.AlreadyExistsError, match="file already exists"):
        G.Copy("a.txt", "b.txt")
    G.Copy("a.txt", "b.txt", overwrite=True)
    with pytest.raises(tf.errors.AlreadyExistsError, match="file already exists"):
        G.Rename("a.txt", "b.txt")
    G.Rename("b.txt", "c.txt")
    assert sorted(G.Glob("*.txt")) == ["a.txt", "c.txt"] and G.Glob("zz*") == []
    G.Rename("c.txt", "a.txt", overwrite=True)
    assert G.ListDirectory(".") == ["a.txt"]
    G.DeleteRecursively("a.txt")  # TF: a plain file is deleted too
    assert not G.Exists("a.txt")


def test_remote_schemes_are_refused_by_name(root: Path) -> None:
    with pytest.raises(tf.errors.UnimplementedError, match=r"scheme 'gs' not implemented \(file: 'gs://b/x'\)"):
        G.Exists("gs://b/x")
    with pytest.raises(tf.errors.UnimplementedError, match="hdfs"):
        G.GFile("hdfs://h/x")
    assert G.GFile(f"file://{root}/a.txt").read() == "l1\nl2\nl3"
