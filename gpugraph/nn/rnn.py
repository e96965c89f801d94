"""``tf.nn.static_rnn``, ``static_bidirectional_rnn``, ``dynamic_rnn`` and ``bidirectional_dynamic_rnn``.

static_rnn unrolls the cell over a Python list of time steps in variable scope ``rnn`` (the first step
makes the variables, later steps reuse them); dynamic_rnn runs it in a tf.while_loop over TensorArrays.
With ``sequence_length``, each sequence's outputs past its length are zeros and its state is copied
through, as TF1 does.
"""

from __future__ import annotations

from typing import Any

from gpugraph.framework import dtypes
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import Dimension, TensorShape
from gpugraph.nn import rnn_nest as nest
from gpugraph.nn.rnn_cell_impl import assert_like_rnncell
from gpugraph.framework.graph import get_default_graph
from gpugraph.ops.array_ops import expand_dims, identity, rank, reshape, shape, stack, transpose, zeros
from gpugraph.ops.constant_ops import constant, convert_to_tensor
from gpugraph.ops.dynamic_shape_ops import range as range_op
from gpugraph.ops.index_ops import gather, reverse
from gpugraph.ops.manip_ops import concat, unstack
from gpugraph.ops.math_ops import cast, greater_equal, less, where
from gpugraph.variable_scope import variable_scope

__all__ = ["static_rnn", "static_bidirectional_rnn", "dynamic_rnn", "bidirectional_dynamic_rnn"]


def _rank_at_least(x: Tensor, rank: int) -> list[Any]:
    """The dims of ``x`` (None for unknown ones); ValueError when its rank is below ``rank``."""
    if x.shape.ndims is None:
        return [None] * rank
    if x.shape.ndims < rank:
        raise ValueError(f"Shape {x.shape} must have rank at least {rank} ({x.name})")
    return x.shape.as_list()


def _batch_and_state(cell: Any, first_input: Tensor, flat_inputs: list[Tensor], initial_state: Any,
                     dtype: Any) -> tuple[Any, Any]:
    """The batch size (an int when static, else a Tensor) and the initial state."""
    if first_input.shape.ndims != 1:
        fixed_batch = _rank_at_least(first_input, 2)[0]
        for flat_input in flat_inputs:
            dims = _rank_at_least(flat_input, 2)
            if not Dimension(fixed_batch).is_compatible_with(dims[0]):
                raise ValueError(f"Dimensions {fixed_batch} and {dims[0]} are not compatible "
                                 f"(batch sizes of the inputs, {flat_input.name})")
            for i, size in enumerate(dims[1:]):
                if size is None:
                    raise ValueError(f"Input size (dimension {i} of input {flat_input}) must be accessible via "
                                     "shape inference, but saw value None.")
    else:
        fixed_batch = _rank_at_least(first_input, 1)[0]
    batch_size = fixed_batch if fixed_batch else shape(first_input)[0]
    if initial_state is not None:
        return batch_size, initial_state
    if not dtype:
        raise ValueError("If no initial_state is provided, argument `dtype` must be specified")
    if getattr(cell, "get_initial_state", None) is not None:
        return batch_size, cell.get_initial_state(inputs=None, batch_size=batch_size, dtype=dtype)
    return batch_size, cell.zero_state(batch_size, dtype)


def _infer_state_dtype(explicit_dtype: Any, state: Any) -> Any:
    if explicit_dtype is not None:
        return explicit_dtype
    found = [s.dtype for s in nest.flatten(state)]
    if not found:
        raise ValueError(f"Unable to infer dtype from argument state={state}.")
    if any(d != found[0] for d in found):
        raise ValueError(f"Argument state={state} has tensors of different inferred dtypes. Unable to infer a "
                         f"single representative dtype. Dtypes received: {found}")
    return found[0]


def zero_output_like(cell: Any, batch_size: Any, dtype: Any) -> Any:
    """Zeros shaped as the cell's output, for the steps past a sequence's end."""
    def one(size: Any) -> Tensor:
        return zeros([batch_size, *TensorShape(size).as_list()], dtype=dtype)
    return nest.map_structure(one, cell.output_size)


def copy_through_step(time: Any, sequence_length: Tensor, zero_output: Any, state: Any, new_output: Any,
                      new_state: Any) -> tuple[Any, Any]:
    """Outputs past each sequence's length are zeros; its state is the previous one."""
    nest.assert_same_structure(zero_output, new_output)
    nest.assert_same_structure(state, new_state)
    finished = greater_equal(time, sequence_length)

    def pick(old: Tensor, new: Tensor) -> Tensor:
        if new.shape.ndims == 0:
            return new
        picked = where(finished, old, new)
        picked.set_shape(old.shape)
        return picked

    return nest.map_structure(pick, zero_output, new_output), nest.map_structure(pick, state, new_state)


def static_rnn(cell: Any, inputs: Any, initial_state: Any = None, dtype: Any = None, sequence_length: Any = None,
               scope: Any = None) -> tuple[list[Any], Any]:
    """Run ``cell`` over the list ``inputs`` (one ``[batch, depth]`` tensor a step): (outputs, final state)."""
    assert_like_rnncell("cell", cell)
    if not nest.is_nested(inputs):
        raise TypeError(f"Argument `inputs` must be a sequence. Received: {inputs}")
    if not inputs:
        raise ValueError("Argument `inputs` must not be empty.")
    outputs = []
    with variable_scope(scope or "rnn") as varscope:
        first_input = inputs
        while nest.is_nested(first_input):
            first_input = first_input[0]
        batch_size, state = _batch_and_state(cell, first_input, nest.flatten(inputs), initial_state, dtype)
        if sequence_length is not None:
            sequence_length = convert_to_tensor(sequence_length, name="sequence_length")
            if sequence_length.shape.ndims not in (None, 1):
                raise ValueError(f"Argument `sequence_length` must be a vector of length {batch_size}. "
                                 f"Received sequence_length={sequence_length}.")
            zero_output = zero_output_like(cell, batch_size, _infer_state_dtype(dtype, state))
            sequence_length = cast(sequence_length, dtypes.int32)
        for time, input_ in enumerate(inputs):
            if time > 0:
                varscope.reuse_variables()
            if sequence_length is not None:
                new_output, new_state = cell(input_, state)
                output, state = copy_through_step(constant(time, dtypes.int32), sequence_length, zero_output,
                                                  state, new_output, new_state)
            else:
                output, state = cell(input_, state)
            outputs.append(output)
        return outputs, state


def reverse_sequence(x: Tensor, lengths: Tensor, seq_axis: int, batch_axis: int) -> Tensor:
    """Reverse the first ``lengths[b]`` steps of each sequence b (the rest stay in place), as TF1's op."""
    x = convert_to_tensor(x)
    rank = x.shape.ndims
    perm = [seq_axis, batch_axis] + [a for a in range(rank) if a not in (seq_axis, batch_axis)]
    inverse = [perm.index(a) for a in range(rank)]
    moved = x if perm == list(range(rank)) else transpose(x, perm)
    dims = shape(moved)
    steps, batch = dims[0], dims[1]
    lengths = expand_dims(cast(lengths, dtypes.int32), 0)               # [1, B]
    t = expand_dims(range_op(steps), 1) + 0 * lengths                     # [T, B]
    b = expand_dims(range_op(batch), 0) + 0 * t
    source = where(less(t, lengths), lengths - 1 - t, t)
    flat = reshape(moved, concat([[-1], dims[2:]], 0))
    picked = reshape(gather(flat, reshape(source * batch + b, [-1])), dims)
    result = picked if perm == list(range(rank)) else transpose(picked, inverse)
    result.set_shape(x.shape)
    return result


def _reverse_seq(input_seq: list[Any], lengths: Any) -> list[Any]:
    if lengths is None:
        return list(reversed(input_seq))
    flat_seq = [nest.flatten(input_) for input_ in input_seq]
    flat_results: list[list[Any]] = [[] for _ in input_seq]
    for sequence in zip(*flat_seq):
        step_shape = TensorShape(None)
        for input_ in sequence:
            step_shape = step_shape.merge_with(input_.shape)
        reversed_steps = unstack(reverse_sequence(stack(list(sequence)), lengths, 0, 1), num=len(sequence))
        for r, flat_result in zip(reversed_steps, flat_results):
            r.set_shape(step_shape)
            flat_result.append(r)
    return [nest.pack_sequence_as(input_, flat) for input_, flat in zip(input_seq, flat_results)]


def static_bidirectional_rnn(cell_fw: Any, cell_bw: Any, inputs: Any, initial_state_fw: Any = None,
                             initial_state_bw: Any = None, dtype: Any = None, sequence_length: Any = None,
                             scope: Any = None) -> tuple[list[Any], Any, Any]:
    """A forward and a backward static_rnn (scopes ``bidirectional_rnn/fw``, ``/bw``); outputs concatenated."""
    assert_like_rnncell("cell_fw", cell_fw)
    assert_like_rnncell("cell_bw", cell_bw)
    if not nest.is_nested(inputs):
        raise TypeError(f"Argument `inputs` must be a sequence. Received: {inputs}")
    if not inputs:
        raise ValueError("Argument `inputs` must not be empty.")
    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw") as fw_scope:
            output_fw, state_fw = static_rnn(cell_fw, inputs, initial_state_fw, dtype, sequence_length, scope=fw_scope)
        with variable_scope("bw") as bw_scope:
            reversed_inputs = _reverse_seq(list(inputs), sequence_length)
            tmp, state_bw = static_rnn(cell_bw, reversed_inputs, initial_state_bw, dtype, sequence_length,
                                       scope=bw_scope)
    output_bw = _reverse_seq(tmp, sequence_length)
    flat_outputs = tuple(concat([fw, bw], 1) for fw, bw in zip(nest.flatten(output_fw), nest.flatten(output_bw)))
    return nest.pack_sequence_as(output_fw, flat_outputs), state_fw, state_bw


def reverse_time(x: Tensor, lengths: Any, time_axis: int, batch_axis: int) -> Tensor:
    """The time axis reversed, within each sequence's length when ``lengths`` is given (TF1's ReverseSequence)."""
    from gpugraph.ops.gather_nd_ops import reverse_sequence as reverse_sequence_op

    if lengths is not None:
        return reverse_sequence_op(x, lengths, seq_axis=time_axis, batch_axis=batch_axis)
    return reverse(x, axis=[time_axis])


# --- dynamic_rnn: the cell in a tf.while_loop over time ---
def _transpose_batch_time(x: Tensor) -> Tensor:
    """Swap the first two axes (batch-major <-> time-major), keeping the static shape."""
    x = convert_to_tensor(x)
    static = x.shape
    if static.ndims is not None and static.ndims < 2:
        return x
    if static.ndims is not None:
        out = transpose(x, [1, 0, *range(2, static.ndims)])
    else:
        out = transpose(x, concat(([1, 0], range_op(2, rank(x))), 0))
    if static.ndims is not None:
        dims = static.as_list()
        out.set_shape(TensorShape([dims[1], dims[0], *dims[2:]]))
    return out


def _best_effort_batch_size(flat_input: list[Tensor]) -> Any:
    """The batch size of time-major inputs: an int where any input knows it statically, else a Tensor."""
    for input_ in flat_input:
        if input_.shape.ndims is None:
            continue
        if input_.shape.ndims < 2:
            raise ValueError(f"Input tensor should have rank >= 2. Received input={input_} of rank "
                             f"{input_.shape.ndims}")
        if input_.shape.as_list()[1] is not None:
            return input_.shape.as_list()[1]
    return shape(flat_input[0])[1]


def _dynamic_rnn_loop(cell: Any, inputs: Any, state: Any, parallel_iterations: int, swap_memory: bool,
                      sequence_length: Tensor | None, dtype: Any) -> tuple[Any, Any]:
    """TF1's _dynamic_rnn_loop: time-major ``inputs`` -> (time-major outputs, final state)."""
    from gpugraph.ops.tensor_array_ops import TensorArray
    from gpugraph.ops.while_ops import while_loop

    flat_input = nest.flatten(inputs)
    flat_output_size = nest.flatten(cell.output_size)
    time_steps = shape(flat_input[0])[0]
    batch_size = _best_effort_batch_size(flat_input)
    got_shapes = []
    for input_ in flat_input:
        if input_.shape.ndims is None or input_.shape.ndims < 3:
            raise ValueError(f"Shape {input_.shape} must have rank at least 3 ({input_.name})")
        got_shapes.append(input_.shape)
    const_time_steps, const_batch_size = got_shapes[0].as_list()[:2]
    for got, input_ in zip(got_shapes, flat_input):
        if not TensorShape(got.as_list()[2:]).is_fully_defined():
            raise ValueError("Input size (depth of inputs) must be accessible via shape inference, but saw value "
                             f"None for input={input_}.")
        if got.as_list()[0] != const_time_steps:
            raise ValueError("Time steps is not the same for all the elements in the input in a batch. Received "
                             f"time steps={got.as_list()[0]} for input={input_}.")
        if got.as_list()[1] != const_batch_size:
            raise ValueError("Batch_size is not the same for all the elements in the input. Received "
                             f"batch size={got.as_list()[1]} for input={input_}.")
    state_dtype = _infer_state_dtype(dtype, state)
    zero_output = zero_output_like(cell, batch_size, state_dtype)
    time = constant(0, dtype=dtypes.int32, name="time")
    with get_default_graph().name_scope("dynamic_rnn") as base_name:
        pass
    output_ta = tuple(
        TensorArray(state_dtype, size=time_steps, tensor_array_name=f"{base_name}output_{i}",
                    element_shape=TensorShape([const_batch_size]).concatenate(TensorShape(size)))
        for i, size in enumerate(flat_output_size))
    input_ta = tuple(
        TensorArray(x.dtype, size=time_steps, tensor_array_name=f"{base_name}input_{i}",
                    element_shape=x.shape[1:]).unstack(x)
        for i, x in enumerate(flat_input))

    def time_step(time: Tensor, output_ta_t: tuple[Any, ...], state: Any) -> tuple[Any, ...]:
        input_t = tuple(ta.read(time) for ta in input_ta)
        for input_, got in zip(input_t, got_shapes):
            input_.set_shape(got[1:])
        input_t = nest.pack_sequence_as(inputs, list(input_t))
        if sequence_length is not None:
            new_output, new_state = cell(input_t, state)
            output, new_state = copy_through_step(time, sequence_length, zero_output, state, new_output, new_state)
        else:
            output, new_state = cell(input_t, state)
        output_ta_t = tuple(ta.write(time, out) for ta, out in zip(output_ta_t, nest.flatten(output)))
        return time + 1, output_ta_t, new_state

    _, output_final_ta, final_state = while_loop(
        lambda time, *_: less(time, time_steps), time_step, (time, output_ta, state),
        parallel_iterations=parallel_iterations, maximum_iterations=time_steps, swap_memory=swap_memory)
    final_outputs = []
    for ta, size in zip(output_final_ta, flat_output_size):
        output = ta.stack()
        output.set_shape(TensorShape([const_time_steps, const_batch_size]).concatenate(TensorShape(size)))
        final_outputs.append(output)
    return nest.pack_sequence_as(cell.output_size, final_outputs), final_state


def dynamic_rnn(cell: Any, inputs: Any, sequence_length: Any = None, initial_state: Any = None, dtype: Any = None,
                parallel_iterations: int | None = None, swap_memory: bool = False, time_major: bool = False,
                scope: Any = None) -> tuple[Any, Any]:
    """Run ``cell`` over the time axis of ``inputs`` in a while loop: (outputs, final state)."""
    assert_like_rnncell("cell", cell)
    with variable_scope(scope or "rnn"):
        flat_input = [convert_to_tensor(x) for x in nest.flatten(inputs)]
        if not time_major:
            flat_input = [_transpose_batch_time(x) for x in flat_input]
        parallel_iterations = parallel_iterations or 32
        if sequence_length is not None:
            sequence_length = cast(sequence_length, dtypes.int32)
            if sequence_length.shape.ndims not in (None, 1):
                raise ValueError("Argument sequence_length must be a vector of length batch_size. Received "
                                 f"sequence_length={sequence_length} of shape: {sequence_length.shape}")
            sequence_length = identity(sequence_length, name="sequence_length")
        batch_size = _best_effort_batch_size(flat_input)
        if initial_state is not None:
            state = initial_state
        else:
            if not dtype:
                raise ValueError("If no initial_state is provided, argument `dtype` must be specified")
            if getattr(cell, "get_initial_state", None) is not None:
                state = cell.get_initial_state(inputs=None, batch_size=batch_size, dtype=dtype)
            else:
                state = cell.zero_state(batch_size, dtype)
        if sequence_length is not None and isinstance(batch_size, int) and sequence_length.shape.ndims == 1:
            if not Dimension(sequence_length.shape.as_list()[0]).is_compatible_with(batch_size):
                raise ValueError(f"Expected shape for Tensor {sequence_length.name} is [{batch_size}] but saw "
                                 f"shape: {sequence_length.shape}")
        time_major_inputs = nest.pack_sequence_as(inputs, flat_input)
        outputs, final_state = _dynamic_rnn_loop(cell, time_major_inputs, state, parallel_iterations, swap_memory,
                                                 sequence_length, dtype)
        if not time_major:
            outputs = nest.map_structure(_transpose_batch_time, outputs)
        return outputs, final_state


def bidirectional_dynamic_rnn(cell_fw: Any, cell_bw: Any, inputs: Any, sequence_length: Any = None,
                              initial_state_fw: Any = None, initial_state_bw: Any = None, dtype: Any = None,
                              parallel_iterations: int | None = None, swap_memory: bool = False,
                              time_major: bool = False, scope: Any = None) -> tuple[Any, Any]:
    """A forward and a backward dynamic_rnn: ((outputs_fw, outputs_bw), (state_fw, state_bw))."""
    assert_like_rnncell("cell_fw", cell_fw)
    assert_like_rnncell("cell_bw", cell_bw)
    time_axis, batch_axis = (0, 1) if time_major else (1, 0)
    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw") as fw_scope:
            output_fw, state_fw = dynamic_rnn(cell_fw, inputs, sequence_length, initial_state_fw, dtype,
                                              parallel_iterations, swap_memory, time_major, scope=fw_scope)
        with variable_scope("bw") as bw_scope:
            inputs_reverse = nest.map_structure(
                lambda x: reverse_time(x, sequence_length, time_axis, batch_axis), inputs)
            tmp, state_bw = dynamic_rnn(cell_bw, inputs_reverse, sequence_length, initial_state_bw, dtype,
                                        parallel_iterations, swap_memory, time_major, scope=bw_scope)
    output_bw = nest.map_structure(lambda x: reverse_time(x, sequence_length, time_axis, batch_axis), tmp)
    return (output_fw, output_bw), (state_fw, state_bw)
