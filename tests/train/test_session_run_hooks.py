"""The basic SessionRunHooks: argument errors as TensorFlow raises them, timers, listeners, summaries."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

import gpugraph as tf

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "data"))
sys.path.insert(0, str(HERE.parent / "summary"))

from event_reading import accumulate  # noqa: E402
from monitored_cases import ERROR_CASES, build  # noqa: E402

REFERENCE = json.loads((HERE / "data" / "monitored_reference.json").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _close_cached_writers() -> Any:
    yield
    tf.summary.FileWriterCache.clear()


@pytest.mark.parametrize("name", sorted(ERROR_CASES))
def test_argument_errors_match_tensorflow(name: str) -> None:
    with tf.Graph().as_default():
        try:
            ERROR_CASES[name](tf)
            got = None
        except Exception as e:  # noqa: BLE001 - compared with what TensorFlow raised
            got = [type(e).__name__, str(e)]
    assert got == REFERENCE["errors"][name]


def test_second_or_step_timer_by_steps() -> None:
    timer = tf.train.SecondOrStepTimer(every_steps=3)
    assert timer.should_trigger_for_step(5) and timer.last_triggered_step() is None
    assert timer.update_last_triggered_step(5) == (None, None)
    assert [s for s in range(5, 12) if timer.should_trigger_for_step(s)] == [8, 9, 10, 11]
    elapsed_secs, elapsed_steps = timer.update_last_triggered_step(9)
    assert elapsed_steps == 4 and 0 <= elapsed_secs < 5
    assert not timer.should_trigger_for_step(9) and timer.last_triggered_step() == 9


def test_second_or_step_timer_by_seconds() -> None:
    timer = tf.train.SecondOrStepTimer(every_secs=0.05)
    timer.update_last_triggered_step(1)
    assert not timer.should_trigger_for_step(100)
    import time

    time.sleep(0.06)
    assert timer.should_trigger_for_step(2) and not timer.should_trigger_for_step(1)


class _Listener(tf.train.CheckpointSaverListener):
    def __init__(self, stop_at: int | None = None) -> None:
        self.calls: list[tuple] = []
        self.stop_at = stop_at

    def begin(self) -> None:
        self.calls.append(("begin",))

    def before_save(self, session: Any, global_step_value: int) -> None:
        self.calls.append(("before_save", global_step_value))

    def after_save(self, session: Any, global_step_value: int) -> bool:
        self.calls.append(("after_save", global_step_value))
        return global_step_value == self.stop_at

    def end(self, session: Any, global_step_value: int) -> None:
        self.calls.append(("end", global_step_value))


def test_checkpoint_listeners_are_called_around_each_save_and_may_stop(tmp_path: Path) -> None:
    with tf.Graph().as_default():
        train, _, _ = build(tf)
        saver = tf.train.Saver()
        listener = _Listener(stop_at=4)
        hook = tf.train.CheckpointSaverHook(str(tmp_path), save_steps=2, saver=saver, listeners=[listener])
        with tf.train.MonitoredSession(hooks=[hook]) as sess:
            runs = 0
            while not sess.should_stop():
                sess.run(train)
                runs += 1
    assert runs == 4
    assert listener.calls == [("begin",), ("before_save", 0), ("after_save", 0), ("before_save", 2),
                              ("after_save", 2), ("before_save", 4), ("after_save", 4), ("end", 4)]
    assert tf.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "model.ckpt-4")
    assert (tmp_path / "graph.pbtxt").read_text().count('name: "w"') == 1


def test_checkpoint_saver_hook_needs_a_saver(tmp_path: Path) -> None:
    with tf.Graph().as_default():
        build(tf)
        hook = tf.train.CheckpointSaverHook(str(tmp_path), save_steps=1)
        with pytest.raises(RuntimeError, match="No items in collection savers"):
            tf.train.MonitoredSession(tf.train.ChiefSessionCreator(scaffold=tf.train.Scaffold(saver=tf.train.Saver())),
                                      hooks=[hook])
    with pytest.raises(ValueError, match="You cannot provide both saver and scaffold."):
        tf.train.CheckpointSaverHook(str(tmp_path), save_steps=1, saver=object(), scaffold=object())


def test_summary_saver_hook_with_its_own_op_and_step_counter(tmp_path: Path) -> None:
    with tf.Graph().as_default():
        train, loss, _ = build(tf)
        doubled = tf.summary.scalar("doubled", 2.0 * loss, collections=[])
        hooks = [tf.train.SummarySaverHook(save_steps=2, output_dir=str(tmp_path), summary_op=doubled),
                 tf.train.StepCounterHook(every_n_steps=2, output_dir=str(tmp_path)),
                 tf.train.StopAtStepHook(last_step=5)]
        with tf.train.MonitoredSession(hooks=hooks) as sess:
            while not sess.should_stop():
                sess.run(train)
    acc = accumulate(tmp_path)
    # the first run's summary carries the step after it, then every 2 steps (TF1's rule, as in the reference)
    assert [e.step for e in acc.Scalars("doubled")] == [1, 3, 5]
    # (w - 3)^2 * 2 before the run at each step, with w from gradient descent: 8.0 at w = 1
    assert acc.Scalars("doubled")[0].value == pytest.approx(8.0)
    rates = acc.Scalars("global_step/sec")
    assert [e.step for e in rates] == [3, 5] and all(e.value > 0 for e in rates)


def test_hooks_need_a_global_step() -> None:
    for make, name in [(lambda: tf.train.CheckpointSaverHook("/tmp", save_steps=1), "CheckpointSaverHook"),
                       (lambda: tf.train.StepCounterHook(), "StepCounterHook"),
                       (lambda: tf.train.SummarySaverHook(save_steps=1, summary_op=tf.constant("")),
                        "SummarySaverHook")]:
        with tf.Graph().as_default():
            hook = make()
            with pytest.raises(RuntimeError, match=f"Global step should be created to use {name}."):
                hook.begin()


def test_feed_fn_hook_feeds_every_run_and_logging_tensor_names_resolve() -> None:
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [], name="x")
        y = tf.identity(x * 2.0, name="y")
        tf.train.get_or_create_global_step()
        values = iter([1.0, 2.0, 3.0])
        with tf.train.MonitoredSession(hooks=[tf.train.FeedFnHook(lambda: {x: next(values)})]) as sess:
            assert [float(sess.run(y)) for _ in range(3)] == [2.0, 4.0, 6.0]
        hook = tf.train.LoggingTensorHook(["y"], every_n_iter=1)
        hook.begin()
        assert hook._current_tensors == {"y": y}
        with pytest.raises(ValueError, match="should have graph attribute that is equal to current graph"):
            with tf.Graph().as_default():
                tf.train.LoggingTensorHook([y], every_n_iter=1).begin()


def test_nan_loss_error_is_exported_and_is_a_runtime_error() -> None:
    assert issubclass(tf.train.NanLossDuringTrainingError, RuntimeError)
    assert tf.compat.v1.train.NanTensorHook is tf.train.NanTensorHook
