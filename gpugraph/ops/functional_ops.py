"""map_fn, scan, foldl, foldr: built on tf.while_loop and TensorArray, as TF1 builds them."""

from __future__ import annotations

from typing import Any, Callable

from gpugraph.framework import dtypes
from gpugraph.framework.graph import get_default_graph
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops.cond_ops import flatten, pack_as
from gpugraph.ops.constant_ops import constant, convert_to_tensor
from gpugraph.ops.tensor_array_ops import TensorArray
from gpugraph.ops.while_ops import while_loop

__all__ = ["map_fn", "scan", "foldl", "foldr"]


def _elems(elems: Any) -> tuple[list[Tensor], Any]:
    flat = [convert_to_tensor(e, name="elem") for e in flatten(elems)]
    if not flat:
        raise ValueError("elems must be a Tensor or a (possibly nested) sequence of Tensors; got none")
    for e in flat:
        if e.shape.ndims == 0:
            raise ValueError(f"Elements in elems must be 1+ dimensional Tensors, not scalars: {e.name}")
    first = flat[0].shape.as_tuple()
    n_static = first[0] if first else None
    if n_static is not None:
        return flat, n_static
    from gpugraph.ops.array_ops import shape

    return flat, shape(flat[0])[0]


def _unstacked(flat: list[Tensor], n: Any) -> list[TensorArray]:
    return [TensorArray(dtype=e.dtype, size=n, dynamic_size=False, infer_shape=True).unstack(e) for e in flat]


def _reader(elems: Any, elems_ta: list[TensorArray]) -> Callable[[Any], Any]:
    def read(i: Any) -> Any:
        return pack_as(elems, [ta.read(i) for ta in elems_ta])
    return read


def _with_first_dim(results: list[Tensor], n: Any) -> None:
    n_static = n if isinstance(n, int) else None
    for r in results:
        if r.shape.ndims is not None:
            r.set_shape(TensorShape((n_static, *r.shape.as_tuple()[1:])))


def map_fn(fn: Callable[[Any], Any], elems: Any, dtype: Any = None, parallel_iterations: Any = None,
           back_prop: bool = True, swap_memory: bool = False, infer_shape: bool = True, name: str | None = None) -> Any:
    """``fn`` applied to each slice of ``elems`` along dimension 0; the results stacked."""
    if not callable(fn):
        raise TypeError("fn must be callable.")
    graph = get_default_graph()
    with graph.name_scope(name or "map"):
        flat, n = _elems(elems)
        out_structure = elems if dtype is None else dtype
        out_dtypes = [e.dtype.base_dtype for e in flat] if dtype is None else \
            [dtypes.as_dtype(d).base_dtype for d in flatten(dtype)]
        elems_ta = _unstacked(flat, n)
        read = _reader(elems, elems_ta)
        accs = [TensorArray(dtype=dt, size=n, dynamic_size=False, infer_shape=infer_shape) for dt in out_dtypes]

        def compute(i: Any, tas: Any) -> Any:
            values = flatten(fn(read(i)))
            if len(values) != len(tas):
                raise ValueError(f"The two structures don't have the same number of elements: fn returned "
                                 f"{len(values)} values for dtype {out_structure!r}")
            return (i + 1, [ta.write(i, v) for ta, v in zip(tas, values)])

        _, result_tas = while_loop(lambda i, _: i < n, compute, (constant(0), accs),
                                   parallel_iterations=parallel_iterations or 10, back_prop=back_prop,
                                   swap_memory=swap_memory, maximum_iterations=n)
        results = [ta.stack() for ta in result_tas]
        _with_first_dim(results, n)
        return pack_as(out_structure, results)


def scan(fn: Callable[[Any, Any], Any], elems: Any, initializer: Any = None, parallel_iterations: int = 10,
         back_prop: bool = True, swap_memory: bool = False, infer_shape: bool = True, reverse: bool = False,
         name: str | None = None) -> Any:
    """The running ``a = fn(a, x)`` over the slices of ``elems``; every ``a`` stacked."""
    if not callable(fn):
        raise TypeError("fn must be callable.")
    graph = get_default_graph()
    with graph.name_scope(name or "scan"):
        flat, n = _elems(elems)
        elems_ta = _unstacked(flat, n)
        read = _reader(elems, elems_ta)
        last = n - 1
        if initializer is None:
            out_structure = elems
            a_flat = [ta.read(last if reverse else 0) for ta in elems_ta]
            start = 1
        else:
            out_structure = initializer
            a_flat = [convert_to_tensor(a) for a in flatten(initializer)]
            start = 0
        accs = [TensorArray(dtype=a.dtype, size=n, element_shape=a.shape if infer_shape else None,
                            dynamic_size=False, infer_shape=infer_shape) for a in a_flat]
        if initializer is None:
            accs = [ta.write(last if reverse else 0, a) for ta, a in zip(accs, a_flat)]

        def compute(i: Any, a: Any, tas: Any) -> Any:
            a_out = flatten(fn(pack_as(out_structure, a), read(i)))
            tas = [ta.write(i, v) for ta, v in zip(tas, a_out)]
            return (i - 1 if reverse else i + 1, a_out, tas)

        if reverse:
            first = convert_to_tensor(n) - 1 - start if not isinstance(n, int) else constant(n - 1 - start)

            def condition(i: Any, _a: Any, _t: Any) -> Any:
                return i >= 0
        else:
            first = constant(start)

            def condition(i: Any, _a: Any, _t: Any) -> Any:
                return i < n
        _, _, result_tas = while_loop(condition, compute, (first, a_flat, accs),
                                      parallel_iterations=parallel_iterations, back_prop=back_prop,
                                      swap_memory=swap_memory, maximum_iterations=n)
        results = [ta.stack() for ta in result_tas]
        _with_first_dim(results, n)
        return pack_as(out_structure, results)


def _fold(fn: Callable[[Any, Any], Any], elems: Any, initializer: Any, parallel_iterations: int, back_prop: bool,
          swap_memory: bool, name: str, from_end: bool) -> Any:
    if not callable(fn):
        raise TypeError("fn must be callable.")
    graph = get_default_graph()
    with graph.name_scope(name):
        flat, n = _elems(elems)
        elems_ta = _unstacked(flat, n)
        read = _reader(elems, elems_ta)
        n_t = constant(n) if isinstance(n, int) else n
        if initializer is None:
            a = read(n_t - 1 if from_end else 0)
            i = n_t - 2 if from_end else constant(1)
        else:
            a = initializer
            i = n_t - 1 if from_end else constant(0)

        def compute(i: Any, a: Any) -> Any:
            return [i - 1 if from_end else i + 1, fn(a, read(i))]

        def condition(i: Any, a: Any) -> Any:
            return i >= 0 if from_end else i < n

        _, result = while_loop(condition, compute, [i, a], parallel_iterations=parallel_iterations,
                               back_prop=back_prop, swap_memory=swap_memory, maximum_iterations=n)
        return result


def foldl(fn: Callable[[Any, Any], Any], elems: Any, initializer: Any = None, parallel_iterations: int = 10,
          back_prop: bool = True, swap_memory: bool = False, name: str | None = None) -> Any:
    """``fn(...fn(fn(initializer, x0), x1)..., xn-1)`` over the slices of ``elems``."""
    return _fold(fn, elems, initializer, parallel_iterations, back_prop, swap_memory, name or "foldl", False)


def foldr(fn: Callable[[Any, Any], Any], elems: Any, initializer: Any = None, parallel_iterations: int = 10,
          back_prop: bool = True, swap_memory: bool = False, name: str | None = None) -> Any:
    """``fn(...fn(fn(initializer, xn-1), xn-2)..., x0)`` over the slices of ``elems``."""
    return _fold(fn, elems, initializer, parallel_iterations, back_prop, swap_memory, name or "foldr", True)
