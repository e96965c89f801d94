"""tf.flags / tf.app.flags: parsing, values, errors, validators, each on a fresh FlagValues.

Expectations are TF 2.21's (absl's FlagValues under tf.compat.v1.flags) for the same calls.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import gpugraph as tf

flags = tf.flags


@pytest.fixture()
def fv() -> flags.FlagValues:
    values = flags.FlagValues()
    flags.DEFINE_string("data", None, "Data dir.", flag_values=values)
    flags.DEFINE_bool("b", True, "B.", flag_values=values)
    flags.DEFINE_integer("k", 1, "K.", lower_bound=0, flag_values=values)
    flags.DEFINE_float("lr", 0.5, "LR.", flag_values=values)
    flags.DEFINE_list("l", [], "L.", flag_values=values)
    flags.DEFINE_multi_string("tag", ["x"], "Tags.", flag_values=values)
    flags.DEFINE_enum("mode", "train", ["train", "eval"], "Mode.", flag_values=values)
    return values


def test_app_flags_is_tf_flags() -> None:
    # TF: tf.app.flags is tf.flags
    assert tf.app.flags is tf.flags
    assert tf.compat.v1.flags is tf.flags


def test_parse_returns_program_and_positionals(fv: flags.FlagValues) -> None:
    # TF: FLAGS(["prog", "--data=/d", "pos", "--nob"]) -> ['prog', 'pos']; data '/d', b False
    args = ["prog", "--data=/d", "pos", "--nob", "-k", "4", "--lr=1e-3", "--l=", "--mode", "eval"]
    assert fv(args) == ["prog", "pos"]
    assert (fv.data, fv.b, fv.k, fv.lr, fv.l, fv.mode) == ("/d", False, 4, 1e-3, [], "eval")
    assert fv.is_parsed()
    assert fv.flag_values_dict() == {"data": "/d", "b": False, "k": 4, "lr": 1e-3, "l": [], "tag": ["x"],
                                     "mode": "eval"}


@pytest.mark.parametrize("arg, value", [("--b", True), ("--nob", False), ("--b=false", False), ("--b=0", False),
                                        ("--b=True", True), ("--b=t", True)])
def test_boolean_spellings(fv: flags.FlagValues, arg: str, value: bool) -> None:
    fv.b = not value
    fv(["prog", arg])
    assert fv.b is value


def test_multi_string_replaces_default_then_accumulates(fv: flags.FlagValues) -> None:
    # TF: default ['x']; --tag a --tag b -> ['a', 'b']
    fv(["prog", "--tag", "a", "--tag=b"])
    assert fv.tag == ["a", "b"]


def test_unknown_flag(fv: flags.FlagValues) -> None:
    # TF: FLAGS(["prog", "--zzz=1"]) raises UnrecognizedFlagError("Unknown command line flag 'zzz'");
    # with known_only=True the flag is handed back
    with pytest.raises(flags.UnrecognizedFlagError, match="Unknown command line flag 'zzz'"):
        fv(["prog", "--zzz=1"])
    assert fv(["prog", "p", "--zzz=1"], known_only=True) == ["prog", "--zzz=1", "p"]


@pytest.mark.parametrize("arg, message", [
    ("--k=-1", "flag --k=-1: -1 is not a non-negative integer"),
    ("--k=1.5", "flag --k=1.5: invalid literal for int() with base 10: '1.5'"),
    ("--mode=bad", "flag --mode=bad: value should be one of <train|eval>"),
])
def test_illegal_values(fv: flags.FlagValues, arg: str, message: str) -> None:
    with pytest.raises(flags.IllegalFlagValueError) as info:
        fv(["prog", arg])
    assert str(info.value) == message


def test_missing_value(fv: flags.FlagValues) -> None:
    # TF: absl.flags.Error("Missing value for flag --k")
    with pytest.raises(flags.Error, match="Missing value for flag --k"):
        fv(["prog", "--k"])


def test_duplicate_definition(fv: flags.FlagValues) -> None:
    # TF: DuplicateFlagError "The flag 'data' is defined twice. First from ..., second from ...
    # Description from first occurrence: Data dir."
    with pytest.raises(flags.DuplicateFlagError, match="The flag 'data' is defined twice.*Data dir."):
        flags.DEFINE_string("data", "x", "again", flag_values=fv)


def test_bad_default_is_rejected_at_definition(fv: flags.FlagValues) -> None:
    # TF: DEFINE_integer('j', 'x', ...) -> IllegalFlagValueError "flag --j=x: invalid literal for int() ..."
    with pytest.raises(flags.IllegalFlagValueError, match="flag --j=x: invalid literal for int"):
        flags.DEFINE_integer("j", "x", "J", flag_values=fv)


def test_flag_objects_and_assignment(fv: flags.FlagValues) -> None:
    # TF: FLAGS['data'].value / .default / .help; 'data' in FLAGS; FLAGS.nonexist -> AttributeError
    fv(["prog", "--data=/d"])
    assert (fv["data"].value, fv["data"].default, fv["data"].help) == ("/d", None, "Data dir.")
    assert "data" in fv and "nonexist" not in fv
    with pytest.raises(AttributeError):
        fv.nonexist
    fv.b = False
    assert fv.b is False


def test_required_flag_checked_at_parse(fv: flags.FlagValues) -> None:
    flags.mark_flag_as_required("data", flag_values=fv)
    with pytest.raises(flags.IllegalFlagValueError,
                       match=r"flag --data=None: Flag --data must have a value other than None\."):
        fv(["prog"])
    fv(["prog", "--data=/x"])
    assert fv.data == "/x"


def test_validator(fv: flags.FlagValues) -> None:
    flags.register_validator("k", lambda v: v % 2 == 0, message="k must be even", flag_values=fv)
    with pytest.raises(flags.IllegalFlagValueError, match="flag --k=3: k must be even"):
        fv(["prog", "--k=3"])


def test_reading_before_parsing_parses_sys_argv(tmp_path) -> None:
    # TF's FLAGS wrapper: the first read parses sys.argv, ignoring unknown flags, so a script that never
    # calls tf.app.run still sees its command-line values
    script = tmp_path / "lazy.py"
    script.write_text(textwrap.dedent('''
        import gpugraph as tf
        tf.flags.DEFINE_integer("n", 1, "N.")
        print(tf.flags.FLAGS.n, tf.flags.FLAGS.is_parsed())
    '''))
    out = subprocess.run([sys.executable, str(script), "--other=1", "--n=5"], capture_output=True, text=True,
                         timeout=60)
    assert out.stdout.strip() == "5 True", out.stderr
