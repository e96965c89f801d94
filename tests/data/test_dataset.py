"""tf.data pipelines against TensorFlow's element sequences (data/dataset_reference.json)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.data import structure as nest

HERE = Path(__file__).parent / "data"
REFERENCE = json.loads((HERE / "dataset_reference.json").read_text())
_spec = importlib.util.spec_from_file_location("make_dataset_reference", HERE / "make_dataset_reference.py")
pipelines = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pipelines)


def drain(nxt: Any, feed: Any = None, sess: Any = None) -> list[list[np.ndarray]]:
    out = []
    while True:
        try:
            value = sess.run(nxt, feed)
        except tf.errors.OutOfRangeError:
            return out
        out.append([np.asarray(v) for v in nest.flatten(value)])


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_pipeline_matches_tensorflow(name: str) -> None:
    want = REFERENCE[name]
    ds = pipelines.PIPELINES[name](tf)
    assert [t.name for t in nest.flatten(ds.output_types)] == want["types"]
    shapes = [s.as_list() if s.ndims is not None else None for s in nest.flatten(ds.output_shapes)]
    assert shapes == want["shapes"]
    nxt = tf.data.make_one_shot_iterator(ds).get_next()
    assert [t.shape.as_list() for t in nest.flatten(nxt)] == want["shapes"]
    with tf.Session() as sess:
        got = drain(nxt, sess=sess)
    assert len(got) == len(want["elements"])
    for g, w in zip(got, want["elements"]):
        assert len(g) == len(w)
        for value, expected, dtype in zip(g, w, want["types"]):
            assert value.dtype == np.dtype(dtype)
            np.testing.assert_allclose(value, np.asarray(expected, dtype=dtype))


def _shuffled(ds: Any, sess_runs: int = 1) -> list[list[int]]:
    nxt = tf.data.make_one_shot_iterator(ds).get_next()
    runs = []
    for _ in range(sess_runs):
        with tf.Session() as sess:
            runs.append([int(v[0]) for v in drain(nxt, sess=sess)])
    return runs


def test_shuffle_is_a_permutation_within_the_buffer_window() -> None:
    n, buffer = 50, 5
    (order,) = _shuffled(tf.data.Dataset.range(n).shuffle(buffer, seed=3))
    assert sorted(order) == list(range(n))
    assert order != list(range(n))
    for position, value in enumerate(order):
        assert value < position + buffer  # only the first position + buffer inputs can have been drawn


def test_shuffle_buffer_of_one_keeps_order() -> None:
    (order,) = _shuffled(tf.data.Dataset.range(10).shuffle(1, seed=3))
    assert order == list(range(10))


def test_shuffle_reshuffles_each_epoch_unless_told_not_to() -> None:
    (order,) = _shuffled(tf.data.Dataset.range(20).shuffle(20, seed=7).repeat(2))
    assert sorted(order[:20]) == sorted(order[20:]) == list(range(20))
    assert order[:20] != order[20:]
    (fixed,) = _shuffled(tf.data.Dataset.range(20).shuffle(20, seed=7, reshuffle_each_iteration=False).repeat(2))
    assert fixed[:20] == fixed[20:] != list(range(20))


def test_shuffle_seeds_follow_graph_and_op_seeds() -> None:
    same = _shuffled(tf.data.Dataset.range(30).shuffle(30, seed=11), sess_runs=2)
    assert same[0] == same[1]  # a new session replays a seeded order
    other = _shuffled(tf.data.Dataset.range(30).shuffle(30, seed=12))
    assert other[0] != same[0]
    with tf.Graph().as_default():
        tf.set_random_seed(5)
        graph_seeded = _shuffled(tf.data.Dataset.range(30).shuffle(30), sess_runs=2)
    assert graph_seeded[0] == graph_seeded[1]
    unseeded = [_shuffled(tf.data.Dataset.range(30).shuffle(30))[0] for _ in range(2)]
    assert unseeded[0] != unseeded[1]


def test_text_line_dataset_reads_lines(tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(b"first\nsecond\r\n\nlast")
    b.write_bytes(b"x\n")
    ds = tf.data.TextLineDataset([str(a), str(b)])
    assert ds.output_types == tf.string and ds.output_shapes.as_list() == []
    with tf.Session() as sess:
        got = [v[0].item() for v in drain(tf.data.make_one_shot_iterator(ds).get_next(), sess=sess)]
    assert got == [b"first", b"second", b"", b"last", b"x"]


def test_build_time_errors_name_the_problem() -> None:
    with pytest.raises(TypeError, match="int64"):
        tf.data.Dataset.range(5).map(lambda x: x + 1.5)
    with pytest.raises(ValueError, match="predicate"):
        tf.data.Dataset.range(5).filter(lambda x: x)
    with pytest.raises(TypeError, match="Incompatible dataset elements"):
        tf.data.Dataset.range(5).concatenate(tf.data.Dataset.range(3).map(lambda x: tf.cast(x, tf.float32)))
    with pytest.raises(ValueError, match="Dimensions 3 and 4 are not compatible"):
        tf.data.Dataset.from_tensor_slices((np.ones(3), np.ones(4)))


def test_run_time_pipeline_errors_name_the_dataset_op() -> None:
    ds = tf.data.Dataset.from_generator(lambda: iter([[1, 2], [3]]), tf.int32, tf.TensorShape([None])).batch(2)
    nxt = tf.data.make_one_shot_iterator(ds).get_next()
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="BatchDatasetV2.*Cannot batch"):
        sess.run(nxt)
    bad = tf.data.Dataset.from_generator(lambda: iter([[1, 2, 3]]), tf.int32, tf.TensorShape([2]))
    nxt = tf.data.make_one_shot_iterator(bad).get_next()
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="GeneratorDataset.*shape"):
        sess.run(nxt)


def test_map_captures_outer_graph_tensors_once_per_initialisation() -> None:
    scale = tf.placeholder(tf.int64, [])
    ds = tf.data.Dataset.range(3).map(lambda x: x * scale)
    it = tf.data.make_initializable_iterator(ds)
    nxt = it.get_next()
    with tf.Session() as sess:
        sess.run(it.initializer, {scale: 10})
        assert [int(v[0]) for v in drain(nxt, sess=sess)] == [0, 10, 20]
        sess.run(it.initializer, {scale: -1})
        assert [int(v[0]) for v in drain(nxt, sess=sess)] == [0, -1, -2]
