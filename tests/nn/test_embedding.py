"""tf.nn.embedding_lookup, nce_loss and sampled_softmax_loss against TensorFlow-generated data, and training."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from op_testing import run

import gpugraph as tf

REFERENCE = json.loads((Path(__file__).parent / "data" / "embedding_reference.json").read_text(encoding="utf-8"))


def _case_id(case: dict[str, Any]) -> str:
    return "-".join(f"{k}={case[k]}" for k in case if k in ("strategy", "max_norm", "loss", "num_true",
                                                               "remove_accidental_hits", "partitioned"))


@pytest.mark.parametrize("case", REFERENCE["lookup"], ids=_case_id)
def test_embedding_lookup_matches_tensorflow(case: dict[str, Any]) -> None:
    parts = [tf.constant(np.array(p)) for p in case["params"]]
    params = parts if len(parts) > 1 else parts[0]
    out = tf.nn.embedding_lookup(params, case["ids"], partition_strategy=case["strategy"], max_norm=case["max_norm"])
    assert out.shape.as_list() == list(np.shape(case["output"]))
    grads = tf.gradients(tf.reduce_sum(out * np.array(case["out_weights"])), parts)
    value, grad_values = run(out, grads)
    np.testing.assert_allclose(value, case["output"], rtol=1e-12, atol=1e-12)
    for got, want in zip(grad_values, case["grads"]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", REFERENCE["losses"], ids=_case_id)
def test_sampled_losses_match_tensorflow(case: dict[str, Any]) -> None:
    weights_np = np.array(case["weights"])
    w_parts = [tf.constant(weights_np[p::2]) for p in range(2)] if case["partitioned"] else [tf.constant(weights_np)]
    biases, inputs = tf.constant(np.array(case["biases"])), tf.constant(np.array(case["inputs"]))
    sampled_values = (tf.constant(case["sampled"], tf.int64), tf.constant(np.array(case["true_expected_count"])),
                      tf.constant(np.array(case["sampled_expected_count"])))
    loss = getattr(tf.nn, case["loss"])(
        w_parts if case["partitioned"] else w_parts[0], biases, tf.constant(case["labels"], tf.int64), inputs,
        len(case["sampled"]), case["num_classes"], num_true=case["num_true"], sampled_values=sampled_values,
        remove_accidental_hits=case["remove_accidental_hits"])
    assert loss.shape.as_list() == [len(case["labels"])]
    grads = tf.gradients(tf.reduce_sum(loss * np.array(case["out_weights"])), w_parts + [biases, inputs])
    value, grad_values = run(loss, grads)
    np.testing.assert_allclose(value, case["output"], rtol=1e-10)
    w_grad = np.zeros_like(weights_np)
    if case["partitioned"]:
        w_grad[0::2], w_grad[1::2] = grad_values[0], grad_values[1]
    else:
        w_grad = grad_values[0]
    np.testing.assert_allclose(w_grad, case["weights_grad"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grad_values[-2], case["biases_grad"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grad_values[-1], case["inputs_grad"], rtol=1e-9, atol=1e-12)


def test_lookup_names_and_shapes_as_tensorflow() -> None:
    params = tf.constant(np.zeros((4, 3)))
    out = tf.nn.embedding_lookup(params, [[0, 1]])
    assert out.name == "embedding_lookup/Identity:0" and out.op.inputs[0].op.name == "embedding_lookup"
    ids = tf.placeholder(tf.int64, [None, 5])
    assert tf.nn.embedding_lookup([params, params], ids).shape.as_list() == [None, 5, 3]


def test_lookup_with_fed_ids_of_unknown_shape() -> None:
    table = np.arange(10.0).reshape(5, 2)
    ids = tf.placeholder(tf.int32)
    out = tf.nn.embedding_lookup([tf.constant(table[0::2]), tf.constant(table[1::2])], ids)
    fed = np.array([[4, 1, 3], [0, 0, 2]])
    np.testing.assert_array_equal(run(out, feed={ids: fed}), table[fed])


@pytest.mark.parametrize("partitioned", [False, True])
def test_out_of_range_id_is_an_invalid_argument_error(partitioned: bool) -> None:
    params = tf.constant(np.zeros((4, 3)))
    out = tf.nn.embedding_lookup([params, params] if partitioned else params, [1, 9 if partitioned else 7])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"embedding_lookup.*is not in \[0, 4\)"):
        run(out)


def test_lookup_argument_errors() -> None:
    with pytest.raises(ValueError, match="Need at least one param"):
        tf.nn.embedding_lookup([], [1])
    with pytest.raises(ValueError, match="Unrecognized partition strategy: x"):
        tf.nn.embedding_lookup([tf.zeros([2, 2]), tf.zeros([2, 2])], [1], partition_strategy="x")
    with pytest.raises(TypeError, match="indices"):
        tf.nn.embedding_lookup(tf.zeros([2, 2]), [0.5])


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_optimizers_train_an_embedding(optimizer: str) -> None:
    init = np.random.default_rng(0).standard_normal((6, 2)).astype(np.float32)
    table = tf.Variable(init)
    ids = np.array([1, 4, 4])
    target = np.ones((3, 2), np.float32)
    loss = tf.reduce_sum(tf.square(tf.nn.embedding_lookup(table, ids) - target))
    opt = tf.train.GradientDescentOptimizer(0.1) if optimizer == "sgd" else tf.train.AdamOptimizer(0.1)
    train = opt.minimize(loss)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        before = s.run(loss)
        s.run(train)
        after_one = s.run(table)
        for _ in range(30):
            s.run(train)
        assert s.run(loss) < 0.5 * before
    untouched = [0, 2, 3, 5]
    np.testing.assert_array_equal(after_one[untouched], init[untouched])
    if optimizer == "sgd":  # one step: row 4 is looked up twice, so its gradient counts twice
        grad = np.zeros_like(init)
        np.add.at(grad, ids, 2 * (init[ids] - target))
        np.testing.assert_allclose(after_one, init - 0.1 * grad, rtol=1e-6)


def test_sampled_softmax_with_its_own_sampler_runs_and_is_seeded() -> None:
    tf.set_random_seed(3)
    rng = np.random.default_rng(1)
    weights, biases = tf.constant(rng.standard_normal((50, 4))), tf.constant(np.zeros(50))
    loss = tf.nn.sampled_softmax_loss(weights, biases, [[1], [7]], tf.constant(rng.standard_normal((2, 4))), 5, 50)
    with tf.Session() as s:
        first = [s.run(loss) for _ in range(2)]
    with tf.Session() as s:
        np.testing.assert_array_equal(s.run(loss), first[0])
    assert first[0].shape == (2,) and np.all(first[0] > 0) and not np.array_equal(first[0], first[1])


def test_skip_gram_word2vec_loss_falls() -> None:
    tf.set_random_seed(0)
    rng = np.random.default_rng(0)
    vocab, dim, window = 40, 8, 1
    corpus = np.tile(np.arange(vocab), 6)  # every word is followed by the next one: a learnable context
    centers = np.concatenate([corpus[window:-window]] * 2)
    contexts = np.concatenate([corpus[:-2 * window], corpus[2 * window:]])[:, None]
    inputs = tf.placeholder(tf.int32, [None])
    labels = tf.placeholder(tf.int64, [None, 1])
    embeddings = tf.Variable(tf.random_uniform([vocab, dim], -1.0, 1.0))
    nce_weights = tf.Variable(tf.truncated_normal([vocab, dim], stddev=1.0 / np.sqrt(dim)))
    nce_biases = tf.Variable(tf.zeros([vocab]))
    embed = tf.nn.embedding_lookup(embeddings, inputs)
    loss = tf.reduce_mean(tf.nn.nce_loss(nce_weights, nce_biases, labels, embed, num_sampled=8, num_classes=vocab))
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        feed = {inputs: centers, labels: contexts}
        before = np.mean([s.run(loss, feed) for _ in range(5)])
        for _ in range(150):
            batch = rng.integers(0, len(centers), 64)
            s.run(train, {inputs: centers[batch], labels: contexts[batch]})
        after = np.mean([s.run(loss, feed) for _ in range(5)])
    assert after < 0.6 * before
