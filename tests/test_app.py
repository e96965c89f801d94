"""tf.app.run on small scripts in a subprocess: argv handed to main, exit codes, --help, flag errors.

Every expectation is what TF 2.21's tf.compat.v1.app.run (absl underneath) does with the same script.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import gpugraph as tf

SCRIPT = textwrap.dedent('''
    import gpugraph as tf

    tf.app.flags.DEFINE_string("name", "world", "Who to greet.")
    tf.app.flags.DEFINE_integer("n", 3, "How many.")
    tf.app.flags.DEFINE_boolean("loud", False, "Shout.")
    tf.app.flags.DEFINE_float("lr", 0.1, "Learning rate.")
    tf.app.flags.DEFINE_enum("mode", "train", ["train", "eval"], "Mode.")
    tf.app.flags.DEFINE_list("layers", "a,b", "Layers.")
    tf.app.flags.DEFINE_multi_string("tag", [], "Tags.")
    FLAGS = tf.app.flags.FLAGS


    def main(argv):
        print("argv", argv[1:])
        print("vals", FLAGS.name, FLAGS.n, FLAGS.loud, FLAGS.lr, FLAGS.mode, FLAGS.layers, FLAGS.tag)
        return FLAGS.n if FLAGS.n > 5 else None


    if __name__ == "__main__":
        tf.app.run()
''')


@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("app") / "prog.py"
    path.write_text(SCRIPT)
    return path


def run(script: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, script.name, *args], cwd=script.parent, capture_output=True, text=True,
                          timeout=60)


def test_help_prints_each_flag_and_exits_1(script: Path) -> None:
    # TF 2.21 prints exactly this to stdout for --help and exits with status 1 (absl's choice)
    out = run(script, "--help")
    assert out.returncode == 1
    assert out.stdout == textwrap.dedent('''
               USAGE: prog.py [flags]
        flags:

        prog.py:
          --layers: Layers.
            (default: 'a,b')
            (a comma separated list)
          --[no]loud: Shout.
            (default: 'false')
          --lr: Learning rate.
            (default: '0.1')
            (a number)
          --mode: <train|eval>: Mode.
            (default: 'train')
          --n: How many.
            (default: '3')
            (an integer)
          --name: Who to greet.
            (default: 'world')
          --tag: Tags.;
            repeat this option to specify a list of values
            (default: '[]')

        Try --helpfull to get a list of all flags.
        ''')


def test_parsed_flags_interleaved_with_positionals_and_unknown_flags_left_for_main(script: Path) -> None:
    # TF: `prog.py x --name=bob --n 7 --loud --foo=1 --lr=2 --tag a --tag b --layers x,y --mode eval`
    # -> main gets ['prog.py', '--foo=1', 'x'] (TF's app.run parses with known_only: unknown flags first,
    # then positionals), and sys.exit(main(argv)) exits with main's value 7
    out = run(script, "x", "--name=bob", "--n", "7", "--loud", "--foo=1", "--lr=2", "--tag", "a", "--tag", "b",
              "--layers", "x,y", "--mode", "eval")
    assert out.returncode == 7, out.stderr
    assert out.stdout.splitlines() == ["argv ['--foo=1', 'x']", "vals bob 7 True 2.0 eval ['x', 'y'] ['a', 'b']"]


# --- in this process, on a fresh flag registry: the same program's other runs ---
@pytest.fixture()
def program(monkeypatch: pytest.MonkeyPatch):
    """The flags of SCRIPT on a fresh FLAGS, and its main; returns a function running tf.app.run(main, argv)."""
    monkeypatch.setattr(tf.flags, "FLAGS", tf.flags.FlagValues())
    namespace: dict = {}
    exec(compile(SCRIPT, "prog.py", "exec"), namespace)  # __name__ is not "__main__": defines, does not run

    def go(*args: str) -> int:
        with pytest.raises(SystemExit) as done:
            tf.app.run(namespace["main"], argv=["prog.py", *args])
        return done.value.code
    return go


def test_defaults_and_main_returning_none_exits_0(program, capsys: pytest.CaptureFixture) -> None:
    assert program() is None  # sys.exit(None): status 0
    assert capsys.readouterr().out.splitlines() == ["argv []", "vals world 3 False 0.1 train ['a', 'b'] []"]


def test_double_dash_ends_flags_and_is_kept(program, capsys: pytest.CaptureFixture) -> None:
    # TF: `prog.py --noloud -- --n=2` -> argv ['prog.py', '--', '--n=2'], n stays 3
    assert program("--noloud", "--", "--n=2") is None
    assert capsys.readouterr().out.splitlines() == ["argv ['--', '--n=2']",
                                                    "vals world 3 False 0.1 train ['a', 'b'] []"]


@pytest.mark.parametrize("arg, message", [
    ("--n=abc", "flag --n=abc: invalid literal for int() with base 10: 'abc'"),
    ("--mode=bad", "flag --mode=bad: value should be one of <train|eval>"),
    ("--loud=maybe", "flag --loud=maybe: ('Non-boolean argument to boolean flag', 'maybe')"),
])
def test_bad_flag_value_exits_1_with_absl_message(program, capsys: pytest.CaptureFixture, arg: str,
                                                  message: str) -> None:
    # TF raises absl's IllegalFlagValueError with this message (exit status 1); main never runs
    assert program(arg) == 1
    out = capsys.readouterr()
    assert out.out == ""
    assert f"FATAL Flags parsing error: {message}" in out.err


def test_required_flag_missing_exits_1(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    # TF: a required flag left unset fails with "flag --data=None: Flag --data must have a value other
    # than None." (status 1); with it set, main gets the program name and the positionals
    monkeypatch.setattr(tf.flags, "FLAGS", tf.flags.FlagValues())
    tf.flags.DEFINE_string("data", None, "Data dir.")
    tf.flags.mark_flag_as_required("data")
    seen = []
    with pytest.raises(SystemExit) as done:
        tf.app.run(lambda argv: seen.append((argv, tf.flags.FLAGS.data)), argv=["req.py"])
    assert done.value.code == 1 and not seen
    assert "flag --data=None: Flag --data must have a value other than None." in capsys.readouterr().err
    with pytest.raises(SystemExit) as done:
        tf.app.run(lambda argv: seen.append((argv, tf.flags.FLAGS.data)), argv=["req.py", "--data=/d", "pos"])
    assert done.value.code is None
    assert seen == [(["req.py", "pos"], "/d")]
