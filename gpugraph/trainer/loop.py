"""The training loop of ``gpugraph train``: graph, session, batches, summaries, checkpoints, resume, Ctrl-C."""

from __future__ import annotations

import math
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np

import gpugraph as tf
from gpugraph import errors
from gpugraph.config_files import Settings, session_config
from gpugraph.trainer.data import Dataset, load_dataset
from gpugraph.trainer.distributed import Ranks, StepAgreement, current_ranks, place_on_local_gpu, shard, wrap_optimizer
from gpugraph.trainer.models import Model, build_model, is_classifier

CHECKPOINT_NAME = "model.ckpt"


class TrainError(RuntimeError):
    """Training cannot go on; the message is one line meant for the user."""


class Terminated(SystemExit):
    """SIGTERM stopped training after a checkpoint was saved; the process exits with 128 + 15, as if killed."""

    def __init__(self) -> None:
        super().__init__(128 + signal.SIGTERM)


@dataclass
class TrainResult:
    start_step: int  # the global step training started from (non-zero after a resume)
    step: int  # the global step reached
    total_steps: int
    interrupted: bool
    checkpoint: str | None  # the last checkpoint written or restored
    metrics: dict[str, float] = field(default_factory=dict)  # "train accuracy" -> 0.99...


@dataclass
class _Graph:
    graph: Any
    x: Any
    y: Any
    model: Model
    global_step: Any
    train_op: Any
    summary: Any
    saver: Any
    init: Any
    broadcast: Any = None  # several ranks: rank 0's variables to all
    agreement: StepAgreement | None = None  # several ranks: the global loss, and stopping together


def _optimizer(train: Any, learning_rate: Any, momentum_set: bool) -> Any:
    name = train.optimizer
    if name == "sgd":
        return tf.train.GradientDescentOptimizer(learning_rate)
    if name == "momentum":
        return tf.train.MomentumOptimizer(learning_rate, train.momentum)
    if name == "adam":
        return tf.train.AdamOptimizer(learning_rate)
    if name == "rmsprop":  # TF1's RMSProp has no momentum unless asked for
        return tf.train.RMSPropOptimizer(learning_rate, momentum=train.momentum if momentum_set else 0.0)
    if name == "adagrad":
        return tf.train.AdagradOptimizer(learning_rate)
    return tf.train.AdadeltaOptimizer(learning_rate)


def build_training_graph(settings: Settings, data: Dataset, ranks: Ranks | None = None) -> _Graph:
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(settings.train.seed)
        x = tf.placeholder(tf.float32, [None, data.num_features], name="x")
        y = tf.placeholder(tf.int64 if data.num_classes else tf.float32, [None], name="y")
        model = build_model(settings.model, x, y, data.num_features, data.num_classes)
        global_step = tf.train.get_or_create_global_step()
        t = settings.train
        rate: Any = t.learning_rate
        if t.decay_steps:
            rate = tf.train.exponential_decay(rate, global_step, t.decay_steps, t.decay_rate, staircase=t.staircase)
        optimizer = wrap_optimizer(_optimizer(t, rate, ("train", "momentum") in settings.origin), ranks)
        train_op = optimizer.minimize(model.loss, global_step=global_step)
        agreement = StepAgreement.build(model.loss, ranks) if ranks else None
        broadcast = ranks.hvd.broadcast_global_variables(0) if ranks else None
        summary = tf.summary.merge([tf.summary.scalar(tag, value) for tag, value in model.metrics.items()])
        saver = tf.train.Saver(max_to_keep=settings.output.max_to_keep)
        init = tf.global_variables_initializer()
    return _Graph(graph, x, y, model, global_step, train_op, summary, saver, init, broadcast, agreement)


class _Batches:
    """Batch ``i`` of epoch ``e`` is fixed by the seed, so a resumed run sees the batches it would have seen."""

    def __init__(self, data: Dataset, batch_size: int, seed: int, ranks: Ranks | None = None):
        self.x, self.y = data.x_train, data.y_train
        self.ranks = ranks  # several ranks: each takes its shard of every batch
        self.size = min(batch_size, len(self.x))
        self.per_epoch = math.ceil(len(self.x) / self.size)
        if ranks and 0 < len(self.x) % self.size < ranks.size:  # a last batch too small to give every rank a row
            self.per_epoch -= 1
        self.seed = seed
        self._epoch, self._order = -1, np.arange(0)

    def feed(self, step: int, g: _Graph) -> dict[Any, np.ndarray]:
        epoch, i = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            self._epoch, self._order = epoch, np.random.default_rng([self.seed, epoch]).permutation(len(self.x))
        index = shard(self._order[i * self.size:(i + 1) * self.size], self.ranks)
        return {g.x: self.x[index], g.y: self.y[index]}


class _StopOnInterrupt:
    """The first Ctrl-C or SIGTERM (how containers and schedulers stop jobs) asks the loop to stop after the
    current step (and save); a second one stops at once."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested = False
        self.signal: int | None = None  # the first signal received
        self._previous: dict[int, Any] = {}

    @property
    def requested_here(self) -> bool:
        """This process got the signal (``requested`` may also be set by another rank's)."""
        return self.signal is not None

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signal is not None:
            if signum == signal.SIGTERM:
                raise Terminated
            raise KeyboardInterrupt
        self.requested, self.signal = True, signum

    def __enter__(self) -> _StopOnInterrupt:
        try:
            for signum in self.SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        except ValueError:  # not the main thread: signals cannot be caught here
            pass
        return self

    def __exit__(self, *exc: Any) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)


def total_steps(settings: Settings, per_epoch: int) -> int:
    t = settings.train
    return t.steps if t.steps else (t.epochs or 10) * per_epoch


def _progress(total: int, start: int, enabled: bool, stream: TextIO) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, initial=start, unit="step", desc="train", disable=not enabled, file=stream,
                dynamic_ncols=True, leave=True)


def train(settings: Settings, *, progress: bool | None = None, quiet: bool = False, out: TextIO | None = None,
          err: TextIO | None = None) -> TrainResult:
    """Train the model that ``settings`` describe and print its final metrics, one line each.

    ``progress`` None: a progress bar when ``err`` is a terminal, else a line per checkpoint interval.
    ``quiet``: neither, and no description of the run; the metrics and an interruption are still printed.
    Ctrl-C saves and returns (``interrupted``); SIGTERM saves, then raises ``Terminated`` (exit status 143)."""
    out = out or sys.stdout
    err = err or sys.stderr
    ranks = current_ranks()
    chief = ranks is None or ranks.chief  # restores, checkpoints, logs and prints
    if not chief:
        quiet, progress = True, False
    classifier = is_classifier(settings.model.type)
    data = load_dataset(settings.data, settings.directory, classifier)
    g = build_training_graph(settings, data, ranks)
    batches = _Batches(data, settings.train.batch_size, settings.train.seed, ranks)
    if ranks and batches.size < ranks.size:
        raise TrainError(f"the batch of {batches.size} examples cannot be shared by {ranks.size} ranks; raise "
                         f"[train] batch_size to at least {ranks.size}")
    total = total_steps(settings, batches.per_epoch)
    o = settings.output
    say = (lambda line: None) if quiet else (lambda line: print(line, file=out, flush=True))
    say(f"model: {g.model.description}")
    say(f"data: {data.name}, {len(data.x_train)} training and {len(data.x_test)} test examples")
    t = settings.train
    say(f"optimizer: {t.optimizer}, learning rate {t.learning_rate}"
        + (f" decaying by {t.decay_rate} every {t.decay_steps} steps" if t.decay_steps else "")
        + f", batch {batches.size}, {total} steps ({batches.per_epoch} per epoch)"
        + (f", {ranks.size} ranks" if ranks else ""))
    prefix = os.path.join(o.checkpoint_dir, CHECKPOINT_NAME) if o.checkpoint_dir and chief else None
    config = session_config(settings)
    with tf.Session(graph=g.graph, config=place_on_local_gpu(config, ranks) if ranks else config) as sess:
        say(f"device: {sess.backend.name} ({sess.backend.device})")
        sess.run(g.init)
        checkpoint = _resume(g, sess, o.checkpoint_dir, err) if chief else None
        if ranks:
            sess.run(g.broadcast)
        start = int(sess.run(g.global_step))
        if checkpoint:
            say(f"resumed from {checkpoint} at step {start}")
        writers = _writers(o.logdir if chief else "", g.graph, start if checkpoint else None)
        if start >= total:
            say(f"step {start} already reaches the {total} steps configured; nothing to train")
        enabled = (not quiet and err.isatty()) if progress is None else progress
        step, interrupted, terminated = start, False, False
        try:
            with _StopOnInterrupt() as stop, _progress(total, start, enabled, err) as bar:
                step, checkpoint = _loop(g, sess, batches, settings, writers, data, start, total, prefix, bar,
                                         stop, checkpoint, None if enabled or quiet else err)
                interrupted, terminated = stop.requested, stop.signal == signal.SIGTERM
            if prefix and (interrupted or step > start) and not _saved(checkpoint, step):
                checkpoint = g.saver.save(sess, prefix, global_step=step)
            if interrupted and chief:
                saved = f"checkpoint saved: {checkpoint}" if prefix else "no checkpoint_dir set, nothing saved"
                how = "terminated (SIGTERM)" if terminated else "interrupted"
                print(f"{how} at step {step} of {total}; {saved}", file=err, flush=True)
        finally:
            for writer in writers:
                writer.close()
        if terminated:  # stop now, within the grace period before SIGKILL: no evaluation
            raise Terminated
        metrics = evaluate(g, sess, data) if chief else {}  # the weights are the same on every rank
    for name, value in metrics.items():
        print(f"{name}: {value:.6g}", file=out)
    out.flush()
    return TrainResult(start, step, total, interrupted, checkpoint, metrics)


def _resume(g: _Graph, sess: Any, checkpoint_dir: str, err: TextIO) -> str | None:
    """Restore the newest intact checkpoint the state file lists; a corrupted one is skipped with a warning."""
    if not checkpoint_dir:
        return None
    state = tf.train.get_checkpoint_state(checkpoint_dir)
    listed = [state.model_checkpoint_path, *reversed(state.all_model_checkpoint_paths)] if state else []
    candidates = [p for p in dict.fromkeys(listed) if tf.train.checkpoint_exists(p)]
    if not candidates:
        os.makedirs(checkpoint_dir, exist_ok=True)
        return None
    corrupted: list[str] = []
    for path in candidates:
        try:
            g.saver.restore(sess, path)
        except errors.DataLossError as e:
            print(f"warning: skipping checkpoint {path}: {e}", file=err, flush=True)
            corrupted.append(path)
            continue
        except (errors.OpError, ValueError) as e:
            raise TrainError(f"cannot resume from {path}: {e}; it was written for another model or data, so use "
                             f"another checkpoint_dir to start afresh") from e
        if corrupted:
            print(f"warning: resuming from {path}, the newest intact checkpoint, instead of corrupted "
                  f"{', '.join(corrupted)}", file=err, flush=True)
        assert state is not None
        g.saver.recover_last_checkpoints(list(state.all_model_checkpoint_paths))
        return path
    raise TrainError(f"cannot resume: every checkpoint in {checkpoint_dir} is corrupted ({', '.join(corrupted)}); "
                     f"remove them or use another checkpoint_dir to start afresh")


def _writers(logdir: str, graph: Any, resumed_at: int | None) -> list[Any]:
    if not logdir:
        return []
    writers = [tf.summary.FileWriter(os.path.join(logdir, "train"), graph),
               tf.summary.FileWriter(os.path.join(logdir, "test"))]
    if resumed_at is not None:  # TensorBoard drops the events a killed run wrote after the checkpoint
        start = tf.summary.SessionLog(status=tf.summary.SessionLog.START)
        for writer in writers:
            writer.add_session_log(start, resumed_at + 1)
    return writers


def _saved(checkpoint: str | None, step: int) -> bool:
    return bool(checkpoint) and checkpoint.endswith(f"-{step}")


def _loop(g: _Graph, sess: Any, batches: _Batches, settings: Settings, writers: list[Any], data: Dataset,
          start: int, total: int, prefix: str | None, bar: Any, stop: _StopOnInterrupt, checkpoint: str | None,
          log: TextIO | None) -> tuple[int, str | None]:
    o = settings.output
    fetches = [g.train_op, g.model.loss if g.agreement is None else g.agreement.summed]
    losses: list[float] = []
    shown, since, since_step = time.monotonic(), time.monotonic(), start
    step, agreed = start, False
    while step < total and not (agreed if g.agreement else stop.requested):
        feed = batches.feed(step, g)
        if g.agreement is None:
            _, loss = sess.run(fetches, feed)
        else:  # several ranks stop after the same step, whichever of them got the signal
            feed[g.agreement.stop] = np.float32(stop.requested_here)
            _, summed = sess.run(fetches, feed)
            loss, agreed = g.agreement.read(summed)
            stop.requested = stop.requested or agreed
        step += 1
        losses.append(float(loss))
        bar.update(1)
        if not math.isfinite(losses[-1]):
            raise TrainError(f"the loss became {losses[-1]} at step {step}; lower [train] learning_rate")
        now = time.monotonic()
        if now - shown > 0.25:
            bar.set_postfix(loss=f"{np.mean(losses[-50:]):.4g}", refresh=False)
            shown = now
        if writers and step % o.log_every == 0:
            writers[0].add_summary(sess.run(g.summary, feed), step)
            if len(data.x_test):
                writers[1].add_summary(sess.run(g.summary, {g.x: data.x_test, g.y: data.y_test}), step)
        if step % o.checkpoint_every == 0 or step == total:
            if prefix:
                checkpoint = g.saver.save(sess, prefix, global_step=step)
            if log is not None:
                rate = (step - since_step) / max(now - since, 1e-9)
                note = f", checkpoint {checkpoint}" if prefix else ""
                print(f"step {step}/{total}: loss {np.mean(losses):.4g}, {rate:.0f} steps/s{note}", file=log,
                      flush=True)
            losses, since, since_step = [], now, step
    return step, checkpoint


def evaluate(g: _Graph, sess: Any, data: Dataset) -> dict[str, float]:
    """The model's metrics on the whole training and test parts, named "train loss (MSE)"..."""
    tags = list(g.model.metrics)
    results: dict[str, float] = {}
    for split, x, y in (("train", data.x_train, data.y_train), ("test", data.x_test, data.y_test)):
        if not len(x):
            continue
        values = sess.run([g.model.metrics[t] for t in tags], {g.x: x, g.y: y})
        for tag, value in zip(tags, values):
            results[f"{split} {g.model.labels[tag]}"] = float(value)
    return results
