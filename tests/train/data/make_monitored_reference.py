"""Write monitored_reference.json: what TF1's MonitoredTrainingSession and its hooks do on a tiny problem.

Run with a TensorFlow environment (not a gpugraph dependency):
    TF_USE_LEGACY_KERAS=1 python tests/train/data/make_monitored_reference.py

Every case builds the same graph (one variable, loss (w - 3)^2, plain gradient descent with a global
step and a ``loss`` scalar summary), so the test can rebuild it with gpugraph and compare: how many
times the train op ran, the final global step, the checkpoint steps kept in the ``checkpoint`` state,
the steps of the summary and session-log events, the calls the hooks saw, and the log lines.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import tensorflow.compat.v1 as tf  # noqa: E402

from monitored_cases import CASES, ERROR_CASES  # noqa: E402

tf.disable_v2_behavior()


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _events(logdir: str) -> dict:
    """Per summary tag, the event steps; and the session-log (status, step) pairs, in file order."""
    from tensorflow.core.util import event_pb2

    tags: dict[str, list[int]] = {}
    session_logs: list[list] = []
    for path in sorted(Path(logdir).glob("*tfevents*")):
        for record in tf.io.tf_record_iterator(str(path)):
            event = event_pb2.Event.FromString(record)
            if event.HasField("summary"):
                for value in event.summary.value:
                    tags.setdefault(value.tag, []).append(event.step)
            elif event.HasField("session_log"):
                session_logs.append([event_pb2.SessionLog.SessionStatus.Name(event.session_log.status), event.step])
    return {"tags": tags, "session_logs": session_logs}


def _checkpoint_steps(ckpt_dir: str) -> list[int]:
    state = tf.train.get_checkpoint_state(ckpt_dir)
    if state is None:
        return []
    return [int(p.rsplit("-", 1)[1]) for p in state.all_model_checkpoint_paths]


def main() -> None:
    handler = _Lines()
    logger = logging.getLogger("tensorflow")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    results = {}
    for name, case in CASES.items():
        with tempfile.TemporaryDirectory() as root:
            out = {}
            for phase_index, phase in enumerate(case):
                with tf.Graph().as_default():
                    handler.lines.clear()
                    record = phase(tf, root)
                    tf.summary.FileWriterCache.clear()  # closes the writers: every event is on disk
                    record["log"] = [re.sub(r" \(\d+\.\d+ sec\)$", "", line) for line in handler.lines
                                     if phase.__name__ == "logging_phase" and " = " in line]
                    record["checkpoint_steps"] = _checkpoint_steps(root + "/ckpt")
                    if Path(root + "/ckpt").exists():
                        record["events"] = _events(root + "/ckpt")
                        record["graph_pbtxt"] = Path(root + "/ckpt/graph.pbtxt").exists()
                    out[f"phase{phase_index}"] = record
            results[name] = out
    errors = {}
    for name, build in ERROR_CASES.items():
        with tf.Graph().as_default():
            try:
                build(tf)
                errors[name] = None
            except Exception as e:  # noqa: BLE001 - recorded as TF raised it
                errors[name] = [type(e).__name__, str(e)]
    out = {"tensorflow": tf.__version__, "cases": results, "errors": errors}
    path = HERE / "monitored_reference.json"
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path} ({len(results)} cases)")


if __name__ == "__main__":
    main()
