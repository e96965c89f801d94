"""The rest of absl's flags API under tf.flags: enum-class, multi-enum and space-separated flags, aliases,
hand-made flags, mutual exclusion, set_default/override_value and the text helpers.

Expectations are TF 2.21's (tf.compat.v1.flags, i.e. absl) for the same calls."""

from __future__ import annotations

import enum
import subprocess
import sys
import textwrap

import pytest

import gpugraph as tf

flags = tf.flags


class Color(enum.Enum):
    RED = 1
    BLUE = 2


@pytest.fixture()
def fv() -> flags.FlagValues:
    values = flags.FlagValues()
    flags.DEFINE_string("s", "a", "S.", flag_values=values)
    flags.DEFINE_multi_enum("me", ["x"], ["x", "y", "z"], "ME.", flag_values=values)
    flags.DEFINE_enum_class("color", Color.RED, Color, "Color.", flag_values=values)
    flags.DEFINE_enum_class("color_cs", "BLUE", Color, "Color.", case_sensitive=True, flag_values=values)
    flags.DEFINE_multi_enum_class("colors", [Color.RED], Color, "Colors.", flag_values=values)
    flags.DEFINE_spaceseplist("ssl", "a b", "SSL.", flag_values=values)
    flags.DEFINE_spaceseplist("ssl2", "a,b c", "SSL.", comma_compat=True, flag_values=values)
    flags.DEFINE_multi_integer("mi", [1], "MI.", flag_values=values)
    flags.DEFINE_alias("s_alias", "s", flag_values=values)
    return values


def test_dir_matches_tf_compat_v1_flags() -> None:
    # every public name of dir(tf.compat.v1.flags) in TF 2.21 but its tf_decorator module
    names = ("ArgumentParser ArgumentSerializer BaseListParser BooleanFlag BooleanParser CantOpenFlagFileError "
             "CsvListSerializer DEFINE DEFINE_alias DEFINE_bool DEFINE_boolean DEFINE_enum DEFINE_enum_class "
             "DEFINE_flag DEFINE_float DEFINE_integer DEFINE_list DEFINE_multi DEFINE_multi_enum "
             "DEFINE_multi_enum_class DEFINE_multi_float DEFINE_multi_integer DEFINE_multi_string "
             "DEFINE_spaceseplist DEFINE_string DuplicateFlagError EnumClassFlag EnumClassListSerializer "
             "EnumClassParser EnumClassSerializer EnumFlag EnumParser Error FLAGS Flag FlagHolder "
             "FlagNameConflictsWithMethodError FlagValues FloatParser IllegalFlagValueError IntegerParser ListParser "
             "ListSerializer MultiEnumClassFlag MultiFlag UnparsedFlagAccessError UnrecognizedFlagError "
             "ValidationError WhitespaceSeparatedListParser adopt_module_key_flags declare_key_flag "
             "disclaim_key_flags doc_to_help flag_dict_to_args get_help_width mark_bool_flags_as_mutual_exclusive "
             "mark_flag_as_required mark_flags_as_mutual_exclusive mark_flags_as_required multi_flags_validator "
             "override_value register_multi_flags_validator register_validator set_default text_wrap validator")
    assert [n for n in names.split() if not hasattr(flags, n)] == []
    for name in ("CantOpenFlagFileError", "FlagNameConflictsWithMethodError", "ValidationError"):
        assert issubclass(getattr(flags, name), flags.Error)


def test_new_flag_kinds_parse(fv: flags.FlagValues) -> None:
    # TF: ['p']; ['y', 'z'] Color.BLUE [Color.BLUE, Color.RED] ['q', 'r'] ['a', 'b', 'c'] zz zz [3]
    args = ["p", "--me=y", "--me=z", "--color=blue", "--color_cs=RED", "--colors=BLUE", "--colors=red",
            "--ssl=q  r", "--ssl2=a,b c", "--s_alias=zz", "--mi=3"]
    assert fv(args) == ["p"]
    assert (fv.me, fv.color, fv.color_cs, fv.colors) == (["y", "z"], Color.BLUE, Color.RED, [Color.BLUE, Color.RED])
    assert (fv.ssl, fv.ssl2, fv.s, fv.s_alias, fv.mi) == (["q", "r"], ["a", "b", "c"], "zz", "zz", [3])


@pytest.mark.parametrize("arg, message", [
    ("--me=w", "flag --me=w: value should be one of <x|y|z>"),
    ("--color=GREEN", "flag --color=GREEN: value should be one of <red|blue>"),
    ("--color_cs=red", "flag --color_cs=red: value should be one of <RED|BLUE>"),
])
def test_bad_enum_values(fv: flags.FlagValues, arg: str, message: str) -> None:
    with pytest.raises(flags.IllegalFlagValueError) as info:
        fv(["p", arg])
    assert str(info.value) == message


def test_mutual_exclusion() -> None:
    fv = flags.FlagValues()
    flags.DEFINE_bool("b1", False, "b1", flag_values=fv)
    flags.DEFINE_bool("b2", False, "b2", flag_values=fv)
    x1 = flags.DEFINE_string("x1", None, "x1", flag_values=fv)
    flags.DEFINE_string("x2", None, "x2", flag_values=fv)
    flags.mark_flags_as_mutual_exclusive([x1, "x2"], flag_values=fv)
    flags.mark_bool_flags_as_mutual_exclusive(["b1", "b2"], flag_values=fv)
    with pytest.raises(flags.IllegalFlagValueError) as info:
        fv(["p", "--x1=1", "--x2=2"])
    assert str(info.value) == "flags x1=1, x2=2: At most one of (x1, x2) must have a value other than None."
    fv.unparse_flags()
    with pytest.raises(flags.IllegalFlagValueError) as info:
        fv(["p", "--b1", "--b2"])
    assert str(info.value) == "flags b1=True, b2=True: At most one of (b1, b2) must be True."
    fv.unparse_flags()
    assert fv(["p", "--b1", "--nob2", "--x2=2"]) == ["p"]
    with pytest.raises(flags.ValidationError, match="Flag --x1 is not Boolean"):
        flags.mark_bool_flags_as_mutual_exclusive(["x1", "b1"], flag_values=fv)


def test_required_mutual_exclusion_and_multi_validator() -> None:
    fv = flags.FlagValues()
    flags.DEFINE_string("x1", None, "x1", flag_values=fv)
    flags.DEFINE_string("x2", None, "x2", flag_values=fv)
    flags.mark_flags_as_mutual_exclusive(["x1", "x2"], required=True, flag_values=fv)

    @flags.multi_flags_validator(["x1", "x2"], message="x2 must not be 'bad'", flag_values=fv)
    def _not_bad(values: dict) -> bool:
        return values["x2"] != "bad"

    with pytest.raises(flags.IllegalFlagValueError, match=r"flags x1=None, x2=None: Exactly one of \(x1, x2\)"):
        fv(["p"])
    fv.unparse_flags()
    with pytest.raises(flags.IllegalFlagValueError, match="flags x1=None, x2=bad: x2 must not be 'bad'"):
        fv(["p", "--x2=bad"])


def test_holders_set_default_and_override_value() -> None:
    fv = flags.FlagValues()
    holder = flags.DEFINE_string("s", "a", "S.", flag_values=fv)
    assert isinstance(holder, flags.FlagHolder) and holder.name == "s"
    with pytest.raises(flags.UnparsedFlagAccessError, match="Trying to access flag --s before flags were parsed"):
        holder.value
    fv(["p"])
    flags.set_default(holder, "d")  # TF: value and default both 'd'
    assert (holder.value, holder.default) == ("d", "d")
    fv.s = "set"
    fv.set_default("s", "e")  # TF: a set value stays
    assert holder.value == "set"
    flags.override_value(holder, "ov")  # TF: 'ov', and not counted as given on the command line
    assert holder.value == "ov" and not holder.present
    flags.register_validator("s", lambda v: v != "no", message="not no", flag_values=fv)
    with pytest.raises(flags.IllegalFlagValueError, match="flag --s=no: not no"):
        flags.override_value(holder, "no")
    number = flags.DEFINE_integer("n", 1, "N.", flag_values=fv)
    with pytest.raises(flags.IllegalFlagValueError, match="flag n: parsed value 3 not equal to original '3'"):
        flags.override_value(number, "3")


def test_hand_made_flags_and_parsers() -> None:
    fv = flags.FlagValues()
    flags.DEFINE_flag(flags.Flag(flags.IntegerParser(0, 9), flags.ArgumentSerializer(), "digit", 3, "D."),
                      flag_values=fv)
    flags.DEFINE(flags.BaseListParser(";", "semicolon"), "parts", "a;b", "P.", flag_values=fv)
    flags.DEFINE_multi(flags.FloatParser(), None, "fs", [1.5], "F.", flag_values=fv)
    flags.DEFINE_flag(flags.BooleanFlag("fast", False, "Fast."), flag_values=fv)
    fv(["p", "--digit=7", "--parts=x;y", "--fs=2", "--fs=3.5", "--fast"])
    assert (fv.digit, fv.parts, fv.fs, fv.fast) == (7, ["x", "y"], [2.0, 3.5], True)
    with pytest.raises(flags.IllegalFlagValueError, match="flag --digit=12: 12 is not an integer in the range"):
        fv(["p", "--digit=12"])
    with pytest.raises(flags.FlagNameConflictsWithMethodError, match='named "flag_values_dict"'):
        flags.DEFINE_string("flag_values_dict", "x", "h", flag_values=fv)


def test_text_helpers() -> None:
    # TF: the outputs of absl's helpers for the same arguments
    assert list(flags.flag_dict_to_args({"a": 1, "b": True, "c": False, "d": None, "e": [1, 2], "f": "x"})) == [
        "--a=1", "--b", "--noc", "--d", "--e=1,2", "--f=x"]
    assert list(flags.flag_dict_to_args({"e": [1, 2], "g": (3,)}, multi_flags={"e"})) == ["--e=1", "--e=2", "--g=3"]
    wrapped = flags.text_wrap("The quick brown fox jumps over the lazy dog " * 3, length=30, indent="  ",
                              firstline_indent="* ")
    assert wrapped == ("* The quick brown fox jumps\n  over the lazy dog The quick\n  brown fox jumps over the\n"
                       "  lazy dog The quick brown fox\n  jumps over the lazy dog")
    assert flags.doc_to_help("First line.\n\n    Second para\n    continues here.\n    ") == (
        "First line.\n\nSecond para continues here.")
    assert isinstance(flags.get_help_width(), int) and flags.get_help_width() > 0
    with pytest.raises(ValueError, match="Length of indent exceeds length"):
        flags.text_wrap("x", length=2, indent="   ")


def test_key_flag_calls_are_accepted(tmp_path) -> None:
    # TF1 scripts call these for --helpshort grouping; on the global FLAGS, in a fresh process
    script = tmp_path / "key_flags.py"
    script.write_text(textwrap.dedent('''
        import gpugraph as tf
        flags = tf.app.flags
        holder = flags.DEFINE_integer("n", 1, "N.")
        flags.declare_key_flag("n")
        flags.adopt_module_key_flags(flags)
        flags.disclaim_key_flags()
        try:
            holder.value
        except flags.UnparsedFlagAccessError as e:
            print(e)
        print(flags.FLAGS.n, holder.value)  # reading FLAGS parses sys.argv
    '''))
    out = subprocess.run([sys.executable, str(script), "--n=5"], capture_output=True, text=True, timeout=60)
    assert out.stdout.splitlines() == ["Trying to access flag --n before flags were parsed.", "5 5"], out.stderr
