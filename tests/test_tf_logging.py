"""tf.logging: levels, verbosity, the "tensorflow" logger and TF's default stderr format.

Expectations are TF 2.21's tf.compat.v1.logging with the same calls.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import pytest

import gpugraph as tf


def test_levels_are_the_stdlib_levels() -> None:
    # TF: DEBUG 10, INFO 20, WARN 30, ERROR 40, FATAL 50 (WARNING, the stdlib name, is WARN)
    L = tf.logging
    assert (L.DEBUG, L.INFO, L.WARN, L.WARNING, L.ERROR, L.FATAL) == (10, 20, 30, 30, 40, 50)
    assert tf.compat.v1.logging is tf.logging


def test_default_handler_format_and_verbosity_in_a_fresh_process(tmp_path) -> None:
    # TF 2.21 prints exactly these stderr lines for this script (INFO hidden until set_verbosity(INFO);
    # log_every_n(.., 2, i) logs i = 0, 2, 4; FATAL is "CRITICAL" and does not exit)
    script = tmp_path / "log.py"
    script.write_text(textwrap.dedent('''
        import gpugraph as tf
        L = tf.logging
        print(L.get_verbosity())
        L.info("hidden %d", 1)
        L.warning("warn %s", "x")
        L.set_verbosity(L.INFO)
        L.info("shown %d", 2)
        L.warn("old warn")
        L.error("err")
        L.fatal("fat")
        L.log(L.INFO, "log %s", "y")
        L.vlog(L.INFO, "vlog %s", "z")
        for i in range(5):
            L.log_every_n(L.INFO, "every %d", 2, i)
        L.debug("dbg")
        L.set_verbosity(L.DEBUG)
        L.debug("dbg2")
        L.log_if(L.INFO, "cond %s", True, 1)
        L.log_if(L.INFO, "cond %s", False, 2)
        print(L.get_verbosity())
    '''))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["30", "10"]
    assert out.stderr.splitlines() == [
        "WARNING:tensorflow:warn x", "INFO:tensorflow:shown 2", "WARNING:tensorflow:old warn", "ERROR:tensorflow:err",
        "CRITICAL:tensorflow:fat", "INFO:tensorflow:log y", "INFO:tensorflow:vlog z", "INFO:tensorflow:every 0",
        "INFO:tensorflow:every 2", "INFO:tensorflow:every 4", "DEBUG:tensorflow:dbg2", "INFO:tensorflow:cond 1",
    ]


@pytest.fixture()
def info_level():
    previous = tf.logging.get_logger().level
    tf.logging.set_verbosity(tf.logging.INFO)
    yield
    tf.logging.get_logger().setLevel(previous)


def test_records_go_to_the_tensorflow_logger_with_the_callers_line(info_level, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        tf.logging.info("step %d", 3)
    (record,) = [r for r in caplog.records if r.name == "tensorflow"]
    assert record.getMessage() == "step 3" and record.levelno == tf.logging.INFO
    assert record.filename == "test_tf_logging.py"  # the caller, not gpugraph's module


def test_log_first_n_counts_per_call_site(info_level, caplog) -> None:
    # documented TF behaviour: the first n calls from one line are logged (TF 2.21 itself logs none of
    # them when called through tf.compat.v1: its call-site lookup stops in its own module wrapper)
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        for i in range(5):
            tf.logging.log_first_n(tf.logging.INFO, "first %d", 2, i)
        tf.logging.log_first_n(tf.logging.INFO, "other line %d", 1, 9)
    assert [r.getMessage() for r in caplog.records] == ["first 0", "first 1", "other line 9"]


def test_bad_verbosity() -> None:
    # TF: set_verbosity("bad") -> ValueError("Unknown level: 'bad'")
    with pytest.raises(ValueError, match="Unknown level: 'bad'"):
        tf.logging.set_verbosity("bad")
