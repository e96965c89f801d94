"""Dataset sources: tensors, slices of tensors, ranges, Python generators, text files."""

from __future__ import annotations

import gzip
import zlib
from typing import Any, Callable, Iterator

import numpy as np

from gpugraph import errors
from gpugraph.data import structure as nest
from gpugraph.data.dataset_ops import Arg, Dataset, Element, IterContext
from gpugraph.data.tracing import PipelineError
from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape

Component = Any  # a graph Tensor (read at initialisation) or a read-only NumPy array


def to_component(value: Any, what: str) -> tuple[Component, nest.Spec]:
    """A graph value stays a tensor; a Python or NumPy value becomes a host array with TF1's dtype rules."""
    from gpugraph.ops.constant_ops import convert_to_tensor, infer_dtype, to_numpy

    if isinstance(value, Tensor) or hasattr(value, "_as_tensor"):
        t = convert_to_tensor(value)
        return t, nest.Spec(t.shape, t.dtype.base_dtype)
    dt = infer_dtype(value)
    arr = np.array(to_numpy(value, dt, what), copy=True)
    arr.setflags(write=False)
    return arr, nest.Spec(TensorShape(arr.shape), dt)


def component_value(component: Component, ctx: IterContext) -> Any:
    return ctx.values[component] if isinstance(component, Tensor) else component


class _TensorsDataset(Dataset):
    def __init__(self, tensors: Any, what: str):
        if isinstance(tensors, Dataset):
            raise TypeError(f"{what} expects tensors, got a Dataset.")
        structure = tensors
        pairs = [to_component(v, what) for v in nest.flatten(structure)]
        self._components = [c for c, _ in pairs]
        self._specs = [s for _, s in pairs]
        self._shape_structure = structure

    def _own_captures(self) -> list[Tensor]:
        return [c for c in self._components if isinstance(c, Tensor)]


class TensorDataset(_TensorsDataset):
    """One element: the given tensors."""

    _op_name = "TensorDataset"

    def __init__(self, tensors: Any):
        super().__init__(tensors, "Dataset.from_tensors")
        self._structure = nest.pack(self._shape_structure, self._specs)

    def _iterate(self, ctx: IterContext) -> Iterator[Element]:
        yield tuple(np.asarray(component_value(c, ctx)) for c in self._components)


class TensorSliceDataset(_TensorsDataset):
    """One element per row of the given tensors (their first dimension)."""

    _op_name = "TensorSliceDataset"

    def __init__(self, tensors: Any):
        super().__init__(tensors, "Dataset.from_tensor_slices")
        rows: int | None = None
        specs = []
        for spec in self._specs:
            if spec.shape.ndims == 0:
                raise ValueError("Unbatching a tensor is only supported for rank >= 1")
            if spec.shape.ndims is not None:
                first = spec.shape.as_list()[0]
                if rows is not None and first is not None and first != rows:
                    raise ValueError(f"Dimensions {rows} and {first} are not compatible")
                rows = first if first is not None else rows
                specs.append(nest.Spec(TensorShape(spec.shape.as_list()[1:]), spec.dtype))
            else:
                specs.append(nest.Spec(TensorShape(None), spec.dtype))
        self._structure = nest.pack(self._shape_structure, specs)

    def _iterate(self, ctx: IterContext) -> Iterator[Element]:
        arrays = [np.asarray(component_value(c, ctx)) for c in self._components]
        sizes = {a.shape[0] if a.ndim else None for a in arrays}
        if None in sizes or len(sizes) != 1:
            raise PipelineError(self._op_name, "Expected rank >= 1 tensors with the same first dimension, got "
                                f"shapes {[a.shape for a in arrays]}")
        for i in range(arrays[0].shape[0]):
            yield tuple(a[i] for a in arrays)


class RangeDataset(Dataset):
    """``range(start, stop, step)`` as scalars of ``output_type``."""

    _op_name = "RangeDataset"

    def __init__(self, *args: Any, output_type: Any = dtypes.int64):
        if not 1 <= len(args) <= 3:
            raise ValueError("Dataset.range takes 1 to 3 arguments: [start,] stop[, step]")
        full = (0, args[0], 1) if len(args) == 1 else (*args, 1) if len(args) == 2 else args
        self._args = [Arg(a, dtypes.int64) for a in full]
        if self._args[2].static == 0:
            raise errors.InvalidArgumentError(None, None, "step must be a non-zero integer.")
        self._dtype = dtypes.as_dtype(output_type).base_dtype
        self._structure = nest.Spec(TensorShape([]), self._dtype)

    def _own_captures(self) -> list[Tensor]:
        return [t for a in self._args for t in a.captures()]

    def _iterate(self, ctx: IterContext) -> Iterator[Element]:
        start, stop, step = (a.get(ctx) for a in self._args)
        if step == 0:
            raise PipelineError(self._op_name, "step must be a non-zero integer.")
        np_dtype = self._dtype.np_dtype
        for i in range(start, stop, step):
            yield (np.array(i, dtype=np_dtype),)


class GeneratorDataset(Dataset):
    """Elements yielded by a Python generator, converted to ``output_types`` and checked against ``output_shapes``."""

    _op_name = "GeneratorDataset"

    def __init__(self, generator: Callable[..., Any], output_types: Any, output_shapes: Any, args: Any):
        if not callable(generator):
            raise TypeError("`generator` must be callable.")
        self._generator = generator
        self._structure = nest.specs_from(output_types, output_shapes)
        pairs = [to_component(a, "Dataset.from_generator args") for a in (args or ())]
        self._args = [c for c, _ in pairs]

    def _own_captures(self) -> list[Tensor]:
        return [c for c in self._args if isinstance(c, Tensor)]

    def _iterate(self, ctx: IterContext) -> Iterator[Element]:
        args = [np.asarray(component_value(c, ctx)) for c in self._args]
        specs = nest.flatten(self._structure)
        for value in self._generator(*args):
            try:
                leaves = nest.flatten_up_to(self._structure, value)
            except ValueError:
                raise PipelineError(self._op_name, "`generator` yielded an element that did not match the expected "
                                    f"structure. The expected structure was {nest.types_of(self._structure)}, "
                                    f"but the yielded element was {value!r}.") from None
            yield tuple(_convert_yielded(v, s, self._op_name) for v, s in zip(leaves, specs))


def _convert_yielded(value: Any, spec: nest.Spec, op_name: str) -> np.ndarray:
    from gpugraph.ops.constant_ops import to_numpy

    try:
        arr = np.asarray(to_numpy(value, spec.dtype, "generator"))
    except (TypeError, ValueError):
        raise PipelineError(op_name, "`generator` yielded an element that could not be converted to the expected "
                            f"type. The expected type was {spec.dtype.name}, but the yielded element was "
                            f"{value!r}.") from None
    if not spec.shape.is_compatible_with(arr.shape):
        raise PipelineError(op_name, f"`generator` yielded an element of shape {arr.shape} where an element of "
                            f"shape {tuple(spec.shape.as_list()) if spec.shape.ndims is not None else '<unknown>'} "
                            "was expected.")
    return arr


class TextLineDataset(Dataset):
    """The lines of text files (without line endings) as scalar strings; files read through gfile."""

    _op_name = "TextLineDataset"

    def __init__(self, filenames: Any, compression_type: Any = None, buffer_size: Any = None,
                 num_parallel_reads: Any = None):
        self._filenames, spec = to_component(filenames, "TextLineDataset filenames")
        if spec.dtype != dtypes.string:
            raise TypeError(f"`filenames` must be a tf.string tensor, got {spec.dtype.name}.")
        if spec.shape.ndims not in (None, 0, 1):
            raise ValueError(f"`filenames` must be a scalar or a vector, got shape {spec.shape}.")
        self._compression = (compression_type or "").upper()
        if self._compression not in ("", "GZIP", "ZLIB"):
            raise ValueError(f"Unsupported compression_type: {compression_type!r}")
        self._structure = nest.Spec(TensorShape([]), dtypes.string)

    def _own_captures(self) -> list[Tensor]:
        return [self._filenames] if isinstance(self._filenames, Tensor) else []

    def _iterate(self, ctx: IterContext) -> Iterator[Element]:
        from gpugraph import gfile

        names = np.asarray(component_value(self._filenames, ctx), dtype=object).reshape(-1)
        for name in names:
            path = name.decode("utf-8") if isinstance(name, bytes) else str(name)
            if not gfile.Exists(path):
                raise PipelineError(self._op_name, f"{path}; No such file or directory", errors.NotFoundError)
            with gfile.GFile(path, "rb") as f:
                data = f.read()
            if self._compression == "GZIP":
                data = gzip.decompress(data)
            elif self._compression == "ZLIB":
                data = zlib.decompress(data)
            lines = data.split(b"\n")
            if lines and lines[-1] == b"":
                lines.pop()
            for line in lines:
                yield (np.array(line[:-1] if line.endswith(b"\r") else line, dtype=object),)
