"""TF1's optimizers: results equal TensorFlow's (reference data), slots, names, in-place updates."""

from __future__ import annotations

import importlib.util
import inspect
import json
from pathlib import Path

import numpy as np
import pytest

import gpugraph as tf

DATA = Path(__file__).resolve().parent / "data"
_spec = importlib.util.spec_from_file_location("optimizer_cases", DATA / "optimizer_cases.py")
assert _spec is not None and _spec.loader is not None
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)
REFERENCE = json.loads((DATA / "optimizer_reference.json").read_text())


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


# --- the same training run as TensorFlow's, to float32 rounding ---
def test_reference_covers_every_case() -> None:
    assert sorted(REFERENCE["cases"]) == sorted(cases.CASES)


@pytest.mark.parametrize("name", sorted(cases.CASES))
def test_training_matches_tensorflow(name: str) -> None:
    case = cases.CASES[name]
    expected = REFERENCE["cases"][name]
    got = cases.train(tf, case, REFERENCE["data"])
    assert got["slot_names"] == expected["slot_names"]
    assert got["optimizer_variables"] == expected["optimizer_variables"]
    assert got["train_op"] == expected["train_op"]
    assert sorted(got["variables"]) == sorted(expected["variables"])  # slot names as TF1 makes them
    rtol = 1e-12 if case.get("dtype") == "float64" else 1e-5
    np.testing.assert_allclose(got["losses"], expected["losses"], rtol=rtol)
    for var_name, want in expected["variables"].items():
        want = np.asarray(want)
        # slots hold gradient-sized numbers: compare each to the rounding of its largest entry
        atol = rtol * 0.1 * float(np.max(np.abs(want))) if want.size else 0.0
        np.testing.assert_allclose(got["variables"][var_name], want, rtol=rtol, atol=atol, err_msg=var_name)
    assert got["losses"][-1] < got["losses"][0]


# --- in place: variables and slots keep their buffers ---
def _model():
    theta = tf.Variable(np.array([[1.0, -2.0], [0.5, 3.0]], np.float32), name="theta")
    bias = tf.Variable(0.25, name="bias")
    loss = tf.reduce_sum(tf.square(theta - 1.5)) + tf.square(bias + 1.0)
    return theta, bias, loss


OPTIMIZERS = {
    "GradientDescent": lambda: tf.train.GradientDescentOptimizer(0.1),
    "Momentum": lambda: tf.train.MomentumOptimizer(0.05, 0.9),
    "MomentumNesterov": lambda: tf.train.MomentumOptimizer(0.05, 0.9, use_nesterov=True),
    "Adam": lambda: tf.train.AdamOptimizer(0.1),
    "RMSProp": lambda: tf.train.RMSPropOptimizer(0.05, momentum=0.5),
    "RMSPropCentered": lambda: tf.train.RMSPropOptimizer(0.01, decay=0.99, centered=True),
    "Adagrad": lambda: tf.train.AdagradOptimizer(0.3),
    "Adadelta": lambda: tf.train.AdadeltaOptimizer(1.0),
    "Ftrl": lambda: tf.train.FtrlOptimizer(0.3, l1_regularization_strength=0.001),
    "FtrlShrinkage": lambda: tf.train.FtrlOptimizer(0.3, l2_shrinkage_regularization_strength=0.01),
    "ProximalGradientDescent": lambda: tf.train.ProximalGradientDescentOptimizer(0.1, 0.001, 0.01),
    "ProximalAdagrad": lambda: tf.train.ProximalAdagradOptimizer(0.3, l1_regularization_strength=0.001),
    "AdagradDA": lambda: tf.train.AdagradDAOptimizer(0.3, tf.train.get_or_create_global_step()),
}


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_updates_are_in_place(kind: str) -> None:
    theta, bias, loss = _model()
    step = tf.train.get_or_create_global_step()
    train = OPTIMIZERS[kind]().minimize(loss, global_step=step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        state = [v for v in tf.global_variables() if v is not step]
        buffers = {v.name: sess._cells[v.op].value for v in state}
        start = {k: a.copy() for k, a in buffers.items()}
        first = sess.run(loss)
        for _ in range(10):
            sess.run(train)
        for v in state:
            assert sess._cells[v.op].value is buffers[v.name], v.name
        assert all(not np.array_equal(buffers[k], start[k]) for k in buffers)  # every one was updated
        assert sess.run(loss) < first
        assert sess.run(step) == 10


# --- slots: names, creation, reuse ---
def test_slot_variables_are_named_as_tf1() -> None:
    theta, bias, loss = _model()
    opts = {
        "Momentum": (tf.train.MomentumOptimizer(0.1, 0.9), {"momentum": "Momentum"}),
        "Adam": (tf.train.AdamOptimizer(), {"m": "Adam", "v": "Adam_1"}),
        "RMSProp": (tf.train.RMSPropOptimizer(0.1, centered=True),
                    {"rms": "RMSProp", "mg": "RMSProp_1", "momentum": "RMSProp_2"}),
        "Adagrad": (tf.train.AdagradOptimizer(0.1), {"accumulator": "Adagrad"}),
        "Adadelta": (tf.train.AdadeltaOptimizer(), {"accum": "Adadelta", "accum_update": "Adadelta_1"}),
    }
    for opt, slots in opts.values():
        opt.minimize(loss)
        assert opt.get_slot_names() == sorted(slots)
        for slot, suffix in slots.items():
            for var in (theta, bias):
                s = opt.get_slot(var, slot)
                assert s.name == f"{var.op.name}/{suffix}:0"
                assert s.get_shape() == var.get_shape() and s.dtype.base_dtype == var.dtype.base_dtype
                assert not s.trainable and s in tf.global_variables() and s not in tf.trainable_variables()
        assert opt.get_slot(theta, "nope") is None
    adam = opts["Adam"][0]
    assert [v.name for v in adam.variables()] == [
        "beta1_power:0", "beta2_power:0", "bias/Adam:0", "bias/Adam_1:0", "theta/Adam:0", "theta/Adam_1:0"]
    assert tf.trainable_variables() == [theta, bias]


def test_minimize_twice_reuses_slots_and_a_new_optimizer_makes_new_ones() -> None:
    theta, bias, loss = _model()
    opt = tf.train.AdamOptimizer(0.1)
    first = opt.minimize(loss)
    n_vars = len(tf.global_variables())
    second = opt.minimize(loss)
    assert (first.name, second.name) == ("Adam", "Adam_1")
    assert len(tf.global_variables()) == n_vars
    other = tf.train.AdamOptimizer(0.1)
    other.minimize(loss)
    assert other.get_slot(theta, "m").name == "theta/Adam_2:0"
    assert other.get_slot(theta, "v").name == "theta/Adam_3:0"
    assert [v.name for v in other.variables()][:2] == ["beta1_power_1:0", "beta2_power_1:0"]


def test_slots_follow_the_variable_scope_and_device() -> None:
    with tf.device("/cpu:0"):
        w = tf.Variable(1.0, name="w")
    with tf.variable_scope("outer"):
        opt = tf.train.MomentumOptimizer(0.1, 0.9)
        train = opt.minimize(w * w)
    slot = opt.get_slot(w, "momentum")
    assert slot.name == "outer/w/Momentum:0"
    assert slot.device == w.device == "/device:CPU:0"
    assert train.name == "outer/Momentum"
    with tf.variable_scope("outer", reuse=True), pytest.raises(ValueError, match="does not exist"):
        tf.train.AdamOptimizer().minimize(w * w)  # TF1: slots are new variables, not reusable ones


def test_slots_only_for_variables_with_gradients() -> None:
    a = tf.Variable(1.0, name="a")
    b = tf.Variable(1.0, name="b")
    opt = tf.train.MomentumOptimizer(0.1, 0.9)
    opt.minimize(a * a, var_list=[a, b])
    assert opt.get_slot(a, "momentum") is not None and opt.get_slot(b, "momentum") is None


def test_slot_initial_values() -> None:
    theta, bias, loss = _model()
    rms = tf.train.RMSPropOptimizer(0.1, momentum=0.3, centered=True)
    ada = tf.train.AdagradOptimizer(0.1, initial_accumulator_value=0.7)
    rms.minimize(loss)
    ada.minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(rms.get_slot(theta, "rms")), np.ones((2, 2)))  # TF1: ones
        np.testing.assert_array_equal(sess.run(rms.get_slot(theta, "mg")), np.zeros((2, 2)))
        np.testing.assert_array_equal(sess.run(rms.get_slot(theta, "momentum")), np.zeros((2, 2)))
        np.testing.assert_allclose(sess.run(ada.get_slot(theta, "accumulator")), np.full((2, 2), 0.7))
    with pytest.raises(ValueError, match="must be positive"):
        tf.train.AdagradOptimizer(0.1, initial_accumulator_value=0.0)


def test_slots_of_a_variable_with_a_run_time_shape() -> None:
    x = tf.placeholder(tf.float32, [None], name="x")
    v = tf.Variable(x, validate_shape=False, name="v")
    opt = tf.train.MomentumOptimizer(0.1, 0.9)
    train = opt.minimize(tf.reduce_sum(v * v))
    assert opt.get_slot(v, "momentum").get_shape().as_list() == [None]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer(), {x: np.ones(3, np.float32)})
        sess.run(train)
        np.testing.assert_allclose(sess.run(v), np.full(3, 0.8), rtol=1e-6)
        np.testing.assert_allclose(sess.run(opt.get_slot(v, "momentum")), np.full(3, 2.0))


def test_uninitialized_slot_is_reported() -> None:
    w = tf.Variable(1.0, name="theta")
    train = tf.train.MomentumOptimizer(0.1, 0.9).minimize(w * w)
    with tf.Session() as sess:
        sess.run(w.initializer)
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value theta/Momentum"):
            sess.run(train)


# --- ops, names and the global step ---
@pytest.mark.parametrize("kind, op_type", [
    ("GradientDescent", "ApplyGradientDescent"), ("Momentum", "ApplyMomentum"), ("Adam", "ApplyAdam"),
    ("RMSProp", "ApplyRMSProp"), ("RMSPropCentered", "ApplyCenteredRMSProp"), ("Adagrad", "ApplyAdagrad"),
    ("Adadelta", "ApplyAdadelta"), ("Ftrl", "ApplyFtrl"), ("FtrlShrinkage", "ApplyFtrlV2"),
    ("ProximalGradientDescent", "ApplyProximalGradientDescent"), ("ProximalAdagrad", "ApplyProximalAdagrad"),
    ("AdagradDA", "ApplyAdagradDA"),
])
def test_one_update_op_per_variable_named_as_tf1(kind: str, op_type: str) -> None:
    theta, bias, loss = _model()
    opt = OPTIMIZERS[kind]()
    train = opt.minimize(loss)
    scope = opt.get_name()
    graph = tf.get_default_graph()
    updates = [op for op in graph.get_operations() if op.type.startswith("Apply")]
    assert [op.name for op in updates] == [f"{scope}/update_theta/{op_type}", f"{scope}/update_bias/{op_type}"]
    assert all(op.type == op_type for op in updates)
    assert updates[0].inputs[0] is theta.op.outputs[0]  # the ref itself: written in place
    assert train.name == scope and train.type == "NoOp"
    assert set(updates) <= set(train.control_inputs)


def test_adam_updates_beta_powers_after_the_step_and_the_global_step_last() -> None:
    w = tf.Variable(np.array([1.0, -1.0], np.float32), name="theta")
    step = tf.train.get_or_create_global_step()
    opt = tf.train.AdamOptimizer(0.1, beta1=0.5, beta2=0.75)
    train = opt.minimize(tf.reduce_sum(w * w), global_step=step)
    assert (train.name, train.type) == ("Adam", "AssignAdd")
    update = tf.get_default_graph().get_operation_by_name("Adam/update")
    assert tf.get_default_graph().get_operation_by_name("Adam/update_theta/ApplyAdam") in update.control_inputs
    b1, b2 = opt._get_beta_accumulators()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for t in range(1, 4):
            sess.run(train)
            assert sess.run([b1, b2]) == [np.float32(0.5 ** (t + 1)), np.float32(0.75 ** (t + 1))]
            assert sess.run(step) == t


def test_first_adam_step_moves_each_weight_by_the_learning_rate() -> None:
    w = tf.Variable(np.array([1.0, -1.0], np.float32), name="theta")
    train = tf.train.AdamOptimizer(0.1).minimize(tf.reduce_sum(100.0 * w * w))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        np.testing.assert_allclose(sess.run(w), [0.9, -0.9], rtol=1e-5)


def test_hyper_parameters_may_be_tensors_or_callables() -> None:
    w = tf.Variable(np.float64(2.0), name="w")  # float64 variable, float32 hyper-parameters: cast
    lr = tf.placeholder(tf.float32, [], name="lr")
    train = tf.train.MomentumOptimizer(lr, lambda: tf.constant(0.5)).minimize(w * w)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, {lr: 0.25})  # accum = 4, w = 2 - 1
        sess.run(train, {lr: 0.125})  # accum = 0.5 * 4 + 2 = 4, w = 1 - 0.5
        assert sess.run(w) == 0.5


def test_mismatched_hyper_parameter_dtype_is_a_build_error() -> None:
    from gpugraph.ops import training_ops

    w = tf.Variable(np.zeros(3, np.float32), name="w")
    m = tf.Variable(np.zeros(3, np.float32), name="m")
    with pytest.raises(TypeError, match="ApplyMomentum"):
        training_ops.apply_momentum(w, m, tf.constant(0.1, tf.float64), tf.zeros(3), 0.9)
    with pytest.raises(ValueError, match="rank 0"):
        training_ops.apply_momentum(w, m, tf.constant([0.1, 0.2]), tf.zeros(3), 0.9)
    with pytest.raises(ValueError, match="same shape"):
        training_ops.apply_momentum(w, m, 0.1, tf.zeros(4), 0.9)


def test_gradient_of_the_wrong_run_time_shape_is_an_invalid_argument() -> None:
    w = tf.Variable(np.zeros(3, np.float32), name="w")
    g = tf.placeholder(tf.float32, [None])
    train = tf.train.AdagradOptimizer(0.1).apply_gradients([(g, w)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(tf.errors.InvalidArgumentError, match="same shape"):
            sess.run(train, {g: np.ones(2, np.float32)})


# TF1's constructor signatures (tensorflow/python/training/*.py)
SIGNATURES = {
    "GradientDescentOptimizer": "(learning_rate, use_locking=False, name='GradientDescent')",
    "MomentumOptimizer": "(learning_rate, momentum, use_locking=False, name='Momentum', use_nesterov=False)",
    "AdamOptimizer": "(learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-08, use_locking=False, "
                     "name='Adam')",
    "RMSPropOptimizer": "(learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10, use_locking=False, "
                        "centered=False, name='RMSProp')",
    "AdagradOptimizer": "(learning_rate, initial_accumulator_value=0.1, use_locking=False, name='Adagrad')",
    "AdadeltaOptimizer": "(learning_rate=0.001, rho=0.95, epsilon=1e-08, use_locking=False, name='Adadelta')",
    "FtrlOptimizer": "(learning_rate, learning_rate_power=-0.5, initial_accumulator_value=0.1, "
                     "l1_regularization_strength=0.0, l2_regularization_strength=0.0, use_locking=False, "
                     "name='Ftrl', accum_name=None, linear_name=None, l2_shrinkage_regularization_strength=0.0, "
                     "beta=None)",
    "ProximalGradientDescentOptimizer": "(learning_rate, l1_regularization_strength=0.0, "
                                        "l2_regularization_strength=0.0, use_locking=False, "
                                        "name='ProximalGradientDescent')",
    "ProximalAdagradOptimizer": "(learning_rate, initial_accumulator_value=0.1, l1_regularization_strength=0.0, "
                                "l2_regularization_strength=0.0, use_locking=False, name='ProximalAdagrad')",
    "AdagradDAOptimizer": "(learning_rate, global_step, initial_gradient_squared_accumulator_value=0.1, "
                          "l1_regularization_strength=0.0, l2_regularization_strength=0.0, use_locking=False, "
                          "name='AdagradDA')",
}


@pytest.mark.parametrize("cls", sorted(SIGNATURES))
def test_constructor_signatures_are_tf1s(cls: str) -> None:
    sig = inspect.signature(getattr(tf.train, cls).__init__)
    params = [p for name, p in sig.parameters.items() if name != "self"]
    text = "(" + ", ".join(p.name if p.default is p.empty else f"{p.name}={p.default!r}" for p in params) + ")"
    assert text == SIGNATURES[cls]
    assert issubclass(getattr(tf.train, cls), tf.train.Optimizer)
    assert getattr(tf.compat.v1.train, cls) is getattr(tf.train, cls)


# --- the regularised optimizers: TF1's argument checks, and L1 driving weights to exactly zero ---
@pytest.mark.parametrize("make, message", [
    (lambda: tf.train.FtrlOptimizer(0.1, learning_rate_power=0.5), "learning_rate_power 0.500000 needs to be "
                                                                   "negative or zero"),
    (lambda: tf.train.FtrlOptimizer(0.1, initial_accumulator_value=-1.0), "initial_accumulator_value"),
    (lambda: tf.train.FtrlOptimizer(0.1, l1_regularization_strength=-1.0), "l1_regularization_strength"),
    (lambda: tf.train.FtrlOptimizer(0.1, l2_shrinkage_regularization_strength=-1.0), "l2_shrinkage"),
    (lambda: tf.train.ProximalAdagradOptimizer(0.1, initial_accumulator_value=0.0), "must be positive"),
    (lambda: tf.train.AdagradDAOptimizer(0.1, None, initial_gradient_squared_accumulator_value=0.0),
     "must be positive"),
])
def test_regularised_optimizers_reject_bad_arguments(make, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_strong_l1_gives_exact_zeros() -> None:
    # each rule's L1 threshold exceeds the (small) gradient: the weight is set to exactly 0, as TF1 does
    step = tf.train.get_or_create_global_step()
    opts = [tf.train.FtrlOptimizer(0.1, l1_regularization_strength=10.0),
            tf.train.ProximalGradientDescentOptimizer(0.1, l1_regularization_strength=10.0),
            tf.train.ProximalAdagradOptimizer(0.1, l1_regularization_strength=10.0),
            tf.train.AdagradDAOptimizer(0.1, step, l1_regularization_strength=10.0)]
    ws = [tf.Variable(np.array([0.3, -0.2], np.float32), name=f"w{i}") for i in range(len(opts))]
    train = [opt.minimize(tf.reduce_sum(w * w)) for opt, w in zip(opts, ws)]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        for w in ws:
            assert np.array_equal(sess.run(w), np.zeros(2, np.float32)), w.name


def test_adagrad_da_needs_an_int64_step() -> None:
    w = tf.Variable(1.0, name="w")
    with pytest.raises(TypeError, match="ApplyAdagradDA"):
        tf.train.AdagradDAOptimizer(0.1, tf.constant(3)).minimize(w * w)
