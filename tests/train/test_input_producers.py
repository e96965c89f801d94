"""tf.train input producers and batching against TF1's recorded batches and names (data/queue_reference.json)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

import gpugraph as tf

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "data"))

from queue_cases import CASES  # noqa: E402

REFERENCE = json.loads((HERE / "data" / "queue_reference.json").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def graph() -> Iterator[tf.Graph]:
    with tf.Graph().as_default() as g:
        yield g


def _without_resource_ids(result: Any) -> Any:
    """A session numbers its queues in the order they are first run: in a threaded pipeline, any order."""
    text = json.dumps(result, sort_keys=True)
    return json.loads(re.sub(r"'_\d+_", "'_N_", text))


@pytest.mark.parametrize("case", ["batch_of_slices_smaller_final", "batch_of_slices_full_only", "string_pipeline",
                                  "pipeline_names"])
def test_matches_tensorflow(case: str) -> None:
    assert _without_resource_ids(CASES[case](tf)) == _without_resource_ids(REFERENCE[case])


def _drain(fetch: Any) -> list[Any]:
    out = []
    with tf.Session() as sess:
        sess.run([tf.local_variables_initializer(), tf.global_variables_initializer()])
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        try:
            while True:
                out.append(sess.run(fetch))
        except tf.errors.OutOfRangeError:
            pass
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=5)
    return out


def test_shuffle_batch_sees_every_element_once_per_epoch() -> None:
    x = tf.train.slice_input_producer([tf.range(12)], num_epochs=1, shuffle=True, seed=1)[0]
    batch = tf.train.shuffle_batch([x], batch_size=5, capacity=8, min_after_dequeue=3, num_threads=2, seed=2,
                                   allow_smaller_final_batch=True)
    assert batch.shape.as_list() == [None]
    values = np.concatenate(_drain(batch)).tolist()
    assert sorted(values) == list(range(12)) and values != list(range(12))


def test_maybe_batch_keeps_only_the_chosen_elements() -> None:
    x = tf.train.slice_input_producer([tf.range(10)], num_epochs=1, shuffle=False)[0]
    batch = tf.train.maybe_batch([x], tf.equal(x % 2, 0), batch_size=2, allow_smaller_final_batch=True)
    assert np.concatenate(_drain(batch)).tolist() == [0, 2, 4, 6, 8]


def test_batch_enqueue_many_and_dynamic_pad() -> None:
    rows = tf.train.limit_epochs(tf.constant([[1, 2], [3, 4], [5, 6]]), num_epochs=1)
    batch = tf.train.batch([rows], batch_size=2, enqueue_many=True, allow_smaller_final_batch=True)
    assert [b.tolist() for b in _drain(batch)] == [[[1, 2], [3, 4]], [[5, 6]]]


def test_dict_input_gives_a_dict_and_bad_arguments_raise() -> None:
    x = tf.train.slice_input_producer([tf.range(4)], num_epochs=1, shuffle=False)[0]
    out = tf.train.batch({"x": x, "y": x * 2}, batch_size=2)
    assert sorted(out) == ["x", "y"] and out["y"].shape.as_list() == [2]
    with pytest.raises(ValueError, match="capacity 3 must be bigger than min_after_dequeue 3"):
        tf.train.shuffle_batch([x], batch_size=2, capacity=3, min_after_dequeue=3)
    with pytest.raises(ValueError, match="num_epochs must be > 0 not 0"):
        tf.train.limit_epochs(x, num_epochs=0)
    with pytest.raises(ValueError, match="string_input_producer requires a non-null input tensor"):
        tf.train.string_input_producer([])
