"""Meta graphs: export a graph as JSON, import it without the model code, restore and keep training."""

from __future__ import annotations

import json
import random
import warnings

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.ops.registry import REGISTRY, OpDef
from gpugraph.train import meta_graph

rng = np.random.default_rng(3)
X_DATA = rng.standard_normal((32, 3)).astype(np.float32)
Y_DATA = (X_DATA @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.3).astype(np.float32)


def _build_model() -> dict:
    X = tf.placeholder(tf.float32, [None, 3], name="X")
    y = tf.placeholder(tf.float32, [None, 1], name="y")
    theta = tf.Variable(tf.random_uniform([3, 1], -1.0, 1.0, seed=42), name="theta")
    bias = tf.Variable(0.0, name="bias")
    pred = tf.add(tf.matmul(X, theta), bias, name="predictions")
    with tf.name_scope("loss"):
        mse = tf.reduce_mean(tf.square(pred - y), name="mse")
    step = tf.train.get_or_create_global_step()
    train_op = tf.train.GradientDescentOptimizer(0.05).minimize(mse, global_step=step)
    tf.add_to_collection("train_op", train_op)
    tf.add_to_collection("loss", mse)
    tf.add_to_collection("settings", 0.5)
    tf.add_to_collection("settings", "name")
    return {"X": X, "y": y, "theta": theta, "bias": bias, "mse": mse, "train_op": train_op}


def test_import_restore_and_train_without_model_code(tmp_path):
    with tf.Graph().as_default() as original:
        m = _build_model()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(3):
                sess.run(m["train_op"], {m["X"]: X_DATA, m["y"]: Y_DATA})
            path = saver.save(sess, str(tmp_path / "model.ckpt"), global_step=3)
            saved_ops = [(o.name, o.type) for o in original.get_operations()]
            for _ in range(4):
                sess.run(m["train_op"], {m["X"]: X_DATA, m["y"]: Y_DATA})
            want_theta, want_bias, want_loss = sess.run([m["theta"], m["bias"], m["mse"]],
                                                        {m["X"]: X_DATA, m["y"]: Y_DATA})
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            first_init = sess.run(m["theta"])
    with tf.Graph().as_default() as fresh:
        new_saver = tf.train.import_meta_graph(path + ".meta")
        assert [(o.name, o.type) for o in fresh.get_operations()] == saved_ops
        with tf.Session() as sess:
            new_saver.restore(sess, path)
            train_op = tf.get_collection("train_op")[0]
            assert train_op.name == m["train_op"].name
            for _ in range(4):
                sess.run(train_op, feed_dict={"X:0": X_DATA, "y:0": Y_DATA})
            theta, bias, loss = sess.run(["theta:0", "bias:0", tf.get_collection("loss")[0]],
                                         {"X:0": X_DATA, "y:0": Y_DATA})
            assert sess.run(tf.train.get_global_step()) == 7
        np.testing.assert_array_equal(theta, want_theta)
        assert bias == want_bias and loss == want_loss
        assert tf.get_collection("settings") == [0.5, "name"]
        assert [v.name for v in tf.trainable_variables()] == ["theta:0", "bias:0"]
        assert [v.name for v in tf.global_variables()] == ["theta:0", "bias:0", "global_step:0"]
        assert tf.trainable_variables()[0] is tf.global_variables()[0]
        # the rebuilt Variables work as Variables: initializer (same seeded draw), value, assign
        theta_var = tf.trainable_variables()[0]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_array_equal(sess.run(theta_var), first_init)
            sess.run(theta_var.assign(tf.ones([3, 1])))
            np.testing.assert_array_equal(sess.run(theta_var.value()), np.ones((3, 1)))
        # names go on as in the original graph
        with tf.name_scope("loss") as scope:
            assert scope == "loss_1/"


def test_dict_saver_keys_survive_and_import_scope(tmp_path):
    with tf.Graph().as_default():
        theta = tf.Variable([[1.0, 2.0]], name="theta")
        saver = tf.train.Saver({"weights": theta}, max_to_keep=7)
        with tf.Session() as sess:
            sess.run(theta.initializer)
            path = saver.save(sess, str(tmp_path / "m"))
    with tf.Graph().as_default() as g:
        tf.Variable(0.0, name="theta")  # the imported copy lives beside it under a scope
        new_saver = tf.train.import_meta_graph(path + ".meta", import_scope="imported")
        assert new_saver.saver_def.max_to_keep == 7
        assert new_saver.saver_def.var_map == {"weights": "imported/theta"}
        with tf.Session() as sess:
            new_saver.restore(sess, path)
            np.testing.assert_array_equal(sess.run("imported/theta:0"), [[1.0, 2.0]])
        assert g.get_operation_by_name("imported/theta/read").inputs[0].op.name == "imported/theta"
        assert [v.name for v in tf.global_variables()] == ["theta:0", "imported/theta:0"]


def test_savers_collection_round_trips_as_saver_defs(tmp_path):
    # Scaffold puts its Saver in the `savers` collection; TF1 exports it as a SaverDef and imports a Saver.
    with tf.Graph().as_default():
        w = tf.Variable([3.0, 4.0], name="w")
        saver = tf.train.Saver({"kernel": w}, max_to_keep=3)
        tf.add_to_collection(tf.GraphKeys.SAVERS, saver)
        with tf.Session() as sess:
            sess.run(w.initializer)
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # the collection is exported, not skipped with a warning
                path = saver.save(sess, str(tmp_path / "m"))
    with tf.Graph().as_default():
        tf.train.import_meta_graph(path + ".meta", import_scope="copy")
        (restored,) = tf.get_collection(tf.GraphKeys.SAVERS)
        assert restored.saver_def.var_map == {"kernel": "copy/w"} and restored.saver_def.max_to_keep == 3
        with tf.Session() as sess:
            restored.restore(sess, path)
            np.testing.assert_array_equal(sess.run("copy/w:0"), [3.0, 4.0])


def test_no_saver_def_gives_default_saver_or_none(tmp_path):
    with tf.Graph().as_default():
        tf.Variable(1.0, name="v")
        meta = tf.train.export_meta_graph(str(tmp_path / "g.meta"))
        assert "saver_def" not in meta
    with tf.Graph().as_default():
        saver = tf.train.import_meta_graph(str(tmp_path / "g.meta"))
        assert isinstance(saver, tf.train.Saver) and saver.saver_def.var_map == {"v": "v"}
    with tf.Graph().as_default():
        tf.constant(1.0, name="c")
        meta = tf.train.export_meta_graph()
    with tf.Graph().as_default():
        assert tf.train.import_meta_graph(meta) is None
        assert tf.get_default_graph().get_tensor_by_name("c:0").dtype == tf.float32


def _round_trip(graph: tf.Graph, **kwargs) -> tf.Graph:
    meta = tf.train.export_meta_graph(graph=graph, **{k: v for k, v in kwargs.items() if k != "import_scope"})
    meta = json.loads(json.dumps(meta))  # through JSON text, as a file would be
    fresh = tf.Graph()
    with fresh.as_default():
        tf.train.import_meta_graph(meta, import_scope=kwargs.get("import_scope"))
    return fresh


SAMPLED = [o for o in sorted(REGISTRY.values(), key=lambda o: o.name) if o.sample is not None]


def _build_sample(opdef: OpDef, inputs: list, attrs: dict) -> tuple[tf.Graph, list[tf.Tensor]]:
    graph = tf.Graph()
    with graph.as_default():
        result = opdef(*[tf.constant(a) for a in inputs], **attrs)
    if isinstance(result, tf.Tensor):
        return graph, [result]
    return graph, list(result.outputs) if isinstance(result, tf.Operation) else list(result)


def _run(graph: tf.Graph, names: list[str]) -> list[np.ndarray]:
    with tf.Session(graph=graph) as sess:
        return [np.asarray(v) for v in sess.run(names)]


@pytest.mark.parametrize("opdef", SAMPLED, ids=lambda o: o.name)
def test_every_sampled_op_round_trips(opdef: OpDef):
    for inputs, attrs in opdef.sample(np.random.default_rng(0)):
        graph, outs = _build_sample(opdef, inputs, attrs)
        fresh = _round_trip(graph)
        for a, b in zip(graph.get_operations(), fresh.get_operations()):
            assert (a.name, a.type, [t.name for t in a.inputs]) == (b.name, b.type, [t.name for t in b.inputs])
            assert [(t.dtype, t.shape.as_tuple()) for t in a.outputs] == \
                [(t.dtype, t.shape.as_tuple()) for t in b.outputs]
            assert set(a.attrs) == set(b.attrs)
        want, got = _run(graph, [t.name for t in outs]), _run(fresh, [t.name for t in outs])
        for w, g in zip(want, got):
            assert w.dtype == g.dtype and w.shape == g.shape and w.tobytes() == g.tobytes(), opdef.name


def test_attr_values_and_graph_structure_round_trip():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 4, 5], name="x")
        tf.identity(x[..., None, ::-2, 1:3], name="sliced")
        tf.identity(x[0, tf.newaxis, -1], name="picked")
        nan = tf.constant([np.nan, np.inf, -np.inf, -0.0], name="specials")
        with tf.device("/gpu:0"):
            tf.random_normal([2, 2], seed=5, name="r")
        v = tf.Variable(tf.zeros([2]), name="v")
        with tf.control_dependencies([v.initializer]):
            tf.identity(nan, name="after")
        tf.report_uninitialized_variables([v])
        u = tf.Variable(v.initialized_value() * 2.0, name="u")  # InitializedValue
        tf.group(tf.is_variable_initialized(u), u.assign_sub([1.0, 1.0]), u.assign_add([2.0, 2.0]), name="grp")
        tf.truncated_normal([3], seed=1, name="tn")
        tf.random_uniform([4], maxval=9, dtype=tf.int32, seed=2, name="ri")
        shaped = tf.placeholder(tf.float32, None, name="free")
        shaped.set_shape([3, None])
    fresh = _round_trip(g)
    for a in g.get_operations():
        b = fresh.get_operation_by_name(a.name)
        assert b.device == a.device and [c.name for c in b.control_inputs] == [c.name for c in a.control_inputs]
        for key, value in a.attrs.items():
            other = b.get_attr(key)
            if isinstance(value, np.ndarray):
                assert value.dtype == other.dtype and value.tobytes() == other.tobytes()
            elif isinstance(value, tuple) and value and isinstance(value[0], tf.Operation):
                assert [o.name for o in value] == [o.name for o in other]
            else:
                assert value == other and type(value) is type(other), (a.name, key)
    assert fresh.get_tensor_by_name("free:0").shape.as_list() == [3, None]
    assert fresh.get_operation_by_name("after").control_inputs[0].name == "v/Assign"
    feed = np.arange(40, dtype=np.float32).reshape(2, 4, 5)
    soft = tf.ConfigProto(allow_soft_placement=True)  # the graph pins ops to /gpu:0; this machine may have none
    with tf.Session(graph=g, config=soft) as s1, tf.Session(graph=fresh, config=soft) as s2:
        names = ["sliced:0", "picked:0", "specials:0", "r:0", "tn:0", "ri:0"]
        for a, b in zip(s1.run(names, {"x:0": feed}), s2.run(names, {"x:0": feed})):
            assert a.tobytes() == b.tobytes()
        for sess, graph in ((s1, g), (s2, fresh)):
            with graph.as_default():
                sess.run(tf.global_variables_initializer())
            sess.run("grp")
        assert s1.run("u:0").tobytes() == s2.run("u:0").tobytes()
    types = {o.type for o in g.get_operations()}
    assert {"InitializedValue", "IsVariableInitialized", "AssignAdd", "AssignSub", "NoOp", "RandomUniformInt",
            "TruncatedNormal", "RandomStandardNormal", "ReportUninitializedVariables"} <= types
    assert _round_trip(g, clear_devices=True).get_operation_by_name("r").device == ""
    scoped = _round_trip(g, import_scope="a/b")
    assert scoped.get_operation_by_name("a/b/after").control_inputs[0].name == "a/b/v/Assign"


def test_string_constants_and_reader_graphs_round_trip(tmp_path):
    path = tmp_path / "lines.txt"
    path.write_bytes(b"first\nsecond\n")
    g = tf.Graph()
    with g.as_default():
        tf.constant([["a", "bc"], ["", "\u00e9"]], name="strings")
        tf.constant(b"\x00\xff", name="raw")
        queue = tf.FIFOQueue(4, tf.string, name="files")
        queue.enqueue_many([[str(path)]], name="fill")
        queue.close(name="done")
        tf.TextLineReader(name="lines").read(queue, name="read")
    fresh = _round_trip(g)
    with tf.Session(graph=fresh) as sess:
        assert sess.run("strings:0").tolist() == [[b"a", b"bc"], [b"", "\u00e9".encode()]]
        assert sess.run("raw:0") == b"\x00\xff"
        sess.run(["fill", "done"])
        assert sess.run(["read:0", "read:1"]) == [f"{path}:1".encode(), b"first"]


def test_export_scope():
    g = tf.Graph()
    with g.as_default():
        outside = tf.constant(1.0, name="outside")
        with tf.name_scope("net"):
            w = tf.Variable(2.0, name="w")
            tf.multiply(w, 3.0, name="out")
        tf.add(outside, 1.0, name="other")
    fresh = _round_trip(g, export_scope="net")
    assert sorted(o.name for o in fresh.get_operations()) == sorted(
        o.name[len("net/"):] for o in g.get_operations() if o.name.startswith("net/"))
    with fresh.as_default():
        assert [v.name for v in tf.global_variables()] == ["w:0"]
    with g.as_default():
        tf.add(outside, w, name="net/mixed")
    with pytest.raises(ValueError, match="outside export scope"):
        tf.train.export_meta_graph(graph=g, export_scope="net")


def test_unserializable_things_are_named():
    g = tf.Graph()
    with g.as_default():
        x = tf.constant(1.0, name="x")
        ident = REGISTRY["Identity"]
        g.create_op(ident, [x], {"odd": object()}, [(x.shape, x.dtype)], name="weird")
    with pytest.raises(TypeError, match="attr 'odd' of op 'weird'.*object"):
        tf.train.export_meta_graph(graph=g)
    g = tf.Graph()
    with g.as_default():
        x = tf.constant(1.0, name="x")
        rogue = OpDef("Identity", infer=lambda a: (a.shape, a.dtype), impl=lambda xp, a: a)
        rogue(x, name="rogue")
    with pytest.raises(ValueError, match="'rogue'.*not the registered op"):
        tf.train.export_meta_graph(graph=g)
    g = tf.Graph()
    with g.as_default():
        tf.constant(1.0, name="x")
        tf.add_to_collection("junk", object())
        tf.add_to_collection("fine", 3)
        with pytest.warns(UserWarning, match="'junk'"):
            meta = tf.train.export_meta_graph()
    assert "junk" not in meta["collection_def"] and "fine" in meta["collection_def"]


def test_bad_meta_graph_files(tmp_path):
    with tf.Graph().as_default():
        _build_model()
        path = str(tmp_path / "g.meta")
        tf.train.export_meta_graph(path)
    data = open(path, "rb").read()
    with pytest.raises(tf.errors.NotFoundError, match="nothere"):
        tf.train.import_meta_graph(str(tmp_path / "nothere.meta"))
    r = random.Random(11)
    for i in range(200):
        damaged = bytearray(data)
        pos = r.randrange(len(data))
        if i % 2:
            damaged[pos] = r.choice([b for b in range(256) if b != data[pos]])
        else:
            damaged[pos] ^= 1 << r.randrange(8)
        bad = tmp_path / "bad.meta"
        bad.write_bytes(bytes(damaged))
        with tf.Graph().as_default():
            try:
                tf.train.import_meta_graph(str(bad))
            except tf.errors.DataLossError as e:
                assert "bad.meta" in str(e)
            else:
                assert chr(data[pos]).isspace() and chr(damaged[pos]).isspace(), (pos, damaged[pos])
    for n in range(0, len(data), max(1, len(data) // 150)):
        (tmp_path / "cut.meta").write_bytes(data[:n])
        with tf.Graph().as_default(), pytest.raises(tf.errors.DataLossError, match="cut.meta"):
            tf.train.import_meta_graph(str(tmp_path / "cut.meta"))
    # a consistent file (valid checksum) naming an op type this library does not have
    meta = meta_graph.read_meta_graph(path)
    meta["graph_def"]["node"][0]["op"] = "NoSuchOp"
    meta_graph.write_meta_graph(str(tmp_path / "odd.meta"), meta)
    with tf.Graph().as_default(), pytest.raises(tf.errors.InvalidArgumentError, match="NoSuchOp"):
        tf.train.import_meta_graph(str(tmp_path / "odd.meta"))


def test_seed_examples_graphs_round_trip():
    """Whatever the library builds in a realistic script exports and imports."""
    with tf.Graph().as_default() as g:
        m = _build_model()
        with tf.variable_scope("layer"):
            w = tf.get_variable("w", [3, 2], initializer=tf.glorot_uniform_initializer(seed=1))
        h = tf.nn.relu(tf.matmul(m["X"], w))
        tf.reduce_sum(tf.concat([h, tf.transpose(tf.reverse(h, [1]), [0, 1])], axis=1), name="total")
        tf.gradients(tf.reduce_sum(tf.tanh(h)), [w])
    fresh = _round_trip(g)
    assert [o.name for o in fresh.get_operations()] == [o.name for o in g.get_operations()]
    with tf.Session(graph=g) as s1, tf.Session(graph=fresh) as s2:
        with g.as_default():
            s1.run(tf.variables_initializer(g.get_collection("variables")))
        with fresh.as_default():
            s2.run(tf.variables_initializer(fresh.get_collection("variables")))
        a = s1.run("total:0", {"X:0": X_DATA})
        b = s2.run("total:0", {"X:0": X_DATA})
        assert a == b
