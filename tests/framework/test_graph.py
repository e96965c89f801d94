"""Graph: default graph stack, TF1 unique names, name scopes, devices, collections, control deps."""

from __future__ import annotations

import threading

import pytest

import gpugraph as tf


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


# --- default graph ---
def test_ops_go_to_the_default_graph():
    x1 = tf.Variable(1)
    assert x1.graph is tf.get_default_graph()
    graph = tf.Graph()
    with graph.as_default() as g:
        assert g is graph
        x2 = tf.Variable(2)
        assert tf.get_default_graph() is graph
    assert x2.graph is graph
    assert x2.graph is not tf.get_default_graph()


def test_nested_as_default_restores_outer():
    g1, g2 = tf.Graph(), tf.Graph()
    outer = tf.get_default_graph()
    with g1.as_default():
        with g2.as_default():
            assert tf.get_default_graph() is g2
        assert tf.get_default_graph() is g1
    assert tf.get_default_graph() is outer


def test_reset_default_graph_gives_a_new_empty_graph():
    old = tf.get_default_graph()
    tf.constant(1.0)
    tf.reset_default_graph()
    new = tf.get_default_graph()
    assert new is not old
    assert new.get_operations() == []
    assert tf.constant(1.0).name == "Const:0"  # names start afresh


def test_reset_default_graph_inside_as_default_raises():
    with tf.Graph().as_default():
        with pytest.raises(AssertionError):
            tf.reset_default_graph()


def test_default_graph_stack_is_per_thread():
    g = tf.Graph()
    seen = []
    with g.as_default():
        t = threading.Thread(target=lambda: seen.append(tf.get_default_graph()))
        t.start()
        t.join()
    assert seen[0] is not g


# --- unique names ---
def test_unique_op_names_follow_tf1():
    a = tf.constant(1.0, name="a")
    a1 = tf.constant(1.0, name="a")
    a2 = tf.constant(1.0, name="a")
    assert (a.name, a1.name, a2.name) == ("a:0", "a_1:0", "a_2:0")
    s1, s2 = a + a1, a + a2
    assert (s1.name, s2.name) == ("add:0", "add_1:0")
    assert s1.op.name == "add"


def test_unique_names_are_case_insensitive():
    assert tf.constant(1, name="foo").name == "foo:0"
    assert tf.constant(1, name="Foo").name == "Foo_1:0"
    assert tf.constant(1, name="FOO").name == "FOO_2:0"


def test_unique_name_skips_names_already_taken_by_suffix():
    tf.constant(1, name="a_1")
    tf.constant(1, name="a")
    assert tf.constant(1, name="a").name == "a_2:0"  # a_1 is taken explicitly


def test_graph_unique_name_without_marking():
    g = tf.get_default_graph()
    assert g.unique_name("w", mark_as_used=False) == "w"
    assert g.unique_name("w", mark_as_used=False) == "w"
    assert g.unique_name("w") == "w"
    assert g.unique_name("w") == "w_1"


def test_duplicate_absolute_op_name_raises():
    a = tf.constant(1.0)
    tf.identity(a, name="dup/")
    with pytest.raises(ValueError, match="Duplicate node name in graph: 'dup'"):
        tf.identity(a, name="dup/")


# --- name scopes ---
def test_name_scope_returns_scope_string_and_prefixes_ops():
    with tf.name_scope("loss") as scope:
        assert scope == "loss/"
        mse = tf.reduce_mean(tf.square(tf.constant([1.0, 2.0])), name="mse")
    assert mse.name == "loss/mse:0"
    assert mse.op.name == "loss/mse"


def test_repeated_name_scopes_are_uniquified():
    scopes = []
    for _ in range(3):
        with tf.name_scope("relu") as s:
            scopes.append(s)
            c = tf.constant(0.0, name="c")
    assert scopes == ["relu/", "relu_1/", "relu_2/"]
    assert c.name == "relu_2/c:0"


def test_name_scope_collides_with_op_names_case_insensitively():
    tf.constant(1.0, name="Relu")
    with tf.name_scope("relu") as s:
        assert s == "relu_1/"


def test_nested_name_scopes():
    with tf.name_scope("outer") as o:
        with tf.name_scope("inner") as i:
            x = tf.constant(1.0, name="x")
        with tf.name_scope("inner") as i2:
            pass
    assert (o, i, i2) == ("outer/", "outer/inner/", "outer/inner_1/")
    assert x.name == "outer/inner/x:0"
    assert tf.get_default_graph().get_name_scope() == ""


def test_name_scope_none_or_empty_resets_to_root():
    with tf.name_scope("outer"):
        with tf.name_scope(None) as s:
            assert s == ""
            c = tf.constant(1.0, name="c")
        with tf.name_scope("") as s2:
            assert s2 == ""
        d = tf.constant(1.0, name="d")
    assert c.name == "c:0"
    assert d.name == "outer/d:0"


def test_absolute_name_scope_reenters_existing_scope():
    with tf.name_scope("x") as s:
        tf.constant(1.0, name="a")
    with tf.name_scope(s):  # "x/" re-enters as is
        b = tf.constant(1.0, name="b")
    with tf.name_scope("y"):
        with tf.name_scope("x/") as again:
            c = tf.constant(1.0, name="c")
    assert again == "x/"
    assert b.name == "x/b:0"
    assert c.name == "x/c:0"


def test_tf_name_scope_default_name_and_values():
    a = tf.constant(1.0)
    with tf.name_scope(None, default_name="layer", values=[a]) as s:
        assert s == "layer/"
    g = tf.Graph()
    with g.as_default():
        b = tf.constant(2.0)
    with tf.name_scope("other", values=[b]):
        assert tf.get_default_graph() is g  # values pick the graph
    assert tf.get_default_graph() is not g


def test_name_scope_is_thread_local():
    names = []

    def build():
        names.append(tf.get_default_graph().get_name_scope())

    with tf.name_scope("main_thread"):
        t = threading.Thread(target=build)
        t.start()
        t.join()
    assert names == [""]


# --- devices ---
def test_device_is_recorded_as_canonical_spec():
    with tf.device("/gpu:0"):
        a = tf.constant(1.0)
    with tf.device("/cpu:0"):
        b = tf.constant(1.0)
    with tf.device("/device:GPU:1"):
        c = tf.constant(1.0)
    assert a.op.device == "/device:GPU:0"
    assert a.device == "/device:GPU:0"
    assert b.op.device == "/device:CPU:0"
    assert c.op.device == "/device:GPU:1"
    assert tf.constant(1.0).op.device == ""


def test_nested_devices_merge_inner_wins():
    with tf.device("/job:worker/task:1"):
        with tf.device("/gpu:0"):
            a = tf.constant(1.0)
        with tf.device("/job:ps"):
            b = tf.constant(1.0)
    with tf.device("/gpu:1"):
        with tf.device("/cpu:0"):
            c = tf.constant(1.0)
        with tf.device(""):
            d = tf.constant(1.0)
    assert a.op.device == "/job:worker/task:1/device:GPU:0"
    assert b.op.device == "/job:ps/task:1"
    assert c.op.device == "/device:CPU:0"
    assert d.op.device == "/device:GPU:1"  # "" merges nothing


def test_device_none_clears_outer_devices():
    with tf.device("/gpu:0"):
        with tf.device(None):
            a = tf.constant(1.0)
        b = tf.constant(1.0)
    assert a.op.device == ""
    assert b.op.device == "/device:GPU:0"


def test_device_function_sees_the_op_and_merges_with_outer_specs():
    seen = []

    def on_const_gpu(op):
        seen.append(op.type)
        return "/gpu:0" if op.type == "Const" else "/cpu:0"

    with tf.device("/job:ps"):
        with tf.device(on_const_gpu):
            a = tf.constant(1.0)
            b = tf.identity(a)
    assert seen == ["Const", "Identity"]
    assert a.op.device == "/job:ps/device:GPU:0"
    assert b.op.device == "/job:ps/device:CPU:0"


def test_device_function_outside_a_string_spec_gets_the_last_word():
    with tf.device(lambda op: "/cpu:0"):
        with tf.device("/gpu:0"):
            a = tf.constant(1.0)
    assert a.op.device == "/device:CPU:0"


def test_device_accepts_a_device_spec_object():
    with tf.device(tf.DeviceSpec(job="ps", device_type="GPU", device_index=2)):
        a = tf.constant(1.0)
    assert a.op.device == "/job:ps/device:GPU:2"


def test_bad_device_spec_raises():
    with pytest.raises(ValueError):
        with tf.device("/gpu:x"):
            pass


# --- collections ---
def test_collections_add_get_and_scope_filter():
    with tf.name_scope("layer1"):
        w1 = tf.constant(1.0, name="w")
    with tf.name_scope("layer2"):
        w2 = tf.constant(2.0, name="w")
    tf.add_to_collection("weights", w1)
    tf.add_to_collection("weights", w2)
    tf.add_to_collection("weights", 42)  # items without a name are skipped by scope filtering
    assert tf.get_collection("weights") == [w1, w2, 42]
    assert tf.get_collection("weights", scope="layer1") == [w1]
    assert tf.get_collection("weights", scope="layer[12]") == [w1, w2]
    assert tf.get_collection("weights", scope="w") == []  # regex match from the start
    assert tf.get_collection("missing") == []


def test_get_collection_returns_a_copy_and_ref_is_live():
    tf.add_to_collection("c", 1)
    copy = tf.get_collection("c")
    copy.append(2)
    assert tf.get_collection("c") == [1]
    ref = tf.get_collection_ref("c")
    ref.append(3)
    assert tf.get_collection("c") == [1, 3]
    new_ref = tf.get_collection_ref("fresh")
    assert new_ref == []
    new_ref.append("x")
    assert tf.get_collection("fresh") == ["x"]


def test_add_to_collections_dedupes_names():
    tf.add_to_collections(["a", "b", "a"], 7)
    tf.add_to_collections("c", 8)
    assert tf.get_collection("a") == [7]
    assert tf.get_collection("b") == [7]
    assert tf.get_collection("c") == [8]


def test_graph_keys_values():
    assert tf.GraphKeys.GLOBAL_VARIABLES == "variables"
    assert tf.GraphKeys.TRAINABLE_VARIABLES == "trainable_variables"
    assert tf.GraphKeys.LOCAL_VARIABLES == "local_variables"
    assert tf.GraphKeys.VARIABLES == tf.GraphKeys.GLOBAL_VARIABLES
    assert tf.GraphKeys.TRAIN_OP == "train_op"


def test_collections_are_per_graph():
    tf.add_to_collection("k", 1)
    with tf.Graph().as_default():
        assert tf.get_collection("k") == []


# --- control dependencies ---
def test_control_dependencies_add_control_inputs():
    a = tf.constant(1.0, name="a")
    b = tf.constant(2.0, name="b")
    with tf.control_dependencies([a, b.op]):
        c = tf.constant(3.0, name="c")
        d = tf.identity(a)  # a is a data input: no control edge on it
    assert c.op.control_inputs == [a.op, b.op]
    assert d.op.control_inputs == [b.op]
    assert tf.constant(0.0).op.control_inputs == []


def test_nested_control_dependencies_accumulate_and_none_clears():
    a, b = tf.constant(1.0), tf.constant(2.0)
    with tf.control_dependencies([a]):
        with tf.control_dependencies([b]):
            c = tf.constant(3.0)
        with tf.control_dependencies(None):
            d = tf.constant(4.0)
            with tf.control_dependencies([b]):
                e = tf.constant(5.0)
    assert set(c.op.control_inputs) == {a.op, b.op}
    assert d.op.control_inputs == []
    assert e.op.control_inputs == [b.op]


def test_control_dependencies_skip_ops_dominated_by_their_inputs():
    a = tf.constant(1.0)
    x = tf.constant(2.0)
    with tf.control_dependencies([a]):
        b = tf.identity(x)
        c = b * 2.0  # b already waits for a
    assert b.op.control_inputs == [a.op]
    assert a.op not in c.op.control_inputs


def test_control_dependency_orders_execution():
    v = tf.Variable(0.0)
    inc = tf.assign_add(v, 1.0)
    with tf.control_dependencies([inc]):
        read = tf.identity(v)
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(read) == 1.0
        assert sess.run(read) == 2.0
        assert sess.run(v) == 2.0


def test_control_dependencies_reject_non_graph_elements():
    with pytest.raises(TypeError):
        with tf.control_dependencies([3]):
            pass


def test_group_no_op_identity_stop_gradient():
    v = tf.Variable(0.0)
    w = tf.Variable(10.0)
    g = tf.group(tf.assign_add(v, 1.0), tf.assign_sub(w, 1.0))
    assert isinstance(g, tf.Operation)
    assert g.name == "group_deps"
    assert g.outputs == []
    n = tf.no_op(name="nothing")
    assert n.type == "NoOp" and n.name == "nothing"
    i = tf.identity(v, name="ident")
    s = tf.stop_gradient(v * 2.0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(g) is None
        assert sess.run(n) is None
        assert sess.run([v, w]) == [1.0, 9.0]
        assert sess.run(i) == 1.0
        assert sess.run(s) == 2.0
    assert i.op.type == "Identity" and i.name == "ident:0"
    assert s.op.type == "StopGradient"


# --- lookup ---
def test_lookup_by_name_and_errors():
    g = tf.get_default_graph()
    with tf.name_scope("loss"):
        mse = tf.reduce_mean(tf.constant([1.0, 3.0]), name="mse")
    assert g.get_tensor_by_name("loss/mse:0") is mse
    assert g.get_operation_by_name("loss/mse") is mse.op
    assert g.as_graph_element("loss/mse:0") is mse
    with pytest.raises(KeyError):
        g.get_operation_by_name("nope")
    with pytest.raises(KeyError):
        g.get_tensor_by_name("nope:0")
    with pytest.raises(KeyError):
        g.get_tensor_by_name("loss/mse:1")  # op has one output
    with pytest.raises(ValueError):
        g.get_tensor_by_name("loss/mse")  # op name, not tensor name
    with pytest.raises(ValueError):
        g.get_operation_by_name("loss/mse:0")  # tensor name, not op name
    with pytest.raises(TypeError):
        g.as_graph_element(3)


def test_elements_from_another_graph_are_rejected():
    other = tf.Graph()
    with other.as_default():
        t = tf.constant(1.0)
    with pytest.raises(ValueError):
        tf.get_default_graph().as_graph_element(t)
    with pytest.raises(ValueError):
        tf.constant(1.0) + t


def test_get_operations_in_creation_order_and_finalize():
    g = tf.get_default_graph()
    a = tf.constant(1.0)
    b = tf.identity(a)
    assert g.get_operations() == [a.op, b.op]
    g.finalize()
    assert g.finalized
    with pytest.raises(RuntimeError):
        tf.constant(2.0)


def test_colocate_with_takes_the_targets_device():
    with tf.device("/gpu:1"):
        v = tf.Variable(1.0, name="v")
    with tf.device("/cpu:0"):
        with tf.colocate_with(v):
            a = tf.identity(v)
            with tf.device("/cpu:0"):
                b = tf.identity(v)  # colocation beats a device spec inside it
        c = tf.constant(1.0)
    free = tf.constant(1.0)
    with tf.device("/cpu:0"):
        with tf.colocate_with(free):
            d = tf.constant(2.0)  # target without a device: outer specs are still set aside
    assert v.op.device == "/device:GPU:1"
    assert a.op.device == b.op.device == "/device:GPU:1"
    assert c.op.device == "/device:CPU:0"
    assert d.op.device == ""
    with pytest.raises(ValueError):
        with tf.colocate_with(None):
            pass


def test_invalid_scope_names_raise():
    with pytest.raises(ValueError, match="not a valid scope name"):
        with tf.name_scope("has space"):
            pass
    with pytest.raises(ValueError):
        tf.constant(1.0, name="_leading_underscore")
    with tf.name_scope("outer"):
        with tf.name_scope("_inner_ok") as s:
            assert s == "outer/_inner_ok/"


def test_tuple_gates_every_output_on_all_inputs():
    v = tf.Variable(0.0, name="v")
    w = tf.Variable(0.0, name="w")
    inc_v = tf.assign_add(v, 1.0)
    inc_w = tf.assign_add(w, 2.0)
    a, b, none = tf.tuple([inc_v, inc_w, None])
    assert none is None
    assert a.name == "tuple/control_dependency:0"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(a) == 1.0  # fetching a alone also ran inc_w
        assert sess.run(w) == 2.0
    with pytest.raises(ValueError):
        tf.tuple([None])


def test_threads_building_into_one_graph_get_unique_names():
    g = tf.get_default_graph()
    made = []

    def build():
        with g.as_default():
            for _ in range(200):
                made.append(tf.constant(1.0, name="c").op.name)

    threads = [threading.Thread(target=build) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(made)) == 800
