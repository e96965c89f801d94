"""Dataset transformations that change which elements flow: map, filter, shuffle, repeat, zip..."""

from __future__ import annotations

import os
from typing import Any, Callable, Iterator

import numpy as np

from gpugraph.data import structure as nest
from gpugraph.data.dataset_ops import AUTOTUNE, Arg, Dataset, Element, IterContext
from gpugraph.data.tracing import PipelineError, TracedFunction
from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape


class _UnaryDataset(Dataset):
    def __init__(self, input_dataset: Dataset):
        if not isinstance(input_dataset, Dataset):
            raise TypeError(f"Expected a Dataset, got {type(input_dataset).__name__}.")
        self._input = input_dataset
        self._structure = input_dataset._structure

    def _inputs(self) -> list[Dataset]:
        return [self._input]


class MapDataset(_UnaryDataset):
    _op_name = "MapDataset"

    def __init__(self, input_dataset: Dataset, map_func: Callable[..., Any]):
        super().__init__(input_dataset)
        self._fn = TracedFunction(map_func, input_dataset._structure, self._op_name)
        if self._fn.output_structure is None:
            raise TypeError("`map_func` must return tensors, not a Dataset; use flat_map for that.")
        self._structure = self._fn.output_structure

    def _own_captures(self) -> list[Tensor]:
        return self._fn.captures

    def _iterate(self, ctx: IterContext) -> Iterator[Element]:
        fn = ctx.bound(self._fn)
        for element in self._input.iterate(ctx):
            yield tuple(fn(element))


class FilterDataset(_UnaryDataset):
    _op_name = "FilterDataset"

    def __init__(self, input_dataset: Dataset, predicate: Callable[..., Any]):
        super().__init__(input_dataset)
        self._fn = TracedFunction(predicate, input_dataset._structure, self._op_name)
        out = self._fn.output_structure
        if nest.is_nested(out) or out is None or out.dtype != dtypes.bool_ or not out.shape.is_compatible_with([]):
            raise ValueError("Invalid `predicate`. `predicate` must return a `tf.bool` scalar tensor, but its "
                             f"return type is {out}.")

    def _own_captures(self) -> list[Tensor]:
        return self._fn.captures

    def _iterate(self, ctx: IterContext) -> Iterator[Element]:
        fn = ctx.bound(self._fn)
        for element in self._input.iterate(ctx):
            if fn(element)[0]:
                yield element


class _DatasetFunction:
    """A function from an element to a Dataset: the inner dataset's captures are the traced outputs."""

    def __init__(self, func: Callable[..., Any], input_structure: Any, op_name: str):
        self.fn = TracedFunction(func, input_structure, op_name)
        inner = self.fn.raw_output
        if not isinstance(inner, Dataset):
            raise TypeError(f"`map_func` must return a `Dataset` object. Got {type(inner).__name__}.")
        self.inner = inner
        self.fn.outputs = inner.captures()
        self.structure = inner._structure

    def datasets(self, ctx: IterContext, elements: Iterator[Element]) -> Iterator[Iterator[Element]]:
        bound = ctx.bound(self.fn)
        for element in elements:
            values = dict(zip(self.fn.outputs, bound(element)))
            yield self.inner.iterate(ctx.child(values))


class FlatMapDataset(_UnaryDataset):
    _op_name = "FlatMapDataset"

    def __init__(self, input_dataset: Dataset, map_func: Callable[..., Any]):
        super().__init__(input_dataset)
        self._fn = _DatasetFunction(map_func, input_dataset._structure, self._op_name)
        self._structure = self._fn.structure

    def _own_captures(self) -> list[Tensor]:
        return self._fn.fn.captures

    def _iterate(self, ctx: IterContext) -> Iterator[Element]:
        for inner in self._fn.datasets(ctx, self._input.iterate(ctx)):
            yield from inner


class InterleaveDataset(_UnaryDataset):
    """Cycles over ``cycle_length`` inner datasets, ``block_length`` elements from each in turn."""

    _op_name = "InterleaveDataset"

    def __init__(self, input_dataset: Dataset, map_func: Callable[..., Any], cycle_length: Any, block_length: Any):
        super().__init__(input_dataset)
        self._fn = _DatasetFunction(map_func, input_dataset._structure, self._op_name)
        self._structure = self._fn.structure
        self._cycle_length = Arg(AUTOTUNE if cycle_length is None else cycle_length)
        self._block_length = Arg(block_length)

    def _own_captures(self) -> list[Tensor]:
        return self._fn.fn.captures + self._cycle_length.captures() + self._block_length.captures()

    def _iterate(self, ctx: IterContext) -> Iterator[Element]:
        cycle, block = self._cycle_length.get(ctx), self._block_length.get(ctx)
        if cycle == AUTOTUNE:
            cycle = os.cpu_count() or 1
        if cycle <= 0 or block <= 0:
            raise PipelineError(self._op_name, "cycle_length and block_length must be greater than zero.")
        inputs = self._fn.datasets(ctx, self._input.iterate(ctx))
        current: list[Iterator[Element] | None] = [None] * cycle
        index = block_index = num_open = 0
        end_of_input = False
        while not end_of_input or num_open:
            it = current[index]
            if it is not None:
                element = next(it, None)
                if element is not None:
                    yield element
                    block_index += 1
                    if block_index == block:
                        index, block_index = (index + 1) % cycle, 0
                    continue
                current[index] = None
                num_open -= 1
                index, block_index = (index + 1) % cycle, 0
            elif not end_of_input:
                nxt = next(inputs, None)
                if nxt is None:
                    end_of_input = True
                else:
                    current[index] = nxt
                    num_open += 1
            else:
                index, block_index = (index + 1) % cycle, 0


class ShuffleDataset(_UnaryDataset):
    """TF's buffer shuffle: fill a buffer, emit a random buffer entry and put the next element in its place."""

    _op_name = "ShuffleDataset"

    def __init__(self, input_dataset: Dataset, buffer_size: Any, seed: Any, reshuffle_each_iteration: bool | None):
        from gpugraph.ops.random_ops import get_seed

        super().__init__(input_dataset)
        self._buffer_size = Arg(buffer_size)
        self._seeds = get_seed(seed.value if isinstance(seed, Arg) else seed)
        self._reshuffle = True if reshuffle_each_iteration is None else bool(reshuffle_each_iteration)

    def _own_captures(self) -> list[Tensor]:
        return self._buffer_size.captures()

    def _iterate(self, ctx: IterContext) -> Iterator[Element]:
        size = self._buffer_size.get(ctx)
        if size <= 0:
            raise PipelineError(self._op_name, "buffer_size must be greater than zero.")
        state = ctx.state.get(self)
        if state is None:  # one seed per initialised iterator: fixed by the graph/op seeds, else fresh
            base = list(self._seeds) if self._seeds is not None else [np.random.SeedSequence().entropy]
            state = ctx.state[self] = {"base": base, "epoch": 0}
        gen = np.random.default_rng(state["base"] + [state["epoch"]])
        if self._reshuffle:
            state["epoch"] += 1
        buffer: list[Element] = []
        with _closing_iter(self._input.iterate(ctx)) as elements:
            for element in elements:
                if len(buffer) < size:
                    buffer.append(element)
                    continue
                i = int(gen.integers(len(buffer)))
                yield buffer[i]
                buffer[i] = element
        while buffer:
            i = int(gen.integers(len(buffer)))
            yield buffer[i]
            buffer[i] = buffer[-1]
            buffer.pop()


class _closing_iter:  # noqa: N801 - used as a context manager
    def __init__(self, it: Iterator[Element]):
        self.it = it

    def __enter__(self) -> Iterator[Element]:
        return self.it

    def __exit__(self, *exc: Any) -> None:
        close = getattr(self.it, "close", None)
        if close is not None:
            close()


class RepeatDataset(_UnaryDataset):
    _op_name = "RepeatDataset"

    def __init__(self, input_dataset: Dataset, count: Any):
        super().__init__(input_dataset)
        self._count = Arg(-1 if count is None else count)

    def _own_captures(self) -> list[Tensor]:
        return self._count.captures()

    def _iterate(self, ctx: IterContext) -> Iterator[Element]:
        count = self._count.get(ctx)
        epoch = 0
        while count < 0 or epoch < count:
            produced = False
            for element in self._input.iterate(ctx):
                produced = True
                yield element
            if not produced:
                return  # an empty input repeated forever is still empty
            epoch += 1


class TakeDataset(_UnaryDataset):
    _op_name = "TakeDataset"

    def __init__(self, input_dataset: Dataset, count: Any):
        super().__init__(input_dataset)
        self._count = Arg(count)

    def _own_captures(self) -> list[Tensor]:
        return self._count.captures()

    def _iterate(self, ctx: IterContext) -> Iterator[Element]:
        count = self._count.get(ctx)
        if count == 0:
            return
        with _closing_iter(self._input.iterate(ctx)) as elements:
            for i, element in enumerate(elements, 1):
                yield element
                if i == count:
                    return


class SkipDataset(_UnaryDataset):
    _op_name = "SkipDataset"

    def __init__(self, input_dataset: Dataset, count: Any):
        super().__init__(input_dataset)
        self._count = Arg(count)

    def _own_captures(self) -> list[Tensor]:
        return self._count.captures()

    def _iterate(self, ctx: IterContext) -> Iterator[Element]:
        count = self._count.get(ctx)
        for i, element in enumerate(self._input.iterate(ctx)):
            if count >= 0 and i >= count:
                yield element


class ZipDataset(Dataset):
    _op_name = "ZipDataset"

    def __init__(self, datasets: Any):
        datasets = nest.normalize(datasets) if isinstance(datasets, (tuple, list)) else datasets
        flat = nest.flatten(datasets)
        for d in flat:
            if not isinstance(d, Dataset):
                raise TypeError(f"The argument to `Dataset.zip()` must be a (nested) structure of `Dataset` "
                                f"objects, got {type(d).__name__}.")
        self._datasets = flat
        self._structure = nest.pack(datasets, [d._structure for d in flat])

    def _inputs(self) -> list[Dataset]:
        return list(self._datasets)

    def _iterate(self, ctx: IterContext) -> Iterator[Element]:
        iterators = [d.iterate(ctx) for d in self._datasets]
        try:
            while True:
                parts = []
                for it in iterators:
                    element = next(it, None)
                    if element is None:
                        return
                    parts.extend(element)
                yield tuple(parts)
        finally:
            for it in iterators:
                it.close()


class ConcatenateDataset(Dataset):
    _op_name = "ConcatenateDataset"

    def __init__(self, first: Dataset, second: Dataset):
        if not isinstance(second, Dataset):
            raise TypeError(f"Expected a Dataset, got {type(second).__name__}.")
        try:
            nest.assert_same_structure(first._structure, second._structure)
            specs = [nest.most_specific_compatible(a, b)
                     for a, b in zip(nest.flatten(first._structure), nest.flatten(second._structure))]
        except TypeError:
            raise TypeError(f"Incompatible dataset elements:\n  {first._structure} vs.   {second._structure}") from None
        self._first, self._second = first, second
        self._structure = nest.pack(first._structure, specs)

    def _inputs(self) -> list[Dataset]:
        return [self._first, self._second]

    def _iterate(self, ctx: IterContext) -> Iterator[Element]:
        yield from self._first.iterate(ctx)
        yield from self._second.iterate(ctx)


class CacheDataset(_UnaryDataset):
    """In memory: the first complete pass is recorded, later passes replay it."""

    _op_name = "CacheDataset"

    def _iterate(self, ctx: IterContext) -> Iterator[Element]:
        cached = ctx.state.get(self)
        if cached is not None:
            yield from cached
            return
        recording: list[Element] = []
        for element in self._input.iterate(ctx):
            recording.append(element)
            yield element
        ctx.state[self] = recording


def shape_with_batch(shape: TensorShape, batch: int | None) -> TensorShape:
    return TensorShape([batch]).concatenate(shape)
