"""tf.data.Iterator and the TF1 ways to make one."""

from __future__ import annotations

from typing import Any

from gpugraph.data import structure as nest
from gpugraph.data.dataset_ops import Dataset, Structured
from gpugraph.data.iterator_ops import (
    GET_NEXT, ITERATOR, ITERATOR_HANDLE, MAKE_ITERATOR, ONE_SHOT_ITERATOR, _keep_pipeline,
)
from gpugraph.framework.tensor import Operation, Tensor


class Iterator(Structured):
    """Reads a dataset's elements in a session; ``get_next()`` gives graph tensors of one element."""

    def __init__(self, iterator_op: Operation | None, initializer: Operation | None, structure: Any,
                 mode: str = "initializable", inputs: list[Tensor] | None = None, dataset: Dataset | None = None):
        self._iterator_op = iterator_op
        self._initializer = initializer
        self._structure = structure
        self._mode = mode
        self._inputs = inputs or []
        self._dataset = dataset

    # --- construction (TF1 static methods) ---
    @staticmethod
    def from_structure(output_types: Any, output_shapes: Any = None, shared_name: str | None = None,
                       output_classes: Any = None) -> Iterator:
        structure = nest.specs_from(output_types, output_shapes)
        op = ITERATOR(name="IteratorV2", **_type_attrs(structure), shared_name=shared_name or "")
        return Iterator(op, None, structure)

    @staticmethod
    def from_string_handle(string_handle: Any, output_types: Any, output_shapes: Any = None,
                           output_classes: Any = None) -> Iterator:
        from gpugraph.ops.constant_ops import convert_to_tensor

        handle = convert_to_tensor(string_handle)
        return Iterator(None, None, nest.specs_from(output_types, output_shapes), mode="handle", inputs=[handle])

    # --- TF1 attributes ---
    @property
    def initializer(self) -> Operation:
        if self._initializer is None:
            raise ValueError("Iterator does not have an initializer.")
        return self._initializer

    def make_initializer(self, dataset: Dataset, name: str | None = None) -> Operation:
        """An op that (re)starts this iterator on ``dataset``; its captured tensors are read when it runs."""
        if self._iterator_op is None:
            raise ValueError("An iterator made from a string handle cannot be initialized; initialize the "
                             "iterator the handle names.")
        if not isinstance(dataset, Dataset):
            raise TypeError(f"Expected a Dataset, got {type(dataset).__name__}.")
        try:
            nest.assert_same_structure(self._structure, dataset._structure)
        except TypeError:
            raise TypeError(f"The two structures don't have the same sequence type. Input structure has type "
                            f"{self.output_types}, while shallow structure has type {dataset.output_types}.") from None
        mine, theirs = nest.flatten(self._structure), nest.flatten(dataset._structure)
        if [s.dtype for s in mine] != [s.dtype for s in theirs]:
            raise TypeError(f"Expected output types {self.output_types} but got dataset with output types "
                            f"{dataset.output_types}.")
        if not all(a.shape.is_compatible_with(b.shape) for a, b in zip(mine, theirs)):
            raise TypeError(f"Expected output shapes compatible with {self.output_shapes} but got dataset with "
                            f"output shapes {dataset.output_shapes}.")
        op = MAKE_ITERATOR(*dataset.captures(), name=name or "make_initializer", iterator=self._iterator_op)
        _keep_pipeline(op, dataset)
        return op

    def get_next(self, name: str | None = None) -> Any:
        """The next element as graph tensors with the element's static shapes."""
        attrs = _type_attrs(self._structure)
        outs = GET_NEXT(*self._inputs, name=name or "IteratorGetNext", iterator=self._iterator_op,
                        mode=self._mode, **attrs)
        if isinstance(outs, Tensor):
            outs = [outs]
        elif isinstance(outs, Operation):
            outs = []
        if self._mode == "one_shot":
            _keep_pipeline(outs[0].op if outs else outs, self._dataset)
        return nest.pack(self._structure, list(outs))

    def string_handle(self, name: str | None = None) -> Tensor:
        if self._iterator_op is None:
            return self._inputs[0]
        captured = self._inputs if self._mode == "one_shot" else []
        out = ITERATOR_HANDLE(*captured, name=name or "IteratorToStringHandle", iterator=self._iterator_op,
                              mode=self._mode)
        if self._mode == "one_shot":
            _keep_pipeline(out.op, self._dataset)
        return out


def _type_attrs(structure: Any) -> dict[str, Any]:
    specs = nest.flatten(structure)
    return {"output_types": [s.dtype for s in specs], "output_shapes": [s.shape for s in specs]}


def make_initializable_iterator(dataset: Dataset, shared_name: str | None = None) -> Iterator:
    """``tf.compat.v1.data.make_initializable_iterator``: run ``iterator.initializer`` (with feeds) to start."""
    if not isinstance(dataset, Dataset):
        raise TypeError(f"Expected a Dataset, got {type(dataset).__name__}.")
    op = ITERATOR(name="IteratorV2", **_type_attrs(dataset._structure), shared_name=shared_name or "")
    iterator = Iterator(op, None, dataset._structure)
    iterator._initializer = iterator.make_initializer(dataset, name="MakeIterator")
    return iterator


def make_one_shot_iterator(dataset: Dataset) -> Iterator:
    """``tf.compat.v1.data.make_one_shot_iterator``: starts on the first ``get_next`` run of a session."""
    if not isinstance(dataset, Dataset):
        raise TypeError(f"Expected a Dataset, got {type(dataset).__name__}.")
    captures = dataset.captures()
    for t in captures:
        if t.op.type in ("Placeholder", "PlaceholderWithDefault"):
            raise ValueError(f"Failed to capture placeholder '{t.name}' in a one-shot iterator: a one-shot "
                             "iterator cannot be parameterized; use make_initializable_iterator() and feed the "
                             "placeholder when running its initializer.")
    op = ONE_SHOT_ITERATOR(name="OneShotIterator", **_type_attrs(dataset._structure))
    return Iterator(op, None, dataset._structure, mode="one_shot", inputs=captures, dataset=dataset)


def get_output_types(dataset_or_iterator: Any) -> Any:
    return dataset_or_iterator.output_types


def get_output_shapes(dataset_or_iterator: Any) -> Any:
    return dataset_or_iterator.output_shapes


def get_output_classes(dataset_or_iterator: Any) -> Any:
    return dataset_or_iterator.output_classes
