"""MonitoredTrainingSession against TensorFlow 2.21's tf.compat.v1 (data/monitored_reference.json).

The training loops are in data/monitored_cases.py, run by make_monitored_reference.py under TensorFlow
and here under gpugraph: the number of runs, the hook calls, the checkpoints kept, the summary and
session-log event steps and the logged lines must all be TensorFlow's.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gpugraph as tf

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "data"))
sys.path.insert(0, str(HERE.parent / "summary"))

from event_reading import event_files, events  # noqa: E402
from monitored_cases import CASES, build  # noqa: E402

REFERENCE = json.loads((HERE / "data" / "monitored_reference.json").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _close_cached_writers() -> Any:
    yield
    tf.summary.FileWriterCache.clear()


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _events(logdir: Path) -> dict:
    tags: dict[str, list[int]] = {}
    session_logs: list[list] = []
    for path in event_files(logdir):
        for event in events(path):
            if event.HasField("summary"):
                for value in event.summary.value:
                    if value.tag == "__run_graph__":
                        continue  # TensorBoard's loader shows the graph event as this summary
                    tags.setdefault(value.tag, []).append(event.step)
            elif event.HasField("session_log"):
                status = type(event.session_log).SessionStatus.Name(event.session_log.status)
                session_logs.append([status, event.step])
    return {"tags": tags, "session_logs": session_logs}


def _checkpoint_steps(ckpt_dir: Path) -> list[int]:
    state = tf.train.get_checkpoint_state(str(ckpt_dir))
    return [] if state is None else [int(p.rsplit("-", 1)[1]) for p in state.all_model_checkpoint_paths]


@pytest.mark.parametrize("name", sorted(CASES))
def test_training_loop_matches_tensorflow(name: str, tmp_path: Path) -> None:
    logger = logging.getLogger("tensorflow")
    handler, old_level = _Lines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        for index, phase in enumerate(CASES[name]):
            expected = REFERENCE["cases"][name][f"phase{index}"]
            handler.lines.clear()
            with tf.Graph().as_default():
                got = phase(tf, str(tmp_path))
            tf.summary.FileWriterCache.clear()  # closes the writers, as the reference script does
            got["log"] = [re.sub(r" \(\d+\.\d+ sec\)$", "", line) for line in handler.lines
                          if phase.__name__ == "logging_phase" and " = " in line]
            got["checkpoint_steps"] = _checkpoint_steps(tmp_path / "ckpt")
            if (tmp_path / "ckpt").exists():
                got["events"] = _events(tmp_path / "ckpt")
                got["graph_pbtxt"] = (tmp_path / "ckpt" / "graph.pbtxt").exists()
            assert got == expected, f"phase {index}"
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def _numpy_w(steps: int) -> float:
    """w after ``steps`` of gradient descent (lr 0.1) on (w - 3)^2 from w = 1, in float32."""
    w = np.float32(1.0)
    for _ in range(steps):
        w = np.float32(w - np.float32(0.1) * (np.float32(2.0) * (w - np.float32(3.0))))
    return float(w)


def test_resume_in_a_new_graph_restores_variables_and_the_global_step(tmp_path: Path) -> None:
    ckpt = str(tmp_path)
    with tf.Graph().as_default():
        train, _, _ = build(tf)
        with tf.train.MonitoredTrainingSession(checkpoint_dir=ckpt, save_checkpoint_steps=2,
                                               hooks=[tf.train.StopAtStepHook(last_step=4)]) as sess:
            while not sess.should_stop():
                sess.run(train)
    with tf.Graph().as_default():
        train, _, gs = build(tf)
        w = tf.get_default_graph().get_tensor_by_name("w:0")
        with tf.train.SingularMonitoredSession(checkpoint_dir=ckpt) as sess:
            assert sess.raw_session().run([gs, w]) == [4, pytest.approx(_numpy_w(4), rel=1e-6)]
            sess.run(train)
            assert sess.raw_session().run(w) == pytest.approx(_numpy_w(5), rel=1e-6)


def test_checkpoint_filename_with_path_restores_that_checkpoint(tmp_path: Path) -> None:
    with tf.Graph().as_default():
        train, _, _ = build(tf)
        with tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path), save_checkpoint_steps=1,
                                               hooks=[tf.train.StopAtStepHook(last_step=3)]) as sess:
            while not sess.should_stop():
                sess.run(train)
    with tf.Graph().as_default():
        _, _, gs = build(tf)
        creator = tf.train.ChiefSessionCreator(checkpoint_filename_with_path=str(tmp_path / "model.ckpt-1"))
        with tf.train.MonitoredSession(session_creator=creator) as sess:
            assert sess.run(gs) == 1
    with pytest.raises(ValueError, match="Can not provide both checkpoint_dir and checkpoint_filename_with_path"):
        with tf.Graph().as_default():
            build(tf)
            tf.train.MonitoredSession(tf.train.ChiefSessionCreator(checkpoint_dir=str(tmp_path),
                                                                   checkpoint_filename_with_path="x"))


def test_graph_is_finalized_inside_and_opened_again_after() -> None:
    graph = tf.Graph()
    with graph.as_default():
        train, _, _ = build(tf)
        with tf.train.MonitoredSession() as sess:
            assert sess.graph is graph and graph.finalized
            with pytest.raises(RuntimeError, match="Graph is finalized and cannot be modified."):
                tf.constant(1.0)
            sess.run(train)
        assert not graph.finalized
        tf.constant(1.0)


def test_run_after_a_stop_request_raises_and_close_twice_raises() -> None:
    with tf.Graph().as_default():
        train, _, _ = build(tf)
        sess = tf.train.MonitoredSession(hooks=[tf.train.StopAtStepHook(num_steps=1)])
        sess.run(train)
        assert sess.should_stop()
        with pytest.raises(RuntimeError, match="Run called even after should_stop requested."):
            sess.run(train)
        sess.close()
        assert sess.should_stop()
        with pytest.raises(RuntimeError, match="Session is already closed."):
            sess.close()


class _FetchAndFeed(tf.train.SessionRunHook):
    def __init__(self, fetches: Any, feeds: Any) -> None:
        self.fetches, self.feeds, self.results = fetches, feeds, []

    def before_run(self, run_context: Any) -> Any:
        return tf.train.SessionRunArgs(self.fetches, feed_dict=self.feeds)

    def after_run(self, run_context: Any, run_values: Any) -> None:
        self.results.append(run_values.results)


def test_hooks_fetches_and_feeds_are_merged_into_the_run_and_split_back() -> None:
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [], name="x")
        y = tf.placeholder(tf.float32, [], name="y")
        double_x, triple_y = 2.0 * x, 3.0 * y
        tf.train.get_or_create_global_step()
        hook = _FetchAndFeed({"a": double_x, "b": [triple_y]}, {y: 5.0})
        with tf.train.MonitoredSession(hooks=[hook]) as sess:
            assert sess.run((double_x, triple_y), feed_dict={x: 1.5}) == (3.0, 15.0)
            with pytest.raises(RuntimeError, match="Same tensor is fed by a SessionRunHook and user."):
                sess.run(double_x, feed_dict={x: 1.0, y: 1.0})
        assert hook.results == [{"a": 3.0, "b": [15.0]}]
        with pytest.raises(RuntimeError, match="Same tensor is fed by two hooks."):
            with tf.train.MonitoredSession(hooks=[_FetchAndFeed(None, {y: 1.0}), _FetchAndFeed(None, {y: 2.0})]) as s:
                s.run(double_x, feed_dict={x: 1.0})


def test_an_error_other_than_out_of_range_skips_end_and_propagates() -> None:
    log: list = []

    class Ender(tf.train.SessionRunHook):
        def end(self, session: Any) -> None:
            log.append("end")

    with tf.Graph().as_default():
        train, _, _ = build(tf)
        with pytest.raises(ValueError, match="boom"):
            with tf.train.MonitoredSession(hooks=[Ender()]) as sess:
                sess.run(train)
                raise ValueError("boom")
        with tf.train.MonitoredSession(hooks=[Ender()]) as sess:
            raise StopIteration
    assert log == ["end"]


class _AbortOnce(tf.train.SessionRunHook):
    def __init__(self) -> None:
        self.sessions_created, self.aborted = 0, False

    def after_create_session(self, session: Any, coord: Any) -> None:
        self.sessions_created += 1

    def before_run(self, run_context: Any) -> None:
        if not self.aborted:
            self.aborted = True
            raise tf.errors.AbortedError(None, None, "preempted")


def test_monitored_session_recreates_the_session_after_an_aborted_run() -> None:
    with tf.Graph().as_default():
        _, _, gs = build(tf)
        hook = _AbortOnce()
        with tf.train.MonitoredSession(hooks=[hook]) as sess:
            assert sess.run(gs) == 0
        assert hook.sessions_created == 2
        hook = _AbortOnce()
        with pytest.raises(tf.errors.AbortedError, match="preempted"):
            with tf.train.SingularMonitoredSession(hooks=[hook]) as sess:
                sess.run(gs)


def test_run_step_fn_runs_with_hooks_and_may_stop(tmp_path: Path) -> None:
    with tf.Graph().as_default():
        train, _, gs = build(tf)
        final = tf.train.FinalOpsHook(gs)
        with tf.train.MonitoredSession(hooks=[final, tf.train.GlobalStepWaiterHook(0)]) as sess:
            def step_fn(step_context: Any) -> Any:
                step_context.run_with_hooks(train)
                if step_context.session.run(gs) >= 2:
                    step_context.request_stop()
                return "stepped"

            results = []
            while not sess.should_stop():
                results.append(sess.run_step_fn(step_fn))
        assert results == ["stepped", None]
        assert final.final_ops_values == 2


def test_scaffold_finalize_fills_the_collections_and_reuses_them() -> None:
    with tf.Graph().as_default() as graph:
        build(tf)
        scaffold = tf.train.Scaffold().finalize()
        assert graph.finalized
        for key, value in [(tf.GraphKeys.INIT_OP, scaffold.init_op), (tf.GraphKeys.READY_OP, scaffold.ready_op),
                           (tf.GraphKeys.LOCAL_INIT_OP, scaffold.local_init_op),
                           ("ready_for_local_init_op", scaffold.ready_for_local_init_op),
                           ("summary_op", scaffold.summary_op), (tf.GraphKeys.SAVERS, scaffold.saver)]:
            assert graph.get_collection(key) == [value], key
        again = tf.train.Scaffold().finalize()
        assert again.saver is scaffold.saver and again.init_op is scaffold.init_op
        copy = tf.train.Scaffold(init_fn=lambda scaffold, sess: None, copy_from_scaffold=scaffold)
        assert copy.ready_op is scaffold.ready_op and copy.init_fn is not None
        with pytest.raises(TypeError, match="copy_from_scaffold is not a Scaffold instance."):
            tf.train.Scaffold(copy_from_scaffold=object())
    with tf.Graph().as_default():
        build(tf)
        tf.add_to_collection(tf.GraphKeys.READY_OP, tf.constant(1))
        tf.add_to_collection(tf.GraphKeys.READY_OP, tf.constant(2))
        with pytest.raises(RuntimeError, match='More than one item in the collection "ready_op"'):
            tf.train.Scaffold().finalize()


def test_init_fn_and_ready_op_are_honoured() -> None:
    calls = []
    with tf.Graph().as_default():
        tf.Variable(1.0, name="w")
        scaffold = tf.train.Scaffold(init_fn=lambda scaffold, sess: calls.append(scaffold), init_op=tf.no_op())
        with pytest.raises(RuntimeError, match="Init operations did not make model ready.*Variables not "
                                               "initialized: w"):
            tf.train.MonitoredSession(tf.train.ChiefSessionCreator(scaffold=scaffold))
    assert calls == [scaffold]
    with tf.Graph().as_default():
        w = tf.Variable(1.0, name="w")
        init = tf.global_variables_initializer()
        scaffold = tf.train.Scaffold(init_op=tf.no_op(), init_fn=lambda scaffold, sess: sess.run(init))
        with tf.train.SingularMonitoredSession(scaffold=scaffold) as sess:
            assert sess.run(w) == 1.0
