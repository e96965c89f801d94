"""Random ops with TF1's graph-level and op-level seeds, drawing TF's own numbers (Philox4x32-10).

Each random op owns one Philox stream per session, keyed by (graph seed, op seed): a new session
replays the same values, successive runs in one session draw new ones, and the values are those of
TF's CPU kernels (see ``philox``). On a GPU each draw is one CUDA kernel computing the same stream.
"""

from __future__ import annotations

import math
import operator
import weakref
from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.graph import Graph, get_default_graph
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops import dynamic_shape_ops, philox, shape_fns
from gpugraph.ops.registry import NO_GRADIENT, OpDef, register_op
from gpugraph.ops.xp_compat import on_host

__all__ = ["random_uniform", "random_normal", "truncated_normal", "set_random_seed", "get_seed"]

DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2**31 - 1
# Op seeds handed out per graph when only the graph seed is set (TF's _graph_to_seed_dict).
_op_seed_counts: weakref.WeakKeyDictionary[Graph, int] = weakref.WeakKeyDictionary()


def set_random_seed(seed: int | None) -> None:
    """The graph-level seed of the default graph."""
    get_default_graph().seed = None if seed is None else int(seed)


def get_seed(op_seed: int | None) -> tuple[int, int] | None:
    """TF's rule: (graph seed, op seed); with only a graph seed, op seeds 0, 1, 2, ... in the order asked."""
    graph = get_default_graph()
    if graph.seed is not None:
        if op_seed is None:
            op_seed = _op_seed_counts.setdefault(graph, 0)
            _op_seed_counts[graph] = op_seed + 1
        seeds = graph.seed % _MAXINT32, int(op_seed) % _MAXINT32
    elif op_seed is not None:
        seeds = DEFAULT_GRAPH_SEED, int(op_seed) % _MAXINT32
    else:
        return None
    return (0, _MAXINT32) if seeds == (0, 0) else seeds  # (0, 0) means "nondeterministic" to TF's kernels


def _random_infer(*shape_input: Tensor, shape: TensorShape, dtype: dtypes.DType, seeds: Any) -> Any:
    """``shape`` is the static shape; a run-time shape comes as the one input, as TF1's ``shape`` input."""
    if dtype not in (dtypes.float16, dtypes.float32, dtypes.float64):
        raise TypeError(f"Random op dtype must be half, float or double, got {dtype.name}")
    return shape, dtype


def host_dims(backend: Any, dims: Any) -> tuple[int, ...]:
    """A run-time shape input as host integers (TF keeps this input in host memory too)."""
    out = tuple(operator.index(d) for d in backend.to_host(dims).reshape(-1))
    for d in out:
        if d < 0:
            raise ValueError(f"Dimension {d} must be >= 0")
    return out


_DRAWS = {
    "RandomUniform": philox.uniform,
    "RandomStandardNormal": philox.normal,
    "TruncatedNormal": philox.truncated_normal,
}


def _bind_random(op: Operation, ctx: Any) -> Any:
    state = ctx.philox(op)
    draw = _DRAWS[op.type]
    dtype = np.dtype(op.get_attr("dtype").np_dtype)
    backend = ctx.backend
    xp = backend.xp
    static = tuple(op.get_attr("shape").as_list()) if not op.inputs else None

    def run(*dims: Any) -> Any:
        shape = host_dims(backend, dims[0]) if dims else static
        n = math.prod(shape)
        counter = state.reserve(n * philox.RESERVED_BLOCKS_PER_OUTPUT)
        if n == 0:
            return xp.zeros(shape, dtype=dtype)
        return draw(xp, state.key, counter, n, dtype).reshape(shape)
    return run


def _random_op(name: str) -> OpDef:
    return register_op(OpDef(name, infer=_random_infer, bind=_bind_random, stateful=True,
                              fresh_outputs=True, grad=NO_GRADIENT))


RANDOM_UNIFORM = _random_op("RandomUniform")
RANDOM_STANDARD_NORMAL = _random_op("RandomStandardNormal")
TRUNCATED_NORMAL = _random_op("TruncatedNormal")


def _uniform_int_infer(minval: Tensor, maxval: Tensor, *shape_input: Tensor, shape: TensorShape, seeds: Any) -> Any:
    if minval.dtype.base_dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"RandomUniformInt needs an int32 or int64 dtype, got {minval.dtype.base_dtype.name}")
    for t in (minval, maxval):
        if not t.shape.is_compatible_with(()):
            raise ValueError(f"minval and maxval must be scalars, got shape {t.shape}")
    return shape, minval.dtype.base_dtype


def _bind_uniform_int(op: Operation, ctx: Any) -> Any:
    state = ctx.philox(op)
    static = tuple(op.get_attr("shape").as_list()) if not op.inputs[2:] else None
    dtype = np.dtype(op.outputs[0].dtype.np_dtype)
    backend = ctx.backend
    xp = backend.xp

    def draw(lo: Any, hi: Any, *dims: Any) -> Any:
        shape = host_dims(backend, dims[0]) if dims else static
        if on_host(xp) and lo >= hi:  # a device backend does not look: that read would stall the stream
            raise ValueError(f"Need minval < maxval, got {lo} >= {hi}")
        n = math.prod(shape)
        counter = state.reserve(n * philox.RESERVED_BLOCKS_PER_OUTPUT)
        if n == 0:
            return xp.zeros(shape, dtype=dtype)
        return philox.uniform_int(xp, state.key, counter, n, xp.asarray(lo), xp.asarray(hi), dtype).reshape(shape)
    return draw


RANDOM_UNIFORM_INT = register_op(OpDef(
    "RandomUniformInt", infer=_uniform_int_infer, bind=_bind_uniform_int, stateful=True, grad=NO_GRADIENT,
    fresh_outputs=True, same_dtype=False, input_names=("minval", "maxval", "shape"),
))


def shape_arg(shape: Any, what: str) -> tuple[TensorShape, list[Tensor]]:
    """The static shape, and the shape tensor to pass as an input when only the run time knows it."""
    if not dynamic_shape_ops.contains_graph_value(shape):
        s = TensorShape(shape)
        if not s.is_fully_defined():
            raise ValueError(f"{what}: shape {s} must be fully defined")
        if any(d < 0 for d in s.as_list()):
            raise ValueError(f"{what}: Dimension {min(s.as_list())} must be >= 0")
        return s, []
    shape_t = dynamic_shape_ops.shape_tensor(shape)
    values = dynamic_shape_ops.known_values(shape_t)
    if values is not None:
        return shape_arg(list(values), what)
    return shape_fns.constant_value_as_shape(shape_t), [shape_t]


def _scaled(opdef: OpDef, default: str, shape: Any, mean: Any, stddev: Any, dtype: Any, seed: Any,
            name: str | None) -> Tensor:
    from gpugraph.ops.constant_ops import convert_to_tensor
    from gpugraph.ops.math_ops import add, multiply

    dt = dtypes.as_dtype(dtype).base_dtype
    graph = get_default_graph()
    with graph.name_scope(name or default) as scope:
        static, shape_input = shape_arg(shape, f"tf.{default}")
        mean_t = convert_to_tensor(mean, dtype=dt, name="mean")
        stddev_t = convert_to_tensor(stddev, dtype=dt, name="stddev")
        raw = opdef(*shape_input, name=opdef.name, shape=static, dtype=dt, seeds=get_seed(seed))
        return add(multiply(raw, stddev_t, name="mul"), mean_t, name=scope)


_UNIFORM_DTYPES = (dtypes.float16, dtypes.float32, dtypes.float64, dtypes.int32, dtypes.int64)


def random_uniform(shape: Any, minval: Any = 0, maxval: Any = None, dtype: Any = dtypes.float32,
                   seed: Any = None, name: str | None = None) -> Tensor:
    """Uniform values in [minval, maxval); integer dtypes need ``maxval``, as in TF1."""
    from gpugraph.ops.constant_ops import convert_to_tensor
    from gpugraph.ops.math_ops import add, multiply, subtract

    dt = dtypes.as_dtype(dtype).base_dtype
    if dt not in _UNIFORM_DTYPES:
        raise ValueError(f"Argument `dtype` got invalid value {dt!r}. Accepted dtypes are "
                         f"({', '.join(repr(d) for d in _UNIFORM_DTYPES)}).")
    if maxval is None:
        if dt.is_integer:
            raise ValueError(f"Must specify maxval for integer dtype {dt!r}")
        maxval = 1
    graph = get_default_graph()
    with graph.name_scope(name or "random_uniform") as scope:
        static, shape_input = shape_arg(shape, "tf.random_uniform")
        # TF draws [0, 1) as is for the Python ints 0 and 1, and scales otherwise
        min_is_zero = isinstance(minval, int) and not isinstance(minval, bool) and minval == 0
        max_is_one = isinstance(maxval, int) and not isinstance(maxval, bool) and maxval == 1
        if not (min_is_zero and max_is_one) or dt.is_integer:
            minval = convert_to_tensor(minval, dtype=dt, name="min")
            maxval = convert_to_tensor(maxval, dtype=dt, name="max")
        seeds = get_seed(seed)
        if dt.is_integer:
            return RANDOM_UNIFORM_INT(minval, maxval, *shape_input, name=scope, shape=static, seeds=seeds)
        raw = RANDOM_UNIFORM(*shape_input, name="RandomUniform", shape=static, dtype=dt, seeds=seeds)
        if min_is_zero:
            return raw if max_is_one else multiply(raw, maxval)
        return add(multiply(raw, subtract(maxval, minval, name="sub"), name="mul"), minval, name=scope)


def random_normal(shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = dtypes.float32,
                  seed: Any = None, name: str | None = None) -> Tensor:
    return _scaled(RANDOM_STANDARD_NORMAL, "random_normal", shape, mean, stddev, dtype, seed, name)


def truncated_normal(shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = dtypes.float32,
                     seed: Any = None, name: str | None = None) -> Tensor:
    """Normal values, redrawn until within two standard deviations of the mean."""
    return _scaled(TRUNCATED_NORMAL, "truncated_normal", shape, mean, stddev, dtype, seed, name)
