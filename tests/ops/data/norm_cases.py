"""Normalisation and top-k cases shared by make_norm_reference.py (run on TensorFlow) and
test_norm_ops.py / test_topk_ops.py (run on gpugraph): each builds the same graph from a ``tf`` module."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

Build = Callable[[Any, dict[str, Any]], dict[str, Any]]


def _arr(seed: int, shape: tuple[int, ...], lo: float = -2.0, hi: float = 2.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(lo, hi, shape).astype(np.float32)


def _bn_params(seed: int, c: int) -> dict[str, np.ndarray]:
    return {"scale": _arr(seed, (c,), 0.5, 1.5), "offset": _arr(seed + 1, (c,)),
            "mean": _arr(seed + 2, (c,)), "variance": _arr(seed + 3, (c,), 0.5, 2.0)}


def _fused(data_format: str, **kw: Any) -> Build:
    def build(tf: Any, t: dict[str, Any]) -> dict[str, Any]:
        stats = {"mean": t["mean"], "variance": t["variance"]} if "mean" in t else {}
        y, m, v = tf.nn.fused_batch_norm(t["x"], t["scale"], t["offset"], data_format=data_format, **stats, **kw)
        return {"y": y, "batch_mean": m, "batch_variance": v}
    return build


_TIES = np.array([[1.0, 3.0, 3.0, 0.0, 3.0, -1.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0],
                  [0.5, -1.0, 4.0, 4.0, 0.25, 7.0]], np.float32)
_PREDS = np.array([[0.1, 0.3, 0.3, 0.2], [0.5, np.nan, 0.1, 0.2], [0.4, 0.4, 0.4, 0.4],
                   [0.0, 1.0, 2.0, 3.0], [1.0, np.inf, 0.0, 2.0], [0.9, 0.8, 0.7, 0.6]], np.float32)
_TARGETS = np.array([2, 0, 3, -1, 3, 4], np.int32)
_P = {k: v[:3] for k, v in _bn_params(7, 3).items()}

# name -> (inputs, build, outputs in the differentiated loss (None: every float output))
CASES: dict[str, tuple[dict[str, np.ndarray], Build, list[str] | None]] = {
    "moments": ({"x": _arr(1, (3, 4, 2))},
                lambda tf, t: dict(zip(("mean", "variance"), tf.nn.moments(t["x"], [0, 1]))), None),
    "moments_keep_dims": ({"x": _arr(2, (2, 3, 4))},
                          lambda tf, t: dict(zip(("mean", "variance"), tf.nn.moments(t["x"], [1], keep_dims=True))),
                          None),
    "weighted_moments": ({"x": _arr(3, (3, 4)), "w": _arr(4, (3, 1), 0.5, 2.0)},
                         lambda tf, t: dict(zip(("mean", "variance"), tf.nn.weighted_moments(t["x"], [0], t["w"]))),
                         None),
    "batch_normalization": ({"x": _arr(5, (4, 3)), **_bn_params(6, 3)},
                            lambda tf, t: {"y": tf.nn.batch_normalization(t["x"], t["mean"], t["variance"], t["offset"],
                                                                          t["scale"], 1e-3)}, None),
    "batch_normalization_plain": ({"x": _arr(8, (2, 3)), "mean": _arr(9, (3,)), "variance": _arr(10, (3,), 0.5, 2.0)},
                                  lambda tf, t: {"y": tf.nn.batch_normalization(t["x"], t["mean"], t["variance"],
                                                                                None, None, 0.01)}, None),
    "fused_train_nhwc": ({"x": _arr(11, (2, 3, 3, 2)), "scale": _P["scale"][:2], "offset": _P["offset"][:2]},
                         _fused("NHWC"), ["y"]),
    "fused_train_nchw": ({"x": _arr(12, (2, 3, 2, 3)), "scale": _P["scale"], "offset": _P["offset"]},
                         _fused("NCHW"), ["y"]),
    "fused_infer_nhwc": ({"x": _arr(13, (2, 2, 3, 3)), **_P}, _fused("NHWC", is_training=False), ["y"]),
    "fused_infer_nchw": ({"x": _arr(14, (2, 3, 2, 2)), **_P}, _fused("NCHW", is_training=False, epsilon=0.1),
                         ["y"]),
    "fused_train_avg": ({"x": _arr(15, (3, 2, 2, 3)), **_P}, _fused("NHWC", exponential_avg_factor=0.25), ["y"]),
    "l2_normalize": ({"x": _arr(16, (3, 4))}, lambda tf, t: {"y": tf.nn.l2_normalize(t["x"], 1)}, None),
    "l2_normalize_all": ({"x": _arr(17, (2, 3))}, lambda tf, t: {"y": tf.nn.l2_normalize(t["x"], epsilon=0.5)},
                         None),
    "lrn": ({"x": _arr(18, (2, 2, 2, 7))},
            lambda tf, t: {"y": tf.nn.lrn(t["x"], depth_radius=2, bias=1.5, alpha=0.3, beta=0.75)}, None),
    "lrn_defaults": ({"x": _arr(19, (1, 2, 1, 12))}, lambda tf, t: {"y": tf.nn.local_response_normalization(t["x"])},
                     None),
    "top_k": ({"x": _TIES}, lambda tf, t: dict(zip(("values", "indices"), tf.nn.top_k(t["x"], 3))), None),
    "top_k_tensor_k": ({"x": _arr(20, (2, 3, 5)), "k": np.array(2, np.int32)},
                       lambda tf, t: dict(zip(("values", "indices"), tf.nn.top_k(t["x"], t["k"]))), None),
    "in_top_k": ({"p": _PREDS, "t": _TARGETS},
                 lambda tf, t: {f"k{k}": tf.nn.in_top_k(t["p"], t["t"], k) for k in (1, 2, 4)}, None),
}


def weight(shape: tuple[int, ...], j: int) -> np.ndarray:
    """A fixed, uneven cotangent for output j, so every element's gradient matters."""
    n = int(np.prod(shape))
    return (np.cos(np.arange(n) * 0.7 + j) + 0.1 * j).reshape(shape).astype(np.float32)


def evaluate(tf: Any, name: str) -> dict[str, Any]:
    """Outputs (values and tensor names) and the gradients of sum(out * weight) for one case."""
    inputs, build, loss_outputs = CASES[name]
    graph = tf.Graph()
    with graph.as_default():
        phs = {k: tf.placeholder(tf.as_dtype(v.dtype), v.shape, name=k) for k, v in inputs.items()}
        outs = build(tf, phs)
        keys = sorted(outs)
        values = dict(zip(keys, tf.Session(graph=graph).run([outs[k] for k in keys], {phs[k]: v for k, v in
                                                                                         inputs.items()})))
        diff = [k for k in keys if values[k].dtype.kind == "f" and (loss_outputs is None or k in loss_outputs)]
        grads: dict[str, Any] = {}
        if diff:
            loss = tf.add_n([tf.reduce_sum(outs[k] * weight(values[k].shape, j)) for j, k in enumerate(diff)])
            xs = [k for k, v in inputs.items() if v.dtype.kind == "f"]
            gs = tf.gradients(loss, [phs[k] for k in xs])
            fetch = [(k, g) for k, g in zip(xs, gs) if g is not None]
            got = tf.Session(graph=graph).run([g for _, g in fetch], {phs[k]: v for k, v in inputs.items()})
            grads = {k: None for k in xs} | {k: v for (k, _), v in zip(fetch, got)}
    return {"names": {k: outs[k].name for k in keys}, "values": values, "grads": grads}
