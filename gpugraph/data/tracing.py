"""Dataset functions (map, filter, flat_map predicates): traced once, run on the host per element.

A function is traced on placeholders standing for one element, in a private graph. A function that
uses tensors of the outer graph cannot be built there; it is traced again in the outer graph under
its own name scope, and the outer tensors it reads become captures: evaluated through the session
when the iterator is initialised, and fed to every call. Running a trace is one compiled plan.
"""

from __future__ import annotations

from typing import Any, Sequence

from gpugraph import errors
from gpugraph.data import structure as nest
from gpugraph.framework.graph import Graph, get_default_graph
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.compiler.ir import ExecutionPlan
from gpugraph.compiler.pipeline import compile_plan
from gpugraph.compiler.codegen import failing_step


class PipelineError(Exception):
    """An error inside a dataset's host pipeline; get_next reports it naming the dataset op."""

    def __init__(self, dataset_op: str, message: str, error_class: type[errors.OpError] = errors.InvalidArgumentError):
        super().__init__(f"{dataset_op}: {message}")
        self.error_class = error_class


class TracedFunction:
    """``func`` traced on one element of ``input_structure`` (a nest of Specs)."""

    def __init__(self, func: Any, input_structure: Any, dataset_op: str, unpack_tuples: bool = True):
        self.dataset_op = dataset_op
        outer = get_default_graph()
        try:
            self._trace(func, input_structure, Graph(), outer.seed, unpack_tuples)
            self.captures: list[Tensor] = []
        except ValueError as e:
            if "must be from the same graph" not in str(e):
                raise
            start = outer._last_id
            with outer.name_scope(dataset_op):
                self._trace(func, input_structure, outer, outer.seed, unpack_tuples)
            self.captures = _captured(outer, start, self.args)

    def _trace(self, func: Any, input_structure: Any, graph: Graph, seed: int | None, unpack: bool) -> None:
        from gpugraph.ops.constant_ops import convert_to_tensor, placeholder

        graph.seed = seed
        with graph.as_default():
            specs = nest.flatten(input_structure)
            self.args = [placeholder(s.dtype, s.shape, name=f"args_{i}") for i, s in enumerate(specs)]
            value = nest.pack(input_structure, self.args)
            if unpack and isinstance(value, tuple) and not hasattr(value, "_fields"):
                out = func(*value)
            else:
                out = func(value)
            self.raw_output = out
            if _is_dataset(out):
                self.output_structure, self.outputs = None, []
                return
            out = nest.normalize(out)
            self.outputs = [convert_to_tensor(v) for v in nest.flatten(out)]
            self.output_structure = nest.pack(out, [nest.Spec(t.shape, t.dtype.base_dtype) for t in self.outputs])
        self.graph = graph

    def bind(self, session: Any, captured_values: Sequence[Any], fetches: Sequence[Tensor] | None = None
             ) -> BoundFunction:
        """A callable for one iterator: plan compiled once, captures fixed."""
        fetches = list(self.outputs if fetches is None else fetches)
        plan = compile_plan(fetches, self.args + self.captures, session)
        return BoundFunction(plan, list(captured_values), self.dataset_op)


class BoundFunction:
    """A traced function bound to one session and one set of capture values."""

    __slots__ = ("plan", "captured", "dataset_op", "_feed_slots")

    def __init__(self, plan: ExecutionPlan, captured: list[Any], dataset_op: str):
        self.plan = plan
        self.captured = captured
        self.dataset_op = dataset_op
        self._feed_slots = [spec.slot for spec in plan.feeds]

    def __call__(self, args: Sequence[Any]) -> list[Any]:
        plan = self.plan
        slots = plan.template.copy()
        for slot, value in zip(self._feed_slots, (*args, *self.captured)):
            slots[slot] = value
        try:
            plan.runner(slots)
        except errors.OpError as e:
            raise PipelineError(self.dataset_op, e.message, type(e)) from e
        except Exception as e:
            step = failing_step(plan, e)
            where = f" in {step.op.name} ({step.op.type})" if step is not None else ""
            raise PipelineError(self.dataset_op, f"{type(e).__name__}{where}: {e}") from e
        return [slots[s] for s in plan.fetch_slots]


def _is_dataset(value: Any) -> bool:
    from gpugraph.data.dataset_ops import Dataset

    return isinstance(value, Dataset)


def _captured(graph: Graph, start: int, args: list[Tensor]) -> list[Tensor]:
    """Tensors made before ``start`` that the ops traced after it read."""
    arg_set = set(args)
    seen: dict[Tensor, None] = {}
    traced: list[Operation] = [op for op in graph.get_operations() if op._id > start]
    for op in traced:
        for t in op.inputs:
            if t.op._id <= start and t not in arg_set:
                seen.setdefault(t, None)
    return list(seen)
