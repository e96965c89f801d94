"""TensorShape, Dimension and DeviceSpec behave as TF1's."""

from __future__ import annotations

import pytest

import gpugraph as tf
from gpugraph.framework.device import DeviceSpec, canonical_device, merge_device
from gpugraph.framework.tensor_shape import Dimension, TensorShape, unknown_shape


def test_dimension_arithmetic_and_compatibility():
    assert Dimension(3) == 3
    assert (Dimension(None) == 3) is None
    assert (Dimension(2) + 3).value == 5
    assert (Dimension(None) * 3).value is None
    assert Dimension(None).is_compatible_with(4)
    assert not Dimension(2).is_compatible_with(4)
    assert Dimension(None).merge_with(4).value == 4
    with pytest.raises(ValueError):
        Dimension(2).merge_with(3)
    with pytest.raises(ValueError):
        Dimension(-1)
    with pytest.raises(TypeError):
        int(Dimension(None))
    assert str(Dimension(None)) == "?"


def test_tensor_shape_str_repr_and_lists():
    s = TensorShape([None, 3])
    assert str(s) == "(?, 3)"
    assert str(TensorShape([5])) == "(5,)"
    assert str(TensorShape([])) == "()"
    assert str(TensorShape(None)) == "<unknown>"
    assert repr(s) == "TensorShape([Dimension(None), Dimension(3)])"
    assert repr(TensorShape(None)) == "TensorShape(None)"
    assert s.as_list() == [None, 3]
    assert s == [None, 3]
    assert s.num_elements() is None
    assert TensorShape([2, 3]).num_elements() == 6
    assert len(s) == 2
    assert [d.value for d in s] == [None, 3]
    assert s[1:].as_list() == [3]


def test_tensor_shape_merge_and_compat():
    a = TensorShape([None, 3])
    assert a.is_compatible_with([4, 3])
    assert not a.is_compatible_with([4, 2])
    assert not a.is_compatible_with([4, 3, 1])
    assert a.is_compatible_with(unknown_shape())
    assert a.merge_with([4, None]).as_list() == [4, 3]
    with pytest.raises(ValueError):
        a.merge_with([1, 2])
    assert unknown_shape(2).as_list() == [None, None]
    assert a.concatenate([7]).as_list() == [None, 3, 7]
    with pytest.raises(ValueError):
        a.with_rank(3)
    assert tf.TensorShape is TensorShape


def test_device_spec_parse_canonical_and_merge():
    assert canonical_device("/gpu:0") == "/device:GPU:0"
    assert canonical_device("/CPU:1") == "/device:CPU:1"
    assert canonical_device("/job:w/replica:0/task:2/device:gpu:3") == "/job:w/replica:0/task:2/device:GPU:3"
    assert canonical_device("/gpu:*") == "/device:GPU:*"
    assert canonical_device("") == ""
    assert merge_device("/job:w/gpu:0", "/cpu:1") == "/job:w/device:CPU:1"
    assert merge_device("", "/gpu:1") == "/device:GPU:1"
    assert DeviceSpec.from_string("/task:3").task == 3
    with pytest.raises(ValueError):
        DeviceSpec.from_string("/bogus:1")
