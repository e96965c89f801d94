"""Host-side debugging ops: tf.Assert, tf.Print and tf.print, with TF's text for tensors."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from gpugraph import errors
from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.ops.registry import NO_GRADIENT, OpDef, register_op

__all__ = ["Assert", "Print", "print"]  # noqa: A004 - tf.print

_PLACEHOLDER = "{}"


# --- TF's Tensor::SummarizeValue, for v1 (Assert, Print) and v2 (tf.print) ---
def _element(value: Any, v2: bool) -> str:
    if isinstance(value, (bytes, np.bytes_)):
        text = value.decode("utf-8", "replace")
        return f'"{text}"' if v2 else text
    if isinstance(value, str):
        return f'"{value}"' if v2 else value
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"  # TF prints bools as 1/0, in tf.print too
    if isinstance(value, (np.floating, float)):
        return _float_text(value)
    return str(value)


def _float_text(value: Any) -> str:
    """C's %g with the fewest digits that read back the same value, as TF's FloatToBuffer."""
    if isinstance(value, np.float64) or isinstance(value, float):
        short, long_, cast = 15, 17, np.float64
    else:
        short, long_, cast = 6, 9, np.float32
    if np.isnan(value):
        return "nan"
    if np.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = f"{float(value):.{short}g}"
    if cast(text) != cast(value):
        text = f"{float(value):.{long_}g}"
    return text


def summarize_v1(array: np.ndarray, limit: int) -> str:
    """The first ``limit`` elements, nested in brackets, "..." where cut (TF's PrintOneDim)."""
    flat = array.reshape(-1)
    n = flat.size
    limit = n if limit < 0 else min(limit, n)
    if array.ndim == 0:
        return _element(flat[0], False) if limit else ""
    out: list[str] = []
    index = [0]

    def one_dim(dim: int) -> None:
        if index[0] >= limit:
            return
        if dim == array.ndim - 1:
            for i in range(array.shape[dim]):
                if index[0] >= limit:
                    if dim != 0:
                        out.append("...")
                    return
                if i > 0:
                    out.append(" ")
                out.append(_element(flat[index[0]], False))
                index[0] += 1
            return
        for _ in range(array.shape[dim]):
            opened = index[0] < limit
            if opened:
                out.append("[")
            one_dim(dim + 1)
            if index[0] < limit or opened:
                out.append("]")

    one_dim(0)
    return "".join(out) + ("..." if n > limit else "")


def summarize_v2(array: np.ndarray, edge: int) -> str:
    """Numpy-like text with ``edge`` items at each end of every axis (TF's PrintOneDimV2)."""
    if array.ndim == 0:
        return _element(array.reshape(-1)[0], True)
    edge = max(array.shape) if edge < 0 else edge
    nd = array.ndim

    def spacing(dim: int) -> str:
        return " " if dim == nd - 1 else "\n" * (nd - dim - 1) + " " * (dim + 1)

    def one_dim(sub: np.ndarray, dim: int) -> str:
        if dim == nd:
            return _element(sub, True)
        count = sub.shape[0]
        parts = [one_dim(sub[i], dim + 1) for i in range(min(edge, count))]
        if count > 2 * edge:
            parts.append("...")
        parts += [one_dim(sub[i], dim + 1) for i in range(max(edge, count - edge), count)]
        return "[" + spacing(dim).join(parts) + "]"

    return one_dim(array, 0)


def _host(value: Any) -> np.ndarray:
    return np.asarray(value)


# --- Assert ---
def _assert_infer(condition: Tensor, *data: Tensor, summarize: int) -> Any:
    if condition.dtype.base_dtype != dtypes.bool_:
        raise TypeError(f"Input 'condition' of 'Assert' Op has type {condition.dtype.base_dtype.name} that does not "
                        f"match expected type of bool.")
    return []


def _assert_bind(op: Operation, ctx: Any) -> Any:
    summarize = op.get_attr("summarize")

    def step(condition: Any, *data: Any) -> None:
        if _host(condition).all():
            return
        text = " ".join("[" + summarize_v1(_host(d), summarize) + "]" for d in data)
        raise errors.InvalidArgumentError(None, op, f"assertion failed: {text}\n\t [[{{{{node {op.name}}}}}]]")
    return step


ASSERT = register_op(OpDef(
    "Assert", infer=_assert_infer, bind=_assert_bind, stateful=True, grad=NO_GRADIENT, gpu=False, same_dtype=False,
    input_names=("condition", "data"),
))


def _as_data(values: Any) -> list[Any]:
    from gpugraph.ops.constant_ops import convert_to_tensor

    return [v if isinstance(v, Tensor) else convert_to_tensor(v) for v in values]


def Assert(condition: Any, data: Any, summarize: int | None = None, name: str | None = None) -> Operation:  # noqa: N802
    """An op raising InvalidArgumentError("assertion failed: [...]") when run with a false ``condition``."""
    from gpugraph import name_scope

    with name_scope(name, "Assert", [condition, data]):
        return ASSERT(condition, *_as_data(data), name="Assert", summarize=3 if summarize is None else int(summarize))


# --- Print (TF1's identity that logs) ---
def _print_infer(input_: Tensor, *data: Tensor, message: str, first_n: int, summarize: int) -> Any:
    return input_.shape, input_.dtype.base_dtype


def _print_bind(op: Operation, ctx: Any) -> Any:
    message, first_n, summarize = op.get_attr("message"), op.get_attr("first_n"), op.get_attr("summarize")
    printed = [0]

    def step(input_: Any, *data: Any) -> Any:
        if first_n < 0 or printed[0] < first_n:
            printed[0] += 1
            text = "".join("[" + summarize_v1(_host(d), summarize) + "]" for d in data)
            sys.stderr.write(message + text + "\n")
            sys.stderr.flush()
        return input_
    return step


PRINT = register_op(OpDef(
    "Print", infer=_print_infer, bind=_print_bind, stateful=True, gpu=False, same_dtype=False,
    grad=lambda op, dy: [dy] + [None] * (len(op.inputs) - 1), input_names=("input", "data"),
))


def Print(input_: Any, data: Any, message: str | None = None, first_n: int | None = None,  # noqa: N802
          summarize: int | None = None, name: str | None = None) -> Tensor:
    """``input_`` unchanged; running it writes ``message`` and the ``data`` values to stderr."""
    return PRINT(input_, *_as_data(data or []), name=name or "Print", message=message or "",
                 first_n=-1 if first_n is None else int(first_n), summarize=3 if summarize is None else int(summarize))


# --- tf.print (PrintV2): an op with no outputs ---
_STREAMS = ("stderr", "stdout", "log(info)", "log(warning)", "log(error)")


def _print_v2_bind(op: Operation, ctx: Any) -> Any:
    template, stream = op.get_attr("template"), op.get_attr("output_stream")
    summarize, end = op.get_attr("summarize"), op.get_attr("end")

    def step(*values: Any) -> None:
        pieces = template.split(_PLACEHOLDER)
        text = pieces[0] + "".join(summarize_v2(_host(v), summarize) + p for v, p in zip(values, pieces[1:]))
        if stream.startswith("log("):
            from gpugraph import tf_logging

            level = {"log(info)": tf_logging.INFO, "log(warning)": tf_logging.WARN}.get(stream, tf_logging.ERROR)
            tf_logging.log(level, text)
            return
        out = sys.stdout if stream == "stdout" else sys.stderr
        out.write(text + end)
        out.flush()
    return step


PRINT_V2 = register_op(OpDef(
    "PrintV2", infer=lambda *values, **attrs: [], bind=_print_v2_bind, stateful=True, grad=NO_GRADIENT, gpu=False,
    same_dtype=False, input_names=("inputs",),
))


def _template(item: Any, tensors: list[Tensor], top: bool) -> str:
    """Python's text for ``item`` with each tensor (or Variable) replaced by a placeholder."""
    if isinstance(item, Tensor) or hasattr(item, "_as_tensor"):
        tensors.append(item if isinstance(item, Tensor) else item._as_tensor())
        return _PLACEHOLDER
    if isinstance(item, (list, tuple)):
        inner = ", ".join(_template(v, tensors, False) for v in item)
        return f"[{inner}]" if isinstance(item, list) else f"({inner}{',' if len(item) == 1 else ''})"
    if isinstance(item, dict):
        return "{" + ", ".join(f"{k!r}: {_template(v, tensors, False)}" for k, v in item.items()) + "}"
    if isinstance(item, str):
        return item.replace(_PLACEHOLDER, "{ }") if top else repr(item)
    return str(item)


def print(*inputs: Any, **kwargs: Any) -> Operation:  # noqa: A001 - TF1's tf.print
    """``tf.print(*inputs, output_stream=sys.stderr, summarize=3, sep=' ', end='\\n', name=None)``: an op that
    prints when run (put it in control_dependencies, or run it)."""
    stream = kwargs.pop("output_stream", sys.stderr)
    summarize = kwargs.pop("summarize", 3)
    sep, end, name = kwargs.pop("sep", " "), kwargs.pop("end", "\n"), kwargs.pop("name", None)
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments for tf.print: {kwargs}")
    if stream is sys.stderr:
        stream = "stderr"
    elif stream is sys.stdout:
        stream = "stdout"
    elif stream not in _STREAMS:
        raise ValueError(f"Unsupported output stream, logging level, or file.{stream}. Supported streams are "
                         f"sys.stdout, sys.stderr, tf.logging.info, tf.logging.warning, tf.logging.error. File "
                         f"needs to be in the form of 'file://<filepath>'.")
    tensors: list[Tensor] = []
    template = sep.join(_template(item, tensors, True) for item in inputs)
    return PRINT_V2(*tensors, name=name or "PrintV2", template=template, output_stream=stream, end=end,
                    summarize=3 if summarize is None else max(int(summarize), -1))
