"""Control-flow programs written against the TF1 API, run by TensorFlow (to make the reference data)
and by gpugraph (in the tests). Each takes the ``tf`` module and returns (fetches, feed values, names)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

X2 = np.linspace(-1.0, 1.0, 10).reshape(5, 2).astype(np.float32)
W22 = np.array([[0.5, -0.3], [0.2, 0.4]], np.float32)


def cond_basic(tf: Any) -> tuple[dict[str, Any], list[dict[Any, Any]], dict[str, str]]:
    x = tf.placeholder(tf.float32, [], name="x")
    w = tf.Variable(3.0, name="w")
    a, b = tf.cond(x > 1.0, lambda: (x * w, tf.sin(x)), lambda: (x * x * 3.0, tf.constant(1.0)))
    single = tf.cond(x < 0.0, lambda: {"v": x - w}, lambda: {"v": x * 2.0})["v"]
    fetches = {"a": a, "b": b, "single": single, "grads": tf.gradients(a + b + single, [x, w])}
    return fetches, [{x: 2.0}, {x: 0.5}, {x: -1.5}], {"a": a.name, "b": b.name, "single": single.name}


def case_program(tf: Any) -> tuple[dict[str, Any], list[dict[Any, Any]], dict[str, str]]:
    x = tf.placeholder(tf.float32, [], name="x")
    y = tf.case([(x < 0.0, lambda: x * x), (x < 1.0, lambda: tf.exp(x))], default=lambda: x * 3.0)
    return {"y": y, "grad": tf.gradients(y, [x])}, [{x: -1.5}, {x: 0.5}, {x: 2.0}], {"y": y.name}


def while_capture(tf: Any) -> tuple[dict[str, Any], list[dict[Any, Any]], dict[str, str]]:
    x = tf.placeholder(tf.float32, [2], name="x")
    w = tf.Variable(np.array([1.5, -0.5], np.float32), name="w")
    i, s = tf.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, tf.tanh(s * w + x)), [tf.constant(0), x])
    capped = tf.while_loop(lambda v: v < 100.0, lambda v: v * 2.0, [tf.reduce_sum(x * x) + 1.0],
                           maximum_iterations=3)
    fetches = {"i": i, "s": s, "capped": capped, "grads": tf.gradients(tf.reduce_sum(s) + capped, [x, w])}
    return fetches, [{x: np.array([0.3, -0.2], np.float32)}], {"i": i.name, "s": s.name, "capped": capped.name}


def rnn_like(tf: Any) -> tuple[dict[str, Any], list[dict[Any, Any]], dict[str, str]]:
    x = tf.placeholder(tf.float32, [5, 2], name="x")

    def body(i: Any, h: Any, ta: Any) -> Any:
        with tf.variable_scope("cell"):
            kernel = tf.get_variable("kernel", [2, 2], initializer=tf.constant_initializer(W22))
        h = tf.tanh(tf.matmul(tf.reshape(tf.gather(x, i), [1, 2]), kernel) + h)
        return i + 1, h, ta.write(i, h)

    ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
    _, h, ta = tf.while_loop(lambda i, h, ta: i < 5, body, [tf.constant(0), tf.zeros([1, 2]), ta])
    outputs = ta.stack()
    kernel = [v for v in tf.global_variables() if v.name == "cell/kernel:0"][0]
    loss = tf.reduce_sum(outputs * outputs) + tf.reduce_sum(h)
    fetches = {"outputs": outputs, "h": h, "grads": tf.gradients(loss, [x, kernel])}
    names = {"outputs": outputs.name, "h": h.name, "kernel": kernel.name}
    return fetches, [{x: X2}], names


def nested_loops(tf: Any) -> tuple[dict[str, Any], list[dict[Any, Any]], dict[str, str]]:
    w = tf.Variable(W22, name="w")

    def outer_body(i: Any, acc: Any) -> Any:
        def inner_body(j: Any, a: Any) -> Any:
            step = tf.cond(j > 1, lambda: w[0, 0], lambda: w[1, 1] * 2.0)
            return j + 1, a * 1.1 + step
        return i + 1, tf.while_loop(lambda j, a: j < i, inner_body, [0, acc])[1]

    out = tf.while_loop(lambda i, a: i < 4, outer_body, [0, tf.constant(1.0)])[1]
    return {"out": out, "grad": tf.gradients(out, [w])}, [{}], {"out": out.name}


def tensor_array_ops(tf: Any) -> tuple[dict[str, Any], list[dict[Any, Any]], dict[str, str]]:
    x = tf.placeholder(tf.float32, [4, 3], name="x")
    ta = tf.TensorArray(tf.float32, size=4).unstack(x)
    gathered = ta.gather([3, 1])
    read = ta.read(2)
    tb = tf.TensorArray(tf.float32, size=4, element_shape=[3])
    tb = tb.scatter([0, 2], x[:2] * 2.0).write(1, read + 1.0).write(3, gathered[0])
    stacked = tb.stack()
    tc = tf.TensorArray(tf.float32, size=2).write(0, x[:2]).write(1, x[2:])
    concat = tc.concat()
    size = tb.size()
    loss = tf.reduce_sum(gathered * gathered) + tf.reduce_sum(stacked * stacked) + tf.reduce_sum(concat * concat)
    fetches = {"gathered": gathered, "read": read, "stacked": stacked, "concat": concat, "size": size,
               "grad": tf.gradients(loss, [x])}
    names = {"read": read.name, "stacked": stacked.name, "flow": tb.flow.name}
    return fetches, [{x: np.arange(12, dtype=np.float32).reshape(4, 3) / 10.0}], names


def functional(tf: Any) -> tuple[dict[str, Any], list[dict[Any, Any]], dict[str, str]]:
    x = tf.placeholder(tf.float32, [4, 3], name="x")
    w = tf.Variable(np.array([1.0, 2.0, -1.0], np.float32), name="w")
    m = tf.map_fn(lambda r: tf.sin(r * w), x)
    pair = tf.map_fn(lambda t: (t[0] * t[1], tf.reduce_sum(t[0])), (x, x + 1.0), dtype=(tf.float32, tf.float32))
    s = tf.scan(lambda a, e: a * 0.5 + e * w, x)
    sr = tf.scan(lambda a, e: a * e, x, initializer=tf.ones([3]), reverse=True)
    fl = tf.foldl(lambda a, e: a * 0.9 + e, x)
    fr = tf.foldr(lambda a, e: a * 2.0 - e * w, x, initializer=tf.zeros([3]))
    loss = (tf.reduce_sum(m) + tf.reduce_sum(pair[0]) + tf.reduce_sum(pair[1]) + tf.reduce_sum(s * s)
            + tf.reduce_sum(sr) + tf.reduce_sum(fl * fl) + tf.reduce_sum(fr))
    fetches = {"m": m, "pair": list(pair), "s": s, "sr": sr, "fl": fl, "fr": fr, "grads": tf.gradients(loss, [x, w])}
    names = {"m": m.name, "s": s.name, "sr": sr.name, "fl": fl.name, "fr": fr.name}
    return fetches, [{x: np.linspace(-0.8, 0.9, 12).reshape(4, 3).astype(np.float32)}], names


def cond_updates(tf: Any) -> tuple[dict[str, Any], list[dict[Any, Any]], dict[str, str]]:
    """In-place updates of outer variables inside the branches: only the taken branch's happen."""
    x = tf.placeholder(tf.float32, [], name="x")
    v = tf.Variable(1.0, name="v")
    taken = tf.Variable(0, name="taken")
    table = tf.Variable(np.zeros(3, np.float32), name="table")
    def yes() -> Any:
        with tf.control_dependencies([tf.assign_add(taken, 1), tf.scatter_add(table, [0, 2], tf.stack([x, 1.0]))]):
            return tf.assign(v, v * x + 1.0)
    def no() -> Any:
        with tf.control_dependencies([tf.assign_sub(taken, 10), tf.scatter_update(table, [1], tf.reshape(x, [1]))]):
            return tf.identity(v)
    out = tf.cond(x > 0.0, yes, no)
    with tf.control_dependencies([out]):
        after = {"v": tf.identity(v.read_value()), "taken": taken.read_value(), "table": table.read_value()}
    return {"out": out, "after": after}, [{x: 2.0}, {x: -1.0}, {x: 0.5}, {x: 3.0}], {"out": out.name}

def while_updates(tf: Any) -> tuple[dict[str, Any], list[dict[Any, Any]], dict[str, str]]:
    """A counter, an assign reading its own variable and a scatter, in a loop body."""
    n = tf.placeholder(tf.int32, [], name="n")
    count = tf.Variable(0, name="count")
    acc = tf.Variable(1.0, name="acc")
    hist = tf.Variable(np.zeros(4, np.float32), name="hist")
    def body(i: Any, s: Any) -> Any:
        with tf.control_dependencies([tf.assign_add(count, 1)]):
            grown = tf.assign(acc, acc * 2.0 + 1.0)
        with tf.control_dependencies([tf.scatter_add(hist, tf.reshape(i % 4, [1]), tf.reshape(grown, [1]))]):
            return i + 1, s + grown
    i, s = tf.while_loop(lambda i, s: i < n, body, [0, tf.constant(0.0)], parallel_iterations=1)
    with tf.control_dependencies([s]):
        after = {"count": count.read_value(), "acc": tf.identity(acc.read_value()), "hist": hist.read_value()}
    return {"i": i, "s": s, "after": after}, [{n: 3}, {n: 0}, {n: 5}], {"s": s.name}

def cond_train(tf: Any) -> tuple[dict[str, Any], list[dict[Any, Any]], dict[str, str]]:
    """``minimize`` inside a branch: the step happens only when the predicate is true."""
    x = tf.placeholder(tf.float32, [5, 2], name="x")
    train_now = tf.placeholder(tf.bool, [], name="train_now")
    w = tf.Variable(W22, name="w")
    step = tf.train.get_or_create_global_step()
    loss = tf.reduce_sum(tf.square(tf.matmul(x, w) - 1.0))
    def train() -> Any:
        with tf.control_dependencies([tf.train.GradientDescentOptimizer(0.05).minimize(loss, global_step=step)]):
            return tf.identity(loss)
    out = tf.cond(train_now, train, lambda: tf.identity(loss))
    with tf.control_dependencies([out]):
        after = {"w": tf.identity(w.read_value()), "step": step.read_value()}
    return {"out": out, "after": after}, [{x: X2, train_now: True}, {x: X2, train_now: False},
                                          {x: X2, train_now: True}], {"out": out.name}


PROGRAMS: dict[str, Callable[[Any], Any]] = {
    "cond_basic": cond_basic,
    "case": case_program,
    "while_capture": while_capture,
    "rnn_like": rnn_like,
    "nested_loops": nested_loops,
    "tensor_array_ops": tensor_array_ops,
    "functional": functional,
    "cond_updates": cond_updates,
    "while_updates": while_updates,
    "cond_train": cond_train,
}


def run_program(tf: Any, name: str) -> dict[str, Any]:
    """Values (one entry per feed) and tensor names of program ``name`` in a fresh graph."""
    graph = tf.Graph()
    with graph.as_default():
        fetches, feeds, names = PROGRAMS[name](tf)
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            values = [sess.run(fetches, feed) for feed in feeds]
    return {"values": values, "names": names}


def assert_matches(got: Any, want: Any, path: str = "", rtol: float = 2e-5, atol: float = 1e-6) -> None:
    """``got`` (session results) equals ``want`` (JSON reference), structure and values."""
    if isinstance(want, dict):
        assert sorted(got) == sorted(want), path
        for k in want:
            assert_matches(got[k], want[k], f"{path}/{k}", rtol, atol)
    elif isinstance(got, (list, tuple)):
        assert len(got) == len(want), path
        for i, (a, b) in enumerate(zip(got, want)):
            assert_matches(a, b, f"{path}[{i}]", rtol, atol)
    else:
        np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64), rtol=rtol, atol=atol,
                                   err_msg=path)


def load_reference() -> dict[str, Any]:
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parent / "control_flow_reference.json"
    return json.loads(path.read_text(encoding="utf-8"))["programs"]
