"""Batching transformations: batch, padded_batch, unbatch."""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from gpugraph.data import structure as nest
from gpugraph.data.dataset_ops import Arg, Dataset, Element, IterContext
from gpugraph.data.tracing import PipelineError
from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape


def _batched_structure(structure: Any, batch: int | None, shapes: list[TensorShape] | None = None) -> Any:
    specs = nest.flatten(structure)
    shapes = shapes or [s.shape for s in specs]
    return nest.pack(structure, [nest.Spec(TensorShape([batch]).concatenate(shape), s.dtype)
                                 for s, shape in zip(specs, shapes)])


class _BatchBase(Dataset):
    def __init__(self, input_dataset: Dataset, batch_size: Any, drop_remainder: Any):
        self._input = input_dataset
        self._batch_size = Arg(batch_size)
        if self._batch_size.static is not None and self._batch_size.static <= 0:
            raise ValueError(f"batch_size must be greater than zero, got {self._batch_size.static}.")
        self._drop_remainder = Arg(drop_remainder, dtypes.bool_)
        static = self._drop_remainder.static
        self._static_batch = self._batch_size.static if static else None

    def _inputs(self) -> list[Dataset]:
        return [self._input]

    def _own_captures(self) -> list[Tensor]:
        return self._batch_size.captures() + self._drop_remainder.captures()

    def _groups(self, ctx: IterContext) -> Iterator[list[Element]]:
        size, drop = self._batch_size.get(ctx), self._drop_remainder.get(ctx)
        if size <= 0:
            raise PipelineError(self._op_name, "Batch size must be greater than zero.")
        group: list[Element] = []
        for element in self._input.iterate(ctx):
            group.append(element)
            if len(group) == size:
                yield group
                group = []
        if group and not drop:
            yield group


class BatchDataset(_BatchBase):
    _op_name = "BatchDatasetV2"

    def __init__(self, input_dataset: Dataset, batch_size: Any, drop_remainder: Any):
        super().__init__(input_dataset, batch_size, drop_remainder)
        self._structure = _batched_structure(input_dataset._structure, self._static_batch)

    def _iterate(self, ctx: IterContext) -> Iterator[Element]:
        for group in self._groups(ctx):
            yield tuple(self._stack(i, [element[i] for element in group]) for i in range(len(group[0])))

    def _stack(self, component: int, values: list[Any]) -> np.ndarray:
        first = np.shape(values[0])
        for j, v in enumerate(values[1:], 1):
            if np.shape(v) != first:
                raise PipelineError(self._op_name, f"Cannot batch tensors with different shapes in component "
                                    f"{component}. First element had shape {list(first)} and element {j} had "
                                    f"shape {list(np.shape(v))}.")
        return np.stack(values)


class PaddedBatchDataset(_BatchBase):
    """Batches elements padded to ``padded_shapes`` (None or -1: the longest in the batch)."""

    _op_name = "PaddedBatchDatasetV2"

    def __init__(self, input_dataset: Dataset, batch_size: Any, padded_shapes: Any, padding_values: Any,
                 drop_remainder: Any):
        from gpugraph.data.sources import to_component

        super().__init__(input_dataset, batch_size, drop_remainder)
        structure = input_dataset._structure
        specs = nest.flatten(structure)
        if padded_shapes is None:
            shapes = [s.shape for s in specs]
        else:
            shaped = nest.normalize_shapes(padded_shapes)
            shapes = nest.flatten(shaped) if nest.is_nested(structure) else [shaped]
            if len(shapes) != len(specs):
                raise ValueError(f"The padded shapes {padded_shapes} do not match the structure of the dataset "
                                 f"elements {structure}.")
        for spec, shape in zip(specs, shapes):
            if spec.shape.ndims is not None and shape.ndims is not None and (
                    spec.shape.ndims != shape.ndims or not all(
                        p is None or e is None or e <= p for e, p in zip(spec.shape.as_list(), shape.as_list()))):
                raise ValueError(f"The padded shape {shape} is not compatible with the corresponding input "
                                 f"component shape {spec.shape}.")
        self._shapes = [shape if shape.ndims is not None else spec.shape for spec, shape in zip(specs, shapes)]
        if padding_values is None:
            values = [b"" if s.dtype == dtypes.string else 0 for s in specs]
        else:
            values = nest.flatten(nest.normalize(padding_values))
        self._padding = []
        for value, spec in zip(values, specs):
            if isinstance(value, (int, float, bytes, str)):
                value = np.asarray(value).astype(spec.dtype.np_dtype) if spec.dtype != dtypes.string else value
            component, pad_spec = to_component(value, "padding_values")
            if pad_spec.dtype != spec.dtype or not pad_spec.shape.is_compatible_with([]):
                raise TypeError(f"padding_values must be scalars of the element dtypes: got {pad_spec} for a "
                                f"component of dtype {spec.dtype.name}.")
            self._padding.append(component)
        self._structure = _batched_structure(structure, self._static_batch, self._shapes)

    def _own_captures(self) -> list[Tensor]:
        return super()._own_captures() + [p for p in self._padding if isinstance(p, Tensor)]

    def _iterate(self, ctx: IterContext) -> Iterator[Element]:
        from gpugraph.data.sources import component_value

        padding = [component_value(p, ctx) for p in self._padding]
        for group in self._groups(ctx):
            yield tuple(self._pad(i, padding[i], [np.asarray(element[i]) for element in group])
                        for i in range(len(group[0])))

    def _pad(self, component: int, padding: Any, values: list[np.ndarray]) -> np.ndarray:
        rank = values[0].ndim
        if any(v.ndim != rank for v in values):
            raise PipelineError(self._op_name, f"All elements in a batch must have the same rank as the padded "
                                f"shape for component {component}.")
        wanted = self._shapes[component].as_list() if self._shapes[component].ndims is not None else [None] * rank
        longest = np.max([v.shape for v in values], axis=0) if rank else []
        target = [int(m) if w is None else int(w) for w, m in zip(wanted, longest)]
        out = np.full([len(values), *target], padding, dtype=values[0].dtype)
        for j, v in enumerate(values):
            if any(s > t for s, t in zip(v.shape, target)):
                raise PipelineError(self._op_name, "Attempted to pad to a smaller size than the input element.")
            out[(j, *(slice(0, s) for s in v.shape))] = v
        return out


class UnbatchDataset(Dataset):
    """Splits each element along its first dimension."""

    _op_name = "UnbatchDataset"

    def __init__(self, input_dataset: Dataset):
        self._input = input_dataset
        specs = []
        for spec in nest.flatten(input_dataset._structure):
            if spec.shape.ndims == 0:
                raise ValueError("Unbatching a dataset is only supported for rank >= 1")
            rest = TensorShape(None) if spec.shape.ndims is None else TensorShape(spec.shape.as_list()[1:])
            specs.append(nest.Spec(rest, spec.dtype))
        self._structure = nest.pack(input_dataset._structure, specs)

    def _inputs(self) -> list[Dataset]:
        return [self._input]

    def _iterate(self, ctx: IterContext) -> Iterator[Element]:
        for element in self._input.iterate(ctx):
            arrays = [np.asarray(c) for c in element]
            n = {a.shape[0] for a in arrays}
            if len(n) != 1:
                raise PipelineError(self._op_name, "Input element must have the same batch size in each component.")
            for i in range(n.pop()):
                yield tuple(a[i] for a in arrays)
