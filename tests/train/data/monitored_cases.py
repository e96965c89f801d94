"""Training loops under MonitoredTrainingSession, run by TensorFlow (reference) and by gpugraph (test).

Each case is a list of phases; a phase builds the graph in a fresh default graph, trains in
``<root>/ckpt`` and returns what happened. ``tf`` is ``tensorflow.compat.v1`` or ``gpugraph``.
"""

from __future__ import annotations

from typing import Any, Callable


def build(tf: Any) -> tuple[Any, Any, Any]:
    w = tf.Variable(1.0, name="w")
    gs = tf.train.get_or_create_global_step()
    loss = tf.square(w - 3.0, name="loss")
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=gs)
    tf.summary.scalar("loss", loss)
    return train, loss, gs


def recorder(tf: Any, log: list, name: str, stop_after_runs: int | None = None) -> Any:
    """A hook that writes every call it gets into ``log`` (and may ask to stop)."""

    class Recorder(tf.train.SessionRunHook):
        def __init__(self) -> None:
            self.runs = 0

        def begin(self) -> None:
            self.gs = tf.train.get_global_step()
            log.append([name, "begin"])

        def after_create_session(self, session: Any, coord: Any) -> None:
            log.append([name, "after_create_session", int(session.run(self.gs))])

        def before_run(self, run_context: Any) -> Any:
            log.append([name, "before_run"])
            return tf.train.SessionRunArgs({"step": self.gs})

        def after_run(self, run_context: Any, run_values: Any) -> None:
            self.runs += 1
            log.append([name, "after_run", sorted(run_values.results)])
            if stop_after_runs is not None and self.runs >= stop_after_runs:
                run_context.request_stop()

        def end(self, session: Any) -> None:
            log.append([name, "end", int(session.run(self.gs))])

    return Recorder()


def _loop(tf: Any, sess: Any, train: Any, out: dict, raise_after: int | None = None) -> dict:
    out["runs"] = 0
    while not sess.should_stop():
        if raise_after is not None and out["runs"] >= raise_after:
            raise tf.errors.OutOfRangeError(None, None, "End of sequence")
        sess.run(train)
        out["runs"] += 1
    return out


def steps_phase(**kwargs: Any) -> Callable[[Any, str], dict]:
    """A training loop to a StopAtStepHook with two recording hooks; kwargs go to MonitoredTrainingSession."""
    stop = kwargs.pop("stop")

    def phase(tf: Any, root: str) -> dict:
        train, _, gs = build(tf)
        log: list = []
        hooks = [tf.train.StopAtStepHook(**stop), recorder(tf, log, "user")]
        with tf.train.MonitoredTrainingSession(checkpoint_dir=root + "/ckpt", hooks=hooks,
                                               chief_only_hooks=[recorder(tf, log, "chief")], **kwargs) as sess:
            out = _loop(tf, sess, train, {})
        out["calls"] = log
        return out

    phase.__name__ = "steps_phase"
    return phase


def out_of_range_phase(tf: Any, root: str) -> dict:
    """The input runs out after 4 runs: the with-block ends quietly, hooks' end() runs, a final checkpoint."""
    train, _, gs = build(tf)
    log: list = []
    out: dict = {}
    with tf.train.MonitoredTrainingSession(checkpoint_dir=root + "/ckpt", save_checkpoint_steps=100,
                                           hooks=[recorder(tf, log, "user")]) as sess:
        _loop(tf, sess, train, out, raise_after=4)
    out["calls"] = log
    return out


def request_stop_phase(tf: Any, root: str) -> dict:
    train, _, gs = build(tf)
    log: list = []
    with tf.train.MonitoredTrainingSession(checkpoint_dir=root + "/ckpt", save_checkpoint_steps=2,
                                           hooks=[recorder(tf, log, "user", stop_after_runs=3)]) as sess:
        out = _loop(tf, sess, train, {})
    out["calls"] = log
    return out


def logging_phase(tf: Any, root: str) -> dict:
    """LoggingTensorHook every 3 iterations, and one at the end with a formatter."""
    train, loss, gs = build(tf)
    hooks = [tf.train.StopAtStepHook(num_steps=7),
             tf.train.LoggingTensorHook({"loss": loss, "step": gs}, every_n_iter=3),
             tf.train.LoggingTensorHook(["loss"], at_end=True, formatter=lambda v: f"final = {v['loss']:.4f}")]
    with tf.train.MonitoredTrainingSession(hooks=hooks, log_step_count_steps=None) as sess:
        out = _loop(tf, sess, train, {})
    return out


def nan_phase(fail: bool) -> Callable[[Any, str], dict]:
    def phase(tf: Any, root: str) -> dict:
        w = tf.Variable(1.0, name="w")
        gs = tf.train.get_or_create_global_step()
        loss = tf.sqrt(w - 3.0)  # NaN
        train = tf.assign_add(gs, 1)
        hooks = [tf.train.NanTensorHook(loss, fail_on_nan_loss=fail), tf.train.StopAtStepHook(last_step=5)]
        out: dict = {}
        try:
            with tf.train.MonitoredTrainingSession(hooks=hooks, log_step_count_steps=None) as sess:
                _loop(tf, sess, train, out)
        except Exception as e:  # noqa: BLE001 - the error is the result
            out["error"] = [type(e).__name__, str(e)]
        return out

    phase.__name__ = "nan_phase"
    return phase


CASES: dict[str, list[Callable[[Any, str], dict]]] = {
    "steps_then_resume": [
        steps_phase(stop={"last_step": 10}, save_checkpoint_steps=3, save_summaries_steps=2,
                    log_step_count_steps=4),
        steps_phase(stop={"num_steps": 5}, save_checkpoint_steps=3, save_summaries_steps=2,
                    log_step_count_steps=4),
    ],
    "defaults": [steps_phase(stop={"last_step": 7})],
    "many_checkpoints": [steps_phase(stop={"last_step": 9}, save_checkpoint_steps=1, save_summaries_steps=None,
                                     log_step_count_steps=None)],
    "summary_steps_3": [steps_phase(stop={"last_step": 8}, save_checkpoint_steps=5, save_summaries_steps=3,
                                    log_step_count_steps=2)],
    "out_of_range": [out_of_range_phase],
    "request_stop": [request_stop_phase],
    "logging": [logging_phase],
    "nan_fails": [nan_phase(True)],
    "nan_stops": [nan_phase(False)],
}


def _stop_hook(**kwargs: Any) -> Callable[[Any], Any]:
    return lambda tf: tf.train.StopAtStepHook(**kwargs)


ERROR_CASES: dict[str, Callable[[Any], Any]] = {
    "stop_none": _stop_hook(),
    "stop_both": _stop_hook(num_steps=1, last_step=2),
    "stop_negative": _stop_hook(num_steps=-1),
    "timer_none": lambda tf: tf.train.SecondOrStepTimer(),
    "timer_both": lambda tf: tf.train.SecondOrStepTimer(every_secs=1, every_steps=1),
    "checkpoint_none": lambda tf: tf.train.CheckpointSaverHook("/tmp/x"),
    "checkpoint_both": lambda tf: tf.train.CheckpointSaverHook("/tmp/x", save_secs=1, save_steps=1),
    "summary_no_op": lambda tf: tf.train.SummarySaverHook(save_steps=1, output_dir="/tmp/x"),
    "logging_none": lambda tf: tf.train.LoggingTensorHook({"a": "a"}),
    "logging_zero": lambda tf: tf.train.LoggingTensorHook({"a": "a"}, every_n_iter=0),
    "nan_message": lambda tf: (_ for _ in ()).throw(tf.train.NanLossDuringTrainingError()),
    "stop_no_global_step": lambda tf: tf.train.StopAtStepHook(num_steps=1).begin(),
}
