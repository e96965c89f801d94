"""``tf.nn.rnn_cell`` wrappers: DropoutWrapper, ResidualWrapper, DeviceWrapper.

A wrapper calls its cell directly (no variable scope of its own), so the wrapped cell's variables keep
the names they would have unwrapped, as in TF1.
"""

from __future__ import annotations

import hashlib
import numbers
from typing import Any, Callable

from gpugraph.framework.graph import get_default_graph
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.nn import rnn_nest as nest
from gpugraph.nn.regularize import dropout
from gpugraph.nn.rnn_cell_impl import LSTMStateTuple, RNNCell, assert_like_rnncell
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.math_ops import divide
from gpugraph.ops.random_ops import random_uniform
from gpugraph.ops.shape_fns import constant_value
from gpugraph.ops.unary_ops import floor

__all__ = ["DropoutWrapper", "ResidualWrapper", "DeviceWrapper"]


class _RNNCellWrapper(RNNCell):
    """A cell that runs ``cell`` with something around it."""

    def __init__(self, cell: Any, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        assert_like_rnncell("cell", cell)
        self.cell = cell

    def _call_wrapped_cell(self, inputs: Any, state: Any, cell_call_fn: Callable[..., Any], **kwargs: Any) -> Any:
        raise NotImplementedError

    def __call__(self, inputs: Any, state: Any, scope: Any = None) -> Any:
        return self._call_wrapped_cell(inputs, state, cell_call_fn=self.cell.__call__, scope=scope)

    state_size = property(lambda self: self.cell.state_size)
    output_size = property(lambda self: self.cell.output_size)

    def zero_state(self, batch_size: Any, dtype: Any) -> Any:
        with get_default_graph().name_scope(type(self).__name__ + "ZeroState"):
            return self.cell.zero_state(batch_size, dtype)

    trainable_weights = property(lambda self: self.cell.trainable_weights)
    non_trainable_weights = property(lambda self: self.cell.non_trainable_weights)
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    weights = property(lambda self: self.cell.weights)
    variables = weights


def _default_dropout_state_filter_visitor(substate: Any) -> Any:
    """Drop out an LSTM's h but never its c (TF1's default)."""
    if isinstance(substate, LSTMStateTuple):
        return LSTMStateTuple(c=False, h=True)
    return True


def _filter_structure(visitor: Callable[[Any], Any], state: Any) -> Any:
    """For each part of ``state``: True/False (drop out or not), following ``visitor``'s answers."""
    answer = visitor(state)
    if isinstance(answer, bool):
        return answer
    return nest.map_structure_up_to(answer, lambda a, s: a if isinstance(a, bool) else _filter_structure(visitor, s),
                                    answer, state)


class DropoutWrapper(_RNNCellWrapper):
    """Dropout on the cell's inputs, outputs and (by default all but LSTM c) new state; keep probs may be Tensors."""

    def __init__(self, cell: Any, input_keep_prob: Any = 1.0, output_keep_prob: Any = 1.0, state_keep_prob: Any = 1.0,
                 variational_recurrent: bool = False, input_size: Any = None, dtype: Any = None, seed: Any = None,
                 dropout_state_filter_visitor: Any = None, **kwargs: Any):
        super().__init__(cell, dtype=dtype, **kwargs)
        if dropout_state_filter_visitor is not None and not callable(dropout_state_filter_visitor):
            raise TypeError(f"dropout_state_filter_visitor must be callable. Received: {dropout_state_filter_visitor}")
        self._dropout_state_filter = dropout_state_filter_visitor or _default_dropout_state_filter_visitor
        with get_default_graph().name_scope("DropoutWrapperInit"):
            for prob, attr in [(input_keep_prob, "input_keep_prob"), (state_keep_prob, "state_keep_prob"),
                               (output_keep_prob, "output_keep_prob")]:
                setattr(self, f"_{attr}", _keep_prob(prob, attr))
        self._variational_recurrent = variational_recurrent
        self._seed = seed
        self._recurrent_input_noise = self._recurrent_state_noise = self._recurrent_output_noise = None
        if variational_recurrent:
            if dtype is None:
                raise ValueError("When variational_recurrent=True, dtype must be provided")

            def batch_noise(prefix: str) -> Callable[[int, Any], Tensor]:
                return lambda i, s: random_uniform([1, *TensorShape(s).as_list()], seed=self._gen_seed(prefix, i),
                                                   dtype=dtype)

            if not isinstance(self._input_keep_prob, numbers.Real) or self._input_keep_prob < 1.0:
                if input_size is None:
                    raise ValueError("When variational_recurrent=True and input_keep_prob < 1.0 or is unknown, "
                                     "input_size must be provided")
                self._recurrent_input_noise = _enumerated_map(input_size, batch_noise("input"))
            self._recurrent_state_noise = _enumerated_map(cell.state_size, batch_noise("state"))
            self._recurrent_output_noise = _enumerated_map(cell.output_size, batch_noise("output"))

    wrapped_cell = property(lambda self: self.cell)

    def _gen_seed(self, salt_prefix: str, index: int) -> int | None:
        if self._seed is None:
            return None
        string = (str(self._seed) + f"{salt_prefix}_{index}").encode("utf-8")
        return int(hashlib.md5(string).hexdigest()[:8], 16) & 0x7FFFFFFF

    def _dropout(self, values: Any, salt_prefix: str, noise: Any, keep_prob: Any, keep_structure: Any = None) -> Any:
        structure = values if keep_structure is None else keep_structure
        flat_do = nest.flatten(_expand_up_to(structure, values))
        flat_values = nest.flatten(values)
        flat_noise = nest.flatten(noise) if noise is not None else [None] * len(flat_values)
        out = []
        for i, (do, v, n) in enumerate(zip(flat_do, flat_values, flat_noise)):
            if isinstance(do, bool) and not do:
                out.append(v)
            elif not self._variational_recurrent:
                out.append(dropout(v, rate=1.0 - keep_prob, seed=self._gen_seed(salt_prefix, i)))
            else:
                kept = divide(v, keep_prob) * floor(keep_prob + n)
                kept.set_shape(v.shape)
                out.append(kept)
        return nest.pack_sequence_as(values, out)

    def _call_wrapped_cell(self, inputs: Any, state: Any, cell_call_fn: Callable[..., Any], **kwargs: Any) -> Any:
        def should_dropout(p: Any) -> bool:
            return not isinstance(p, float) or p < 1

        if should_dropout(self._input_keep_prob):
            inputs = self._dropout(inputs, "input", self._recurrent_input_noise, self._input_keep_prob)
        output, new_state = cell_call_fn(inputs, state, **kwargs)
        if should_dropout(self._state_keep_prob):
            keep = _filter_structure(self._dropout_state_filter, new_state)
            new_state = self._dropout(new_state, "state", self._recurrent_state_noise, self._state_keep_prob, keep)
        if should_dropout(self._output_keep_prob):
            output = self._dropout(output, "output", self._recurrent_output_noise, self._output_keep_prob)
        return output, new_state


def _keep_prob(prob: Any, attr: str) -> Any:
    """A Python float when the value is known now (checked to lie in [0, 1]), else the Tensor."""
    tensor = convert_to_tensor(prob)
    value = constant_value(tensor)
    if value is None:
        return tensor
    if value < 0 or value > 1:
        raise ValueError(f"Parameter {attr} must be between 0 and 1. Received {value}")
    return float(value)


def _enumerated_map(shallow: Any, fn: Callable[[int, Any], Any]) -> Any:
    flat = [fn(i, s) for i, s in enumerate(nest.flatten(shallow))]
    return nest.pack_sequence_as(shallow, flat)


def _expand_up_to(shallow: Any, values: Any) -> Any:
    """A per-leaf copy of ``shallow``'s booleans in the nesting of ``values``."""
    if not nest.is_nested(shallow):
        return nest.map_structure(lambda _: shallow, values)
    return nest.pack_sequence_as(values, [leaf for sub, val in zip(shallow, values)
                                          for leaf in nest.flatten(_expand_up_to(sub, val))])


class ResidualWrapper(_RNNCellWrapper):
    """output = inputs + cell output (or ``residual_fn(inputs, outputs)``)."""

    def __init__(self, cell: Any, residual_fn: Callable[[Any, Any], Any] | None = None, **kwargs: Any):
        super().__init__(cell, **kwargs)
        self._residual_fn = residual_fn

    def _call_wrapped_cell(self, inputs: Any, state: Any, cell_call_fn: Callable[..., Any], **kwargs: Any) -> Any:
        outputs, new_state = cell_call_fn(inputs, state, **kwargs)

        def default_residual_fn(inputs: Any, outputs: Any) -> Any:
            nest.assert_same_structure(inputs, outputs)

            def add(inp: Tensor, out: Tensor) -> Tensor:
                inp.shape.assert_is_compatible_with(out.shape)
                return inp + out

            return nest.map_structure(add, inputs, outputs)

        return (self._residual_fn or default_residual_fn)(inputs, outputs), new_state


class DeviceWrapper(_RNNCellWrapper):
    """Builds the cell (and its zero state) under ``tf.device(device)``."""

    def __init__(self, cell: Any, device: Any, **kwargs: Any):
        super().__init__(cell, **kwargs)
        self._device = device

    def zero_state(self, batch_size: Any, dtype: Any) -> Any:
        graph = get_default_graph()
        with graph.name_scope(type(self).__name__ + "ZeroState"), graph.device(self._device):
            return self.cell.zero_state(batch_size, dtype)

    def _call_wrapped_cell(self, inputs: Any, state: Any, cell_call_fn: Callable[..., Any], **kwargs: Any) -> Any:
        with get_default_graph().device(self._device):
            return cell_call_fn(inputs, state, **kwargs)
