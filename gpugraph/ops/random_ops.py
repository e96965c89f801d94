"""Random ops with TF1's graph-level and op-level seeds.

Each random op owns one stream per session, seeded from (graph seed, op seed): a new session
replays the same values, successive runs in one session draw new ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.graph import get_default_graph
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops import dynamic_shape_ops, shape_fns
from gpugraph.ops.registry import NO_GRADIENT, OpDef, register_op

__all__ = ["random_uniform", "random_normal", "truncated_normal", "set_random_seed", "get_seed"]

DEFAULT_GRAPH_SEED = 87654321


def set_random_seed(seed: int | None) -> None:
    """The graph-level seed of the default graph."""
    get_default_graph().seed = None if seed is None else int(seed)


_MAXINT32 = 2**31 - 1


def get_seed(op_seed: int | None) -> tuple[int, int] | None:
    """TF1's rule: graph seed + op seed (the op count when only the graph seed is set)."""
    graph = get_default_graph()
    if graph.seed is not None:
        seeds = graph.seed % _MAXINT32, (int(op_seed) if op_seed is not None else graph._last_id) % _MAXINT32
    elif op_seed is not None:
        seeds = DEFAULT_GRAPH_SEED, int(op_seed) % _MAXINT32
    else:
        return None
    return (0, _MAXINT32) if seeds == (0, 0) else seeds  # (0, 0) means "nondeterministic" to TF1 kernels


def _random_infer(*shape_input: Tensor, shape: TensorShape, dtype: dtypes.DType, seeds: Any) -> Any:
    """``shape`` is the static shape; a run-time shape comes as the one input, as TF1's ``shape`` input."""
    if not dtype.is_floating:
        raise TypeError(f"Random op dtype must be floating point, got {dtype.name}")
    return shape, dtype


def _run_time_dims(dims: Any) -> tuple[int, ...]:
    out = tuple(int(d) for d in np.asarray(dims).reshape(-1).tolist())
    for d in out:
        if d < 0:
            raise ValueError(f"Dimension {d} must be >= 0")
    return out


def _truncated(gen: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    out = gen.standard_normal(shape)
    bad = np.abs(out) > 2.0
    while bad.any():  # resample beyond two standard deviations, as TF1 does
        out[bad] = gen.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2.0
    return out


_DRAWS = {
    "RandomUniform": lambda gen, shape: gen.random(shape),
    "RandomStandardNormal": lambda gen, shape: gen.standard_normal(shape),
    "TruncatedNormal": _truncated,
}


def _bind_random(op: Operation, ctx: Any) -> Any:
    gen = ctx.rng(op)
    np_dtype = op.get_attr("dtype").np_dtype
    draw = _DRAWS[op.type]
    xp = ctx.backend.xp
    if op.inputs:
        return lambda dims: xp.asarray(draw(gen, _run_time_dims(dims)).astype(np_dtype))
    shape = tuple(op.get_attr("shape").as_list())
    return lambda: xp.asarray(draw(gen, shape).astype(np_dtype))


def _random_op(name: str) -> OpDef:
    return register_op(OpDef(name, infer=_random_infer, bind=_bind_random, stateful=True, grad=NO_GRADIENT,
                              gpu=False))


RANDOM_UNIFORM = _random_op("RandomUniform")
RANDOM_STANDARD_NORMAL = _random_op("RandomStandardNormal")
TRUNCATED_NORMAL = _random_op("TruncatedNormal")


def _uniform_int_infer(minval: Tensor, maxval: Tensor, *shape_input: Tensor, shape: TensorShape, seeds: Any) -> Any:
    if not minval.dtype.base_dtype.is_integer:
        raise TypeError(f"RandomUniformInt needs an integer dtype, got {minval.dtype.base_dtype.name}")
    for t in (minval, maxval):
        if not t.shape.is_compatible_with(()):
            raise ValueError(f"minval and maxval must be scalars, got shape {t.shape}")
    return shape, minval.dtype.base_dtype


def _bind_uniform_int(op: Operation, ctx: Any) -> Any:
    gen = ctx.rng(op)
    static = tuple(op.get_attr("shape").as_list()) if not op.inputs[2:] else ()
    np_dtype = op.outputs[0].dtype.np_dtype
    xp = ctx.backend.xp

    def draw(lo: Any, hi: Any, *dims: Any) -> Any:
        shape = _run_time_dims(dims[0]) if dims else static
        lo, hi = int(lo), int(hi)
        if lo >= hi:
            raise ValueError(f"Need minval < maxval: {lo} >= {hi}")
        return xp.asarray(gen.integers(lo, hi, size=shape, dtype=np_dtype))
    return draw


RANDOM_UNIFORM_INT = register_op(OpDef(
    "RandomUniformInt", infer=_uniform_int_infer, bind=_bind_uniform_int, stateful=True, grad=NO_GRADIENT,
    gpu=False, same_dtype=False,
    input_names=("minval", "maxval", "shape"),
))


def _shape_arg(shape: Any, what: str) -> tuple[TensorShape, list[Tensor]]:
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
        return _shape_arg(list(values), what)
    return shape_fns.constant_value_as_shape(shape_t), [shape_t]


def _scaled(opdef: OpDef, default: str, shape: Any, mean: Any, stddev: Any, dtype: Any, seed: Any,
            name: str | None) -> Tensor:
    from gpugraph.ops.constant_ops import convert_to_tensor
    from gpugraph.ops.math_ops import add, multiply

    dt = dtypes.as_dtype(dtype).base_dtype
    graph = get_default_graph()
    with graph.name_scope(name or default) as scope:
        static, shape_input = _shape_arg(shape, f"tf.{default}")
        mean_t = convert_to_tensor(mean, dtype=dt, name="mean")
        stddev_t = convert_to_tensor(stddev, dtype=dt, name="stddev")
        raw = opdef(*shape_input, name=opdef.name, shape=static, dtype=dt, seeds=get_seed(seed))
        return add(multiply(raw, stddev_t, name="mul"), mean_t, name=scope)


def random_uniform(shape: Any, minval: Any = 0, maxval: Any = None, dtype: Any = dtypes.float32,
                   seed: Any = None, name: str | None = None) -> Tensor:
    """Uniform values in [minval, maxval); integer dtypes need ``maxval``, as in TF1."""
    from gpugraph.ops.constant_ops import convert_to_tensor
    from gpugraph.ops.math_ops import add, multiply, subtract

    dt = dtypes.as_dtype(dtype).base_dtype
    if dt.is_integer and maxval is None:
        raise ValueError(f"Must specify maxval for integer dtype {dt.name}")
    if not (dt.is_integer or dt.is_floating):
        raise ValueError(f"tf.random_uniform: dtype {dt.name} is not supported")
    maxval = 1 if maxval is None else maxval
    graph = get_default_graph()
    with graph.name_scope(name or "random_uniform") as scope:
        static, shape_input = _shape_arg(shape, "tf.random_uniform")
        lo = convert_to_tensor(minval, dtype=dt, name="min")
        hi = convert_to_tensor(maxval, dtype=dt, name="max")
        if dt.is_integer:
            return RANDOM_UNIFORM_INT(lo, hi, *shape_input, name=scope, shape=static, seeds=get_seed(seed))
        raw = RANDOM_UNIFORM(*shape_input, name="RandomUniform", shape=static, dtype=dt, seeds=get_seed(seed))
        return add(multiply(raw, subtract(hi, lo, name="sub"), name="mul"), lo, name=scope)


def random_normal(shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = dtypes.float32,
                  seed: Any = None, name: str | None = None) -> Tensor:
    return _scaled(RANDOM_STANDARD_NORMAL, "random_normal", shape, mean, stddev, dtype, seed, name)


def truncated_normal(shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = dtypes.float32,
                     seed: Any = None, name: str | None = None) -> Tensor:
    """Normal values, redrawn until within two standard deviations of the mean."""
    return _scaled(TRUNCATED_NORMAL, "truncated_normal", shape, mean, stddev, dtype, seed, name)
