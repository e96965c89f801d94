"""gpugraph: TensorFlow-1.x graph mode (``import gpugraph as tf``) on CuPy or NumPy."""

from __future__ import annotations

import contextlib as _contextlib
from typing import Any as _Any

from gpugraph import errors
from gpugraph.framework import dtypes
from gpugraph.framework.dtypes import (
    DType, as_dtype, bool_ as bool, double, float16, float32, float64, half, int8, int16, int32, int64,
    string, uint8,
)
from gpugraph.framework.dtypes import bool_ref, float32_ref, float64_ref, int32_ref, int64_ref
from gpugraph.framework.graph import Graph, GraphKeys, get_default_graph, reset_default_graph
from gpugraph.framework.device import DeviceSpec
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.node_def import NodeDef
from gpugraph.framework.graph_def import AttrValue, GraphDef
from gpugraph.framework.importer import import_graph_def
from gpugraph.framework.tensor_shape import Dimension, TensorShape
from gpugraph.ops import operators as _operators  # noqa: F401 - installs Tensor's operators
from gpugraph.ops.array_ops import *  # noqa: F401,F403
from gpugraph.ops.slicing_ops import *  # noqa: F401,F403
from gpugraph.ops.constant_ops import *  # noqa: F401,F403
from gpugraph.ops.control_flow_ops import *  # noqa: F401,F403
from gpugraph.ops.linalg_ops import *  # noqa: F401,F403
from gpugraph.ops.manip_ops import *  # noqa: F401,F403
from gpugraph.ops.index_ops import *  # noqa: F401,F403
from gpugraph.ops.clip_ops import *  # noqa: F401,F403
from gpugraph.ops.math_ops import *  # noqa: F401,F403
from gpugraph.ops.dynamic_shape_ops import range  # noqa: A004 - TF1's tf.range
from gpugraph.ops.unary_ops import *  # noqa: F401,F403
from gpugraph.ops.nn_ops import tanh, sigmoid
from gpugraph.ops.random_ops import *  # noqa: F401,F403
from gpugraph.ops.random_extra_ops import multinomial, random_shuffle
from gpugraph.ops.reduction_ops import *  # noqa: F401,F403
from gpugraph.ops.state_ops import assign, assign_add, assign_sub
from gpugraph.ops.scatter_ops import *  # noqa: F401,F403 - tf.scatter_*, tf.count_up_to
from gpugraph.ops.debug_ops import Assert, Print, print  # noqa: A004 - TF1's tf.print
from gpugraph.ops.numerics_ops import add_check_numerics_ops, check_numerics
from gpugraph.ops.script_ops import numpy_function, py_func, py_function
from gpugraph.template import make_template
from gpugraph.debugging import (  # noqa: F401 - TF1's top-level checks
    assert_equal, assert_greater, assert_greater_equal, assert_integer, assert_less, assert_less_equal,
    assert_near, assert_negative, assert_non_negative, assert_non_positive, assert_none_equal, assert_positive,
    assert_proper_iterable, assert_rank, assert_rank_at_least, assert_rank_in, assert_same_float_dtype,
    assert_scalar, assert_type, is_numeric_tensor,
)
from gpugraph.tf_logging import get_logger
from gpugraph.ops.metric_ops import div_no_nan
from gpugraph.ops.math_extra_ops import *  # noqa: F401,F403
from gpugraph.ops.reduction_extra_ops import *  # noqa: F401,F403
from gpugraph.ops.sort_ops import *  # noqa: F401,F403
from gpugraph.ops.segment_ops import *  # noqa: F401,F403
from gpugraph.ops.gather_nd_ops import *  # noqa: F401,F403
from gpugraph.ops.linalg_extra_ops import *  # noqa: F401,F403
from gpugraph.ops.decomp_ops import *  # noqa: F401,F403
from gpugraph.ops.array_extra_ops import *  # noqa: F401,F403
from gpugraph.autodiff import gradients
from gpugraph.init_ops import *  # noqa: F401,F403
from gpugraph.init_ops_v1 import orthogonal_initializer, uniform_unit_scaling_initializer
from gpugraph.variables import *  # noqa: F401,F403
from gpugraph.variable_scope import *  # noqa: F401,F403
from gpugraph.framework.default_session import get_default_session
from gpugraph.runtime.session import InteractiveSession, Session
from gpugraph import initializers, random, train
from gpugraph import nn
from gpugraph.nn.space import (  # noqa: F401 - also top-level in TF1
    batch_to_space, batch_to_space_nd, depth_to_space, space_to_batch, space_to_batch_nd, space_to_depth,
)
from gpugraph import layers, losses, metrics
from gpugraph import app, flags, gfile, io
from gpugraph import debugging
from gpugraph import tf_logging as logging
from gpugraph import summary
from gpugraph import linalg, math
from gpugraph import image
from gpugraph.image import random_crop
from gpugraph import data
from gpugraph import graph_util
from gpugraph import python_io
from gpugraph.framework.sparse_tensor import SparseTensor, SparseTensorValue
from gpugraph.ops.parsing_ops import decode_csv, decode_raw
from gpugraph.ops.example_parsing_ops import (
    FixedLenFeature, FixedLenSequenceFeature, VarLenFeature, parse_example, parse_single_example,
)
from gpugraph.ops.sparse_ops import sparse_tensor_to_dense
from gpugraph.ops.reader_ops import (
    FixedLengthRecordReader, ReaderBase, TextLineReader, TFRecordReader, WholeFileReader,
)
from gpugraph import sparse
from gpugraph import queues as queue
from gpugraph.queues import FIFOQueue, PaddingFIFOQueue, PriorityQueue, QueueBase, RandomShuffleQueue
from gpugraph.config import ConfigProto, GPUOptions, GraphOptions, OptimizerOptions, RunMetadata, RunOptions

newaxis = None
AUTO_REUSE = AUTO_REUSE  # noqa: F405,PLW0127 - re-exported from variable_scope
__version__ = "0.1.0"


def name_scope(name: str | None, default_name: str | None = None, values: _Any = None):
    """``with tf.name_scope("loss") as scope:`` -> scope == "loss/"."""
    from gpugraph.ops.registry import graph_of

    graph = graph_of(values) if values else get_default_graph()
    return _name_scope(graph, name if name is not None else default_name)


@_contextlib.contextmanager
def _name_scope(graph: Graph, name: str | None):
    with graph.as_default(), graph.name_scope(name) as scope:
        yield scope


def control_dependencies(control_inputs: _Any):
    return get_default_graph().control_dependencies(control_inputs)


def device(device_name_or_function: _Any):
    return get_default_graph().device(device_name_or_function)


def colocate_with(op: _Any, ignore_existing: bool = False):
    return get_default_graph().colocate_with(op, ignore_existing)


def explain_placement(fetches: _Any, feed_dict: _Any = None, session: _Any = None) -> list:
    """Where each node of ``session.run(fetches, feed_dict)`` would run, and why, without running it:
    a list of (node, op_type, device, reason) records."""
    sess = session if session is not None else get_default_session()
    if sess is None:
        raise ValueError("explain_placement needs a session: pass session=... or use it inside `with sess:`")
    return sess.explain_placement(fetches, feed_dict)


def add_to_collection(name: str, value: _Any) -> None:
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names: _Any, value: _Any) -> None:
    get_default_graph().add_to_collections(names, value)


def get_collection(key: str, scope: str | None = None) -> list:
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key: str) -> list:
    return get_default_graph().get_collection_ref(key)


from gpugraph import compat  # noqa: E402
from gpugraph.compat.v1 import disable_eager_execution, disable_v2_behavior, executing_eagerly  # noqa: E402
# The Horovod collectives are registered ops like any other (import gpugraph.horovod as hvd; MPI loads at hvd.init).
from gpugraph.horovod import collectives as _horovod_collectives  # noqa: E402
