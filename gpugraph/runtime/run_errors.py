"""Run-time errors that say where: the node, its type, its input shapes, and the user's line that made it."""

from __future__ import annotations

import linecache
import re
from typing import Any, Sequence

from gpugraph import errors
from gpugraph.framework.tensor import _PACKAGE_DIR, Operation
from gpugraph.runtime.backend import cuda_error_text
from gpugraph.runtime.memory import out_of_memory_message
from gpugraph.compiler.codegen import PLAN_FILENAME, step_in_frame


def defined_at(op: Operation | None) -> str:
    """TF1's "defined at" note: the file and line of the user's code that created ``op``."""
    frame = getattr(op, "_defined_at", None)
    if frame is None:
        return ""
    filename, line, function = frame
    return (f"\n\nDetected at node '{op.name}' defined at (most recent call last):\n"
            f"  File \"{filename}\", line {line}, in {function}")


def innermost_step(exc: BaseException) -> tuple[Operation, list[Any]] | None:
    """The op, and its inputs, of the deepest plan step that raised ``exc``: an op inside a branch or loop
    body (a sub-plan runs inside its If/While step), else the step of the plan itself."""
    tb, found = exc.__traceback__, None
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_filename == PLAN_FILENAME:
            found = (frame, tb.tb_lineno)
        tb = tb.tb_next
    if found is None:
        return None
    frame, line = found
    step, slots = step_in_frame(frame, line), frame.f_locals.get("s")
    if step is None or slots is None:
        return None
    return step.op, [slots[i] for i in step.inputs]


def _inside(outer: Operation | None, inner: Operation) -> str:
    if outer is None or outer is inner:
        return ""
    return f"\n\t [[{{{{node {outer.name}}}}} ({outer.type}), running the function holding it]]"


def located(exc: errors.OpError, op: Operation | None) -> errors.OpError:
    """``exc`` (same class) with the creating line of its op added to the message, once."""
    if not isinstance(exc.op, Operation) and not getattr(exc, "_located", False):
        inner = innermost_step(exc)
        if inner is not None and inner[0] is not op:
            exc.message = f"{exc.message}\n\t [[{{{{node {inner[0].name}}}}}]]{_inside(op, inner[0])}"
            op = inner[0]
    op = exc.op if isinstance(exc.op, Operation) else op
    if op is None or getattr(exc, "_located", False):
        return exc
    if exc.op is None:
        exc.op = op
    exc.message = f"{exc.message}{defined_at(op)}"
    exc.args = (exc.message,)
    exc._located = True  # type: ignore[attr-defined]
    return exc


def step_failure(op: Operation | None, inputs: Sequence[Any], exc: BaseException) -> errors.InvalidArgumentError:
    """The error for an exception raised by ``op``'s step (that exception becomes the cause). A lowering's
    own message (raised in gpugraph's code) is kept; NumPy's or CuPy's stays in the cause only."""
    if op is None:
        return errors.InvalidArgumentError(None, None, "A step of the plan failed; see the cause.")
    outer, inner = op, innermost_step(exc)
    if inner is not None:  # an op inside a cond branch or loop body: name it, with its enclosing op as context
        op, inputs = inner
    shapes = ", ".join(f"In[{i}]: {_dims(v)}" for i, v in enumerate(inputs))
    reason = f"{exc}; inputs" if _raised_by_gpugraph(exc) and str(exc) else "cannot compute on its inputs"
    text = f"{op.name} ({op.type}): {reason}" + (f" {shapes}" if shapes else "")
    error = errors.InvalidArgumentError(None, op, f"{text}\n\t [[{{{{node {op.name}}}}}]]{_inside(outer, op)}")
    return located(error, op)


def _raised_by_gpugraph(exc: BaseException) -> bool:
    """Whether a ``raise`` statement in gpugraph's code made ``exc`` (not a NumPy/CuPy call it made)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None or not tb.tb_frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        return False
    return linecache.getline(tb.tb_frame.f_code.co_filename, tb.tb_lineno).lstrip().startswith("raise")


def _dims(value: Any) -> str:
    shape = getattr(value, "shape", None)
    if shape is None:
        return type(value).__name__
    return "[" + ",".join(str(d) for d in shape) + "]"


def run_error(step: Any, exc: Exception, slots: list[Any], backend: Any) -> errors.OpError:
    """The gpugraph error for an exception raised by a plan step: OOM or InvalidArgument, naming the node,
    its input shapes and the user's line that created it (the step's inputs are still in ``slots``)."""
    op = step.op if step is not None else None
    inner = getattr(exc, "gpugraph_step", None)  # an op inside a fused step or graph segment: (op, its inputs)
    if inner is not None and not backend.is_out_of_memory(exc):
        return step_failure(inner[0], inner[1], exc)
    if inner is not None:
        op = inner[0]
    if op is not None and backend.is_out_of_memory(exc):
        out = op.outputs[0] if op.outputs else None
        stats = backend.memory_stats()
        message = out_of_memory_message(
            op.name, op.type, out.shape if out is not None else (), out.dtype.name if out is not None else "",
            backend.device, requested_bytes(exc), stats.get("used") or 0, stats.get("limit"))
        return located(errors.ResourceExhaustedError(None, op, message), op)
    return step_failure(op, [slots[i] for i in step.inputs] if step is not None else [], exc)


def finish_on(backend: Any) -> None:
    """Wait for the run's work on a GPU (TF1 returns from a run when its ops are done, fetched or not),
    so that a kernel's fault is reported by the run that launched it."""
    try:
        backend.synchronize()
    except Exception as e:
        if backend.is_out_of_memory(e):
            raise errors.ResourceExhaustedError(None, None, f"Out of memory on {backend.device}: {e}") from e
        raise errors.InternalError(None, None, f"A kernel of this run failed on {backend.device}: "
                                               f"{cuda_error_text(e)}") from e


def requested_bytes(exc: BaseException) -> int | None:
    requested = getattr(exc, "requested", None)
    if isinstance(requested, int):
        return requested
    found = re.search(r"allocating ([0-9,]+) bytes", str(exc))
    return int(found.group(1).replace(",", "")) if found else None
