"""``tf.nn.rnn_cell`` (and ``tf.compat.v1.nn.rnn_cell``): TF1's RNN cells and cell wrappers."""

from __future__ import annotations

from gpugraph.nn.rnn_cell_impl import (
    BasicLSTMCell, BasicRNNCell, GRUCell, LSTMCell, LSTMStateTuple, MultiRNNCell, RNNCell,
)
from gpugraph.nn.rnn_cell_wrappers import DeviceWrapper, DropoutWrapper, ResidualWrapper

__all__ = ["BasicLSTMCell", "BasicRNNCell", "DeviceWrapper", "DropoutWrapper", "GRUCell", "LSTMCell",
           "LSTMStateTuple", "MultiRNNCell", "RNNCell", "ResidualWrapper"]
