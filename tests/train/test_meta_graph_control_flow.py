"""Meta graphs of control flow: cond, while_loop with gradients, map_fn, TensorArray loops, RNN-style loops
and nested loops export, import without the model code, run and train exactly as the original graph."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.train import meta_graph

rng = np.random.default_rng(5)
X_DATA = rng.standard_normal((4, 3)).astype(np.float32)
STEPS = 3  # loop length of the RNN-style loop


def _build() -> dict:
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    w = tf.get_variable("w", [3, 3], initializer=tf.constant_initializer(0.1 * np.arange(9).reshape(3, 3)))
    c = tf.cond(tf.reduce_sum(x) > 0.0, lambda: x * w[0], lambda: x - w[1], name="pick")

    def rnn_body(i, h):  # get_variable inside the body: the variable lives in the outer graph
        with tf.variable_scope("cell", reuse=tf.AUTO_REUSE):
            u = tf.get_variable("u", [3, 3], initializer=tf.constant_initializer(0.2 * np.eye(3)))
        return i + 1, tf.tanh(tf.matmul(h, u) + tf.matmul(x, w))
    _, h = tf.while_loop(lambda i, h: i < STEPS, rnn_body, [tf.constant(0), tf.zeros_like(x)], name="rnn")
    squares = tf.map_fn(lambda r: r * r * w[2], x)

    def ta_body(i, ta):
        return i + 1, ta.write(i, tf.reduce_sum(x * w[0]) * tf.cast(i, tf.float32))
    _, ta = tf.while_loop(lambda i, ta: i < 3, ta_body, [0, tf.TensorArray(tf.float32, size=3)])

    def outer_body(j, acc):  # a loop with a cond inside, inside a loop
        inner = tf.while_loop(lambda k, a: k < 2, lambda k, a: (k + 1, a * 0.5 + tf.reduce_sum(w)), [0, acc])[1]
        return j + 1, tf.cond(j > 0, lambda: inner, lambda: inner * 2.0)
    nested = tf.while_loop(lambda j, a: j < 2, outer_body, [0, tf.reduce_mean(x)])[1]
    loss = tf.add_n([tf.reduce_sum(h), tf.reduce_sum(c), tf.reduce_sum(squares), tf.reduce_sum(ta.stack()),
                     nested], name="loss")
    train = tf.train.GradientDescentOptimizer(0.05).minimize(loss)
    tf.add_to_collection("train_op", train)
    return {"x": x, "h": h, "loss": loss, "train": train}


def _numpy_rnn(x: np.ndarray, w: np.ndarray, u: np.ndarray) -> np.ndarray:
    h = np.zeros_like(x)
    for _ in range(STEPS):
        h = np.tanh(h @ u + x @ w)
    return h


def test_control_flow_graph_saves_imports_runs_and_trains(tmp_path):
    with tf.Graph().as_default() as original:
        m = _build()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            path = saver.save(sess, str(tmp_path / "model.ckpt"))
            h0 = sess.run(m["h"], {m["x"]: X_DATA})
            want = [sess.run([m["train"], m["loss"]], {m["x"]: X_DATA})[1] for _ in range(3)]
            want_vars = sess.run(tf.trainable_variables())
    w0 = 0.1 * np.arange(9, dtype=np.float32).reshape(3, 3)
    np.testing.assert_allclose(h0, _numpy_rnn(X_DATA, w0, 0.2 * np.eye(3, dtype=np.float32)), rtol=1e-5)
    with tf.Graph().as_default() as fresh:
        new_saver = tf.train.import_meta_graph(path + ".meta")
        assert [o.name for o in fresh.get_operations()] == [o.name for o in original.get_operations()]
        with tf.Session() as sess:
            new_saver.restore(sess, path)
            np.testing.assert_array_equal(sess.run("rnn/Exit_1:0", {"x:0": X_DATA}), h0)
            train = tf.get_collection("train_op")[0]
            got = [sess.run([train, "loss:0"], {"x:0": X_DATA})[1] for _ in range(3)]
            got_vars = sess.run(tf.trainable_variables())
    assert got == want
    for a, b in zip(got_vars, want_vars):
        np.testing.assert_array_equal(a, b)


def test_new_gradients_through_imported_loops_and_conds():
    """A new optimizer on the imported loss differentiates the rebuilt If/While ops (their functions)."""
    with tf.Graph().as_default() as original:
        m = _build()
        meta = tf.train.export_meta_graph()
        opt_want = tf.train.MomentumOptimizer(0.01, 0.9).minimize(m["loss"])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            want = [sess.run([opt_want, m["loss"]], {m["x"]: X_DATA})[1] for _ in range(2)]
    with tf.Graph().as_default() as fresh:
        tf.train.import_meta_graph(meta)
        loss = fresh.get_tensor_by_name("loss:0")
        opt = tf.train.MomentumOptimizer(0.01, 0.9).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            got = [sess.run([opt, loss], {"x:0": X_DATA})[1] for _ in range(2)]
    assert [o.name for o in fresh.get_operations()] == [o.name for o in original.get_operations()]
    assert got == want


def test_import_scope_and_function_names():
    with tf.Graph().as_default():
        _build()
        meta = tf.train.export_meta_graph()
    library = meta["function_library"]
    names = {f["name"] for f in library}
    assert {"cond_true", "cond_false", "while_cond", "while_body"} <= names
    assert any(f["outer"] is not None for f in library)  # the nested loop and cond
    assert "While" in meta["meta_info_def"]["stripped_op_list"]
    assert "Tanh" in meta["meta_info_def"]["stripped_op_list"]  # an op only inside a loop body
    with tf.Graph().as_default() as fresh:
        tf.train.import_meta_graph(meta, import_scope="run1")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            loss = sess.run("run1/loss:0", {"run1/x:0": X_DATA})
            assert np.isfinite(loss)
        op = fresh.get_operation_by_name("run1/rnn/While")
        body = op.get_attr("body")
        assert body.graph.outer_graph is fresh
        assert body.graph._scope == "run1/rnn"
        assert all(t.graph is fresh and t.name.startswith("run1/") for t in body.graph.captures)


def test_damaged_function_library_is_refused(tmp_path):
    with tf.Graph().as_default():
        _build()
        path = str(tmp_path / "g.meta")
        tf.train.export_meta_graph(path)
    meta = meta_graph.read_meta_graph(path)
    text = open(path, "rb").read()
    assert b"pickle" not in text
    for damage in ("graph", "input", "outer"):
        bad = meta_graph.read_meta_graph(path)
        node = next(n for n in bad["graph_def"]["node"] if n["op"] == "While")
        if damage == "graph":
            node["attrs"]["body"]["function"]["graph"] = len(bad["function_library"]) + 3
        elif damage == "input":
            node["attrs"]["body"]["function"]["inputs"][0] = "no_such_tensor:0"
        else:
            bad["function_library"][-1]["outer"] = len(bad["function_library"])
        meta_graph.write_meta_graph(str(tmp_path / "bad.meta"), bad)
        with tf.Graph().as_default(), pytest.raises(tf.errors.InvalidArgumentError, match="bad.meta"):
            tf.train.import_meta_graph(str(tmp_path / "bad.meta"))
    assert meta["function_library"]  # the undamaged one imports (above) and holds the functions


def test_updates_of_outer_variables_inside_functions_round_trip():
    """Ref inputs naming a variable of the outer graph (an update in a branch, a nested loop body)."""
    def build():
        pred = tf.placeholder(tf.bool, [], name="pred")
        v = tf.Variable(1.0, name="v")
        hits = tf.Variable(np.zeros(2, np.float32), name="hits")
        out = tf.cond(pred, lambda: tf.assign(v, v * 3.0), lambda: tf.identity(v), name="maybe")

        def body(i):
            inner = tf.while_loop(lambda j: j < 2, lambda j: tf.tuple(
                [j + 1], control_inputs=[tf.scatter_add(hits, tf.reshape(j, [1]), tf.ones([1]))])[0], [0])
            return i + inner
        done = tf.while_loop(lambda i: i < 4, body, [0], name="loops")
        return tf.group(out, done, name="step")

    results = []
    for rebuilt in (False, True):
        with tf.Graph().as_default():
            if rebuilt:
                with tf.Graph().as_default():
                    build()
                    meta = tf.train.export_meta_graph()
                tf.train.import_meta_graph(meta)
            else:
                build()
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                for p in (True, False, True):
                    sess.run("step", {"pred:0": p})
                results.append(sess.run(["v:0", "hits:0"]))
    assert results[0][0] == results[1][0] == 9.0
    np.testing.assert_array_equal(results[0][1], [6.0, 6.0])
    np.testing.assert_array_equal(results[1][1], [6.0, 6.0])
