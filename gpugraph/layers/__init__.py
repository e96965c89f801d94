"""tf.layers: TF1 layer functions and classes with TF1 variable names."""

from __future__ import annotations

from gpugraph.layers.base import InputSpec, Layer
from gpugraph.layers.convolutional import Conv1D, Conv2D, Conv2DTranspose, conv1d, conv2d, conv2d_transpose
from gpugraph.layers.core import Dense, Dropout, Flatten, dense, dropout, flatten
from gpugraph.layers.normalization import BatchNormalization, batch_normalization
from gpugraph.layers.convolutional3d import (
    AveragePooling3D, Conv3D, Conv3DTranspose, MaxPooling3D, average_pooling3d, conv3d, conv3d_transpose,
    max_pooling3d,
)
from gpugraph.layers.separable import SeparableConv1D, SeparableConv2D, separable_conv1d, separable_conv2d
from gpugraph.layers.pooling import (
    AveragePooling1D, AveragePooling2D, MaxPooling1D, MaxPooling2D, average_pooling1d, average_pooling2d,
    max_pooling1d, max_pooling2d,
)

__all__: list[str] = [
    "InputSpec", "Layer",
    "Dense", "Dropout", "Flatten", "dense", "dropout", "flatten",
    "Conv1D", "Conv2D", "Conv2DTranspose", "conv1d", "conv2d", "conv2d_transpose",
    "AveragePooling1D", "AveragePooling2D", "MaxPooling1D", "MaxPooling2D",
    "average_pooling1d", "average_pooling2d", "max_pooling1d", "max_pooling2d",
    "BatchNormalization", "batch_normalization",
    "Conv3D", "Conv3DTranspose", "conv3d", "conv3d_transpose", "MaxPooling3D", "AveragePooling3D",
    "max_pooling3d", "average_pooling3d",
    "SeparableConv1D", "SeparableConv2D", "separable_conv1d", "separable_conv2d",
]
