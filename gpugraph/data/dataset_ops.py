"""tf.data.Dataset: a host pipeline of Python objects, evaluated with NumPy when an iterator runs.

A dataset holds its element structure (a nest of Specs) and the graph tensors it reads (its
captures: constants, placeholders, variables). An iterator's initializer evaluates the captures
through the session; ``iterate`` then yields elements as flat tuples of NumPy arrays.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Callable, Iterator

import numpy as np

from gpugraph.data import structure as nest
from gpugraph.data.tracing import BoundFunction, PipelineError, TracedFunction
from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape

Element = tuple[Any, ...]
AUTOTUNE = -1


class IterContext:
    """One initialised iterator's world: capture values, the session, per-dataset state, a stop flag."""

    def __init__(self, session: Any, values: dict[Tensor, Any]):
        self.session = session
        self.values = values
        self.stop = threading.Event()
        self.state: dict[Any, Any] = {}
        try:
            self._session_ref: Callable[[], Any] = weakref.ref(session)
        except TypeError:
            self._session_ref = lambda: session

    def stopped(self) -> bool:
        """Re-initialised, or its session closed: background work ends."""
        session = self._session_ref()
        return self.stop.is_set() or session is None or bool(getattr(session, "_closed", False))

    def child(self, values: dict[Tensor, Any]) -> IterContext:
        """The context of an inner dataset (flat_map): more capture values, its own state."""
        inner = IterContext.__new__(IterContext)
        inner.session, inner.values, inner.stop, inner.state = self.session, {**self.values, **values}, self.stop, {}
        inner._session_ref = self._session_ref
        return inner

    def bound(self, traced: TracedFunction) -> BoundFunction:
        fn = self.state.get(traced)
        if fn is None:
            fn = self.state[traced] = traced.bind(self.session, [self.values[t] for t in traced.captures])
        return fn


class Arg:
    """A scalar argument (batch size, count, seed...): a Python value, or a tensor read at initialisation."""

    __slots__ = ("value", "tensor")

    def __init__(self, value: Any, dtype: dtypes.DType = dtypes.int64, name: str = "value"):
        self.tensor: Tensor | None = None
        self.value: Any = None
        if isinstance(value, Tensor) or hasattr(value, "_as_tensor"):
            from gpugraph.ops.constant_ops import convert_to_tensor

            self.tensor = convert_to_tensor(value)
        else:
            self.value = None if value is None else np.asarray(value).astype(dtype.np_dtype).item()

    @property
    def static(self) -> Any:
        return self.value if self.tensor is None else None

    def captures(self) -> list[Tensor]:
        return [] if self.tensor is None else [self.tensor]

    def get(self, ctx: IterContext) -> Any:
        return self.value if self.tensor is None else np.asarray(ctx.values[self.tensor]).item()


class Structured:
    """TF1's element-structure attributes of datasets and iterators, read from ``self._structure``."""

    _structure: Any

    @property
    def element_spec(self) -> Any:
        return self._structure

    @property
    def output_types(self) -> Any:
        return nest.types_of(self._structure)

    @property
    def output_shapes(self) -> Any:
        return nest.shapes_of(self._structure)

    @property
    def output_classes(self) -> Any:
        return nest.classes_of(self._structure)


class Dataset(Structured):
    """A sequence of elements; each transformation returns a new dataset."""

    _op_name = "Dataset"
    _structure: Any = None

    # --- what subclasses provide ---
    def _inputs(self) -> list[Dataset]:
        return []

    def _own_captures(self) -> list[Tensor]:
        return []

    def _iterate(self, ctx: IterContext) -> Iterator[Element]:
        raise NotImplementedError

    # --- shared machinery ---
    def iterate(self, ctx: IterContext) -> Iterator[Element]:
        """The elements, with any failure reported as a PipelineError naming this dataset's op."""
        try:
            yield from self._iterate(ctx)
        except PipelineError:
            raise
        except Exception as e:
            raise PipelineError(self._op_name, f"{type(e).__name__}: {e}") from e

    def captures(self) -> list[Tensor]:
        """Every graph tensor the pipeline reads, each once, upstream first."""
        seen: dict[Tensor, None] = {}
        for d in self._inputs():
            for t in d.captures():
                seen.setdefault(t, None)
        for t in self._own_captures():
            seen.setdefault(t, None)
        return list(seen)

    def __repr__(self) -> str:
        types = nest.types_of(self._structure)
        shapes = nest.shapes_of(self._structure)
        return f"<{type(self).__name__} shapes: {shapes}, types: {types}>"

    def __iter__(self) -> Any:
        raise RuntimeError("dataset.__iter__() is only supported when eager execution is enabled; "
                           "use dataset.make_one_shot_iterator() or make_initializable_iterator().")

    # --- sources ---
    @staticmethod
    def from_tensor_slices(tensors: Any) -> Dataset:
        from gpugraph.data.sources import TensorSliceDataset

        return TensorSliceDataset(tensors)

    @staticmethod
    def from_tensors(tensors: Any) -> Dataset:
        from gpugraph.data.sources import TensorDataset

        return TensorDataset(tensors)

    @staticmethod
    def range(*args: Any, output_type: Any = dtypes.int64) -> Dataset:  # noqa: A003 - TF's name
        from gpugraph.data.sources import RangeDataset

        return RangeDataset(*args, output_type=output_type)

    @staticmethod
    def from_generator(generator: Callable[..., Any], output_types: Any, output_shapes: Any = None,
                       args: Any = None) -> Dataset:
        from gpugraph.data.sources import GeneratorDataset

        return GeneratorDataset(generator, output_types, output_shapes, args)

    @staticmethod
    def zip(datasets: Any) -> Dataset:  # noqa: A003 - TF's name
        from gpugraph.data.transformations import ZipDataset

        return ZipDataset(datasets)

    # --- transformations ---
    def map(self, map_func: Callable[..., Any], num_parallel_calls: Any = None) -> Dataset:  # noqa: A003
        from gpugraph.data.transformations import MapDataset

        return MapDataset(self, map_func)

    def filter(self, predicate: Callable[..., Any]) -> Dataset:  # noqa: A003
        from gpugraph.data.transformations import FilterDataset

        return FilterDataset(self, predicate)

    def flat_map(self, map_func: Callable[..., Any]) -> Dataset:
        from gpugraph.data.transformations import FlatMapDataset

        return FlatMapDataset(self, map_func)

    def interleave(self, map_func: Callable[..., Any], cycle_length: Any = None, block_length: Any = 1,
                   num_parallel_calls: Any = None) -> Dataset:
        from gpugraph.data.transformations import InterleaveDataset

        return InterleaveDataset(self, map_func, cycle_length, block_length)

    def batch(self, batch_size: Any, drop_remainder: bool = False) -> Dataset:
        from gpugraph.data.batching import BatchDataset

        return BatchDataset(self, batch_size, drop_remainder)

    def padded_batch(self, batch_size: Any, padded_shapes: Any = None, padding_values: Any = None,
                     drop_remainder: bool = False) -> Dataset:
        from gpugraph.data.batching import PaddedBatchDataset

        return PaddedBatchDataset(self, batch_size, padded_shapes, padding_values, drop_remainder)

    def unbatch(self) -> Dataset:
        from gpugraph.data.batching import UnbatchDataset

        return UnbatchDataset(self)

    def shuffle(self, buffer_size: Any, seed: Any = None, reshuffle_each_iteration: bool | None = None) -> Dataset:
        from gpugraph.data.transformations import ShuffleDataset

        return ShuffleDataset(self, buffer_size, seed, reshuffle_each_iteration)

    def repeat(self, count: Any = None) -> Dataset:
        from gpugraph.data.transformations import RepeatDataset

        return RepeatDataset(self, count)

    def take(self, count: Any) -> Dataset:
        from gpugraph.data.transformations import TakeDataset

        return TakeDataset(self, count)

    def skip(self, count: Any) -> Dataset:
        from gpugraph.data.transformations import SkipDataset

        return SkipDataset(self, count)

    def concatenate(self, dataset: Dataset) -> Dataset:
        from gpugraph.data.transformations import ConcatenateDataset

        return ConcatenateDataset(self, dataset)

    def cache(self, filename: str = "") -> Dataset:
        from gpugraph.data.transformations import CacheDataset

        if filename:
            raise NotImplementedError("Dataset.cache(filename) caches in memory only: pass filename=''.")
        return CacheDataset(self)

    def prefetch(self, buffer_size: Any) -> Dataset:
        from gpugraph.data.prefetch import PrefetchDataset

        return PrefetchDataset(self, buffer_size)

    def apply(self, transformation_func: Callable[[Dataset], Dataset]) -> Dataset:
        out = transformation_func(self)
        if not isinstance(out, Dataset):
            raise TypeError("`transformation_func` must return a Dataset.")
        return out

    # --- iterators (TF1) ---
    def make_one_shot_iterator(self) -> Any:
        from gpugraph.data.iterators import make_one_shot_iterator

        return make_one_shot_iterator(self)

    def make_initializable_iterator(self, shared_name: str | None = None) -> Any:
        from gpugraph.data.iterators import make_initializable_iterator

        return make_initializable_iterator(self, shared_name)


def spec_of_array(array: np.ndarray, dtype: dtypes.DType) -> nest.Spec:
    return nest.Spec(TensorShape(array.shape), dtype)
