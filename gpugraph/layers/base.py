"""Layer: TF1's tf.layers base class, with TF1's variable scopes, variable names and collections.

A layer owns a variable scope, captured at its first call (or at construction when ``name``/``_scope``
is given), and every variable it makes is a ``get_variable`` in that scope: ``dense/kernel``,
``gen/dense_1/bias``. Reuse (``reuse=True``, ``tf.AUTO_REUSE``, or inherited from the enclosing
variable_scope) therefore shares variables exactly as TF1's get_variable does.
"""

from __future__ import annotations

import re
import weakref
from typing import Any, Callable

from gpugraph.framework import dtypes
from gpugraph.framework.graph import Graph, GraphKeys, get_default_graph
from gpugraph.framework.tensor import Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.init_ops import ones_initializer, zeros_initializer
from gpugraph.ops.array_ops import shape as shape_op
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.math_ops import cast, truediv
from gpugraph.ops.registry import graph_of
from gpugraph.variable_scope import VariableScope, get_variable, variable_scope
from gpugraph.variables import Variable

__all__ = ["Layer", "InputSpec"]

# TF1's default initializers for biases, betas, gammas and moving statistics (stateless, so shared).
ZEROS = zeros_initializer()
ONES = ones_initializer()

# Unnamed layers are called `<snake_case class>_<n>` (n from 1), one counter per graph, as Keras does;
# the variable scope (hence the variable names) is uniqued separately, by variable_scope.
_layer_name_counts: weakref.WeakKeyDictionary[Graph, dict[str, int]] = weakref.WeakKeyDictionary()


def _snake_case(name: str) -> str:
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    insecure = re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()
    return insecure if insecure[0] != "_" else "private" + insecure


def _unique_layer_name(base: str) -> str:
    counts = _layer_name_counts.setdefault(get_default_graph(), {})
    counts[base] = counts.get(base, 0) + 1
    return f"{base}_{counts[base]}"


def shape_dims(input_shape: Any, what: str, rank: int | None = None, min_rank: int | None = None) -> list[Any]:
    """The dims of a (possibly nested-list) input shape, with its rank checked; ValueError naming ``what``."""
    shape = TensorShape(input_shape)
    if shape.ndims is None:
        raise ValueError(f"{what}: the rank of the input shape must be known, got {shape}")
    if rank is not None and shape.ndims != rank:
        raise ValueError(f"{what}: expected an input shape of rank {rank}, got {shape}")
    if min_rank is not None and shape.ndims < min_rank:
        raise ValueError(f"{what}: expected an input shape of rank at least {min_rank}, got {shape}")
    return shape.as_list()


class InputSpec:
    """What a layer accepts: exact rank, minimum rank, and fixed sizes on some axes."""

    def __init__(self, dtype: Any = None, shape: Any = None, ndim: int | None = None, max_ndim: int | None = None,
                 min_ndim: int | None = None, axes: dict[int, int] | None = None):
        self.dtype = dtype
        self.shape = shape
        self.ndim = len(shape) if shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = dict(axes or {})

    def check(self, layer_name: str, x: Tensor) -> None:
        rank = x.shape.ndims
        if rank is None:
            return
        where = f"Input 0 of layer \"{layer_name}\" is incompatible with the layer"
        if self.ndim is not None and rank != self.ndim:
            raise ValueError(f"{where}: expected ndim={self.ndim}, found ndim={rank}. "
                             f"Full shape received: {x.shape}")
        if self.min_ndim is not None and rank < self.min_ndim:
            raise ValueError(f"{where}: expected min_ndim={self.min_ndim}, found ndim={rank}. "
                             f"Full shape received: {x.shape}")
        if self.max_ndim is not None and rank > self.max_ndim:
            raise ValueError(f"{where}: expected max_ndim={self.max_ndim}, found ndim={rank}. "
                             f"Full shape received: {x.shape}")
        dims = x.shape.as_list()
        for axis, value in self.axes.items():
            got = dims[axis] if -rank <= axis < rank else None
            if value is not None and got is not None and got != value:
                raise ValueError(f"{where}: expected axis {axis} of input shape to have value {value}, "
                                 f"but received input with shape {x.shape}")


class Layer:
    """Base class of the tf.layers classes: ``layer(inputs)`` / ``layer.apply(inputs)`` builds once, then reuses."""

    def __init__(self, trainable: bool = True, name: str | None = None, dtype: Any = None, **kwargs: Any):
        allowed = {"_scope", "_reuse", "activity_regularizer", "input_shape", "batch_input_shape", "batch_size"}
        for key in kwargs:
            if key not in allowed:
                raise TypeError(f"Keyword argument not understood: {key}")
        self.trainable = trainable
        self.built = False
        self.input_spec: InputSpec | None = None
        self.supports_masking = False
        self.stateful = False
        self._dtype = None if dtype is None else dtypes.as_dtype(dtype).base_dtype
        self._activity_regularizer = kwargs.get("activity_regularizer")
        self._reuse = kwargs.get("_reuse")
        self._trainable_weights: list[Variable] = []
        self._non_trainable_weights: list[Variable] = []
        self._updates: list[Any] = []
        self._losses: list[Tensor] = []
        self._current_scope: VariableScope | None = None
        if isinstance(name, VariableScope):
            self._base_name, self._name = name.name, _unique_layer_name(_snake_case(type(self).__name__))
        elif name:
            self._base_name = self._name = name
        else:
            self._base_name = _snake_case(type(self).__name__)
            self._name = _unique_layer_name(self._base_name)
        scope = kwargs.get("_scope")
        self._scope: VariableScope | None = None
        if scope:
            with variable_scope(scope) as captured:
                self._scope = captured

    # --- properties TF1 users read ---
    @property
    def name(self) -> str:
        return self._name

    @property
    def dtype(self) -> dtypes.DType | None:
        return self._dtype

    @property
    def scope_name(self) -> str:
        if self._scope is None:
            raise ValueError("No name available for layer scope because the layer "
                             f"\"{self._name}\" has not been used yet. The scope name is determined the first "
                             "time the layer instance is called.")
        return self._scope.name

    @property
    def activity_regularizer(self) -> Any:
        return self._activity_regularizer

    @property
    def trainable_weights(self) -> list[Variable]:
        return list(self._trainable_weights) if self.trainable else []

    @property
    def non_trainable_weights(self) -> list[Variable]:
        if self.trainable:
            return list(self._non_trainable_weights)
        return self._trainable_weights + self._non_trainable_weights

    @property
    def weights(self) -> list[Variable]:
        return self.trainable_weights + self.non_trainable_weights

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    variables = weights

    @property
    def updates(self) -> list[Any]:
        """The update ops made by calls; none for a non-trainable layer (TF1: its updates are not collected)."""
        if not self.trainable and not self.stateful:
            return []
        return list(self._updates)

    @property
    def losses(self) -> list[Tensor]:
        return list(self._losses)

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on {self.name}, but the layer isn't built.")
        total = 0
        for v in self.weights:
            n = 1
            for d in v.get_shape().as_list():
                n *= d
            total += n
        return total

    # --- what subclasses define ---
    def build(self, input_shape: TensorShape) -> None:
        self.built = True

    def call(self, inputs: Tensor, **kwargs: Any) -> Any:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        raise NotImplementedError(f"Please run in eager mode or implement the compute_output_shape method on "
                                  f"your layer ({type(self).__name__}).")

    # --- variables, updates and losses ---
    def add_weight(self, name: str, shape: Any = None, dtype: Any = None, initializer: Any = None,
                   regularizer: Callable[[Any], Any] | None = None, trainable: bool | None = None,
                   constraint: Any = None, partitioner: Any = None, use_resource: Any = None,
                   synchronization: Any = None, aggregation: Any = None, getter: Any = None,
                   **kwargs: Any) -> Variable:
        """``get_variable(name, ...)`` in the layer's scope; the regularizer loss only for a new variable."""
        trainable = True if trainable is None else trainable
        dtype = dtypes.as_dtype(dtype or self._dtype or dtypes.float32)
        graph = get_default_graph()
        existing = set(map(id, graph.get_collection(GraphKeys.GLOBAL_VARIABLES)))
        self._set_scope(None)
        reuse = True if self.built else self._reuse
        with variable_scope(self._scope, reuse=reuse, auxiliary_name_scope=False) as scope:
            self._current_scope = scope
            with graph.name_scope(self._scope.original_name_scope):
                variable = get_variable(name, shape=shape, dtype=dtype, initializer=initializer,
                                        trainable=trainable and self.trainable, constraint=constraint,
                                        partitioner=partitioner)
                if regularizer is not None and id(variable) not in existing:
                    with graph.name_scope(name + "/Regularizer"):
                        loss = regularizer(variable)
                    if loss is not None:
                        self._add_losses([loss])
        in_trainable = any(v is variable for v in graph.get_collection(GraphKeys.TRAINABLE_VARIABLES))
        target = self._trainable_weights if trainable and in_trainable else self._non_trainable_weights
        if not any(v is variable for v in target):
            target.append(variable)
        return variable

    add_variable = add_weight

    def add_update(self, updates: Any, inputs: Any = None) -> None:
        for u in updates if isinstance(updates, (list, tuple)) else [updates]:
            if not any(u is seen for seen in self._updates):
                self._updates.append(u)

    def add_loss(self, losses: Any, inputs: Any = None) -> None:
        self._add_losses(list(losses) if isinstance(losses, (list, tuple)) else [losses])

    def _add_losses(self, losses: list[Any]) -> None:
        graph = get_default_graph()
        for loss in losses:
            loss = loss() if callable(loss) else loss
            if loss is None:
                continue
            loss = convert_to_tensor(loss)
            self._losses.append(loss)
            if not any(loss is seen for seen in graph.get_collection(GraphKeys.REGULARIZATION_LOSSES)):
                graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)

    # --- calling ---
    def _set_scope(self, scope: Any = None) -> None:
        if self._scope is not None:
            return
        if self._reuse:
            with variable_scope(scope if scope is not None else self._base_name) as captured:
                self._scope = captured
        else:
            with variable_scope(scope, default_name=self._base_name) as captured:
                self._scope = captured

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        scope = kwargs.pop("scope", None)
        graph = graph_of(inputs if isinstance(inputs, (list, tuple)) else [inputs])
        with graph.as_default():
            self._set_scope(scope)
            assert self._scope is not None
            reuse = True if self.built else self._reuse
            with variable_scope(self._scope, reuse=reuse, auxiliary_name_scope=False) as current:
                self._current_scope = current
                with graph.name_scope(self._scope.original_name_scope):
                    inputs = _as_tensors(inputs)
                    if not self.built:
                        self._maybe_build(inputs)
                    if self.input_spec is not None and isinstance(inputs, Tensor):
                        self.input_spec.check(self._name, inputs)
                    outputs = self.call(inputs, *args, **kwargs)
                    if self._activity_regularizer is not None:
                        self._activity_losses(graph, outputs)
            for update in self.updates:
                if not any(update is seen for seen in graph.get_collection(GraphKeys.UPDATE_OPS)):
                    graph.add_to_collection(GraphKeys.UPDATE_OPS, update)
        return outputs

    def apply(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        return self.__call__(inputs, *args, **kwargs)

    def _maybe_build(self, inputs: Any) -> None:
        first = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        if self._dtype is None:
            self._dtype = first.dtype.base_dtype
        input_shapes = [x.shape for x in inputs] if isinstance(inputs, (list, tuple)) else inputs.shape
        if self.input_spec is not None and isinstance(inputs, Tensor):
            self.input_spec.check(self._name, inputs)
        self.build(input_shapes)
        self.built = True

    def _activity_losses(self, graph: Graph, outputs: Any) -> None:
        """TF1: the regularizer of each output, divided by the batch size."""
        with graph.name_scope("ActivityRegularizer"):
            for out in outputs if isinstance(outputs, (list, tuple)) else [outputs]:
                loss = convert_to_tensor(self._activity_regularizer(out))
                batch = cast(shape_op(out)[0], loss.dtype)
                self._add_losses([truediv(loss, batch)])

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__name__} object '{self._name}'>"


def _as_tensors(inputs: Any) -> Any:
    if isinstance(inputs, (list, tuple)):
        return [x if isinstance(x, Tensor) else convert_to_tensor(x) for x in inputs]
    return inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
