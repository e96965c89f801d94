"""tf.Assert, tf.Print, tf.print: TensorFlow's text (reference data) and run-time behaviour."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

import gpugraph as tf

DATA = Path(__file__).resolve().parent / "data"
_spec = importlib.util.spec_from_file_location("debug_cases", DATA / "debug_cases.py")
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)
REFERENCE = json.loads((DATA / "debug_reference.json").read_text())["cases"]


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()


@pytest.mark.parametrize("key", sorted(REFERENCE))
def test_text_matches_tensorflow(key: str, capsys: pytest.CaptureFixture[str]) -> None:
    name, summarize = key.split("/")
    summarize = None if summarize == "None" else int(summarize)
    dtype = cases.VALUES[name][1]
    p = tf.placeholder(tf.string if dtype == "string" else tf.as_dtype(dtype), name="p")
    check = tf.Assert(tf.constant(False), ["note", p], summarize=summarize)
    printed = tf.Print(tf.constant(0), [p, "x"], message="msg: ", summarize=summarize)
    v2 = tf.print("v2:", p, {"k": p}, summarize=summarize, output_stream=sys.stdout)
    feed = {p: cases.feed_value(name)}
    want = REFERENCE[key]
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(check, feed)
        assert info.value.message.split("\n")[0] == want["assert"]
        capsys.readouterr()
        assert sess.run(printed, feed) == 0
        assert capsys.readouterr().err == want["Print"]
        sess.run(v2, feed)
        assert capsys.readouterr().out == want["print"]


def test_assert_passes_and_names_its_op() -> None:
    x = tf.placeholder(tf.float32, name="x")
    check = tf.Assert(tf.reduce_min(x) > 0, [x], name="positive")
    assert (check.type, check.name) == ("Assert", "positive/Assert")
    with tf.control_dependencies([check]):
        y = tf.identity(x)
    with tf.Session() as sess:
        assert sess.run(y, {x: [1.0, 2.0]}).tolist() == [1.0, 2.0]
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"assertion failed: \[-1 2\]") as info:
            sess.run(y, {x: [-1.0, 2.0]})
        assert "positive/Assert" in str(info.value)


def test_assert_condition_must_be_bool() -> None:
    with pytest.raises(TypeError, match="condition"):
        tf.Assert(tf.constant(1.0), ["x"])


def test_print_first_n_and_gradient(capsys: pytest.CaptureFixture[str]) -> None:
    x = tf.constant([1.0, 2.0])
    y = tf.Print(x, [x], message="x=", first_n=2)
    (g,) = tf.gradients(tf.reduce_sum(y * 3.0), [x])
    with tf.Session() as sess:
        for _ in range(3):
            sess.run(y)
        assert capsys.readouterr().err == "x=[1 2]\nx=[1 2]\n"
        assert sess.run(g).tolist() == [3.0, 3.0]


def test_tf_print_defaults_to_stderr_with_sep_and_end(capsys: pytest.CaptureFixture[str]) -> None:
    op = tf.print("a", tf.constant([1, 2]), 3, sep="|", end="!")
    assert op.type == "PrintV2"
    with tf.Session() as sess:
        sess.run(op)
    assert capsys.readouterr().err == "a|[1 2]|3!"


def test_tf_print_rejects_unknown_streams() -> None:
    with pytest.raises(ValueError, match="Unsupported output stream"):
        tf.print("a", output_stream=object())
