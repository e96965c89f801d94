"""``tf.initializers``: TF1's namespace of initializer classes and variable-initializer ops."""

from __future__ import annotations

from typing import Any

from gpugraph.init_ops import (
    Constant as constant, GlorotNormal as glorot_normal, GlorotUniform as glorot_uniform, Ones as ones,
    RandomNormal as random_normal, RandomUniform as random_uniform, TruncatedNormal as truncated_normal,
    VarianceScaling, VarianceScaling as variance_scaling, Zeros as zeros,
)
from gpugraph.init_ops_v1 import Orthogonal as orthogonal, UniformUnitScaling as uniform_unit_scaling
from gpugraph.variables import (
    global_variables_initializer as global_variables, local_variables_initializer as local_variables,
    variables_initializer as variables,
)

__all__ = ["constant", "glorot_normal", "glorot_uniform", "ones", "random_normal", "random_uniform",
           "truncated_normal", "variance_scaling", "zeros", "global_variables", "local_variables", "variables",
           "he_normal", "he_uniform", "lecun_normal", "lecun_uniform", "orthogonal", "uniform_unit_scaling"]


def he_normal(seed: Any = None) -> VarianceScaling:
    return VarianceScaling(2.0, "fan_in", "truncated_normal", seed)


def he_uniform(seed: Any = None) -> VarianceScaling:
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


def lecun_normal(seed: Any = None) -> VarianceScaling:
    return VarianceScaling(1.0, "fan_in", "truncated_normal", seed)


def lecun_uniform(seed: Any = None) -> VarianceScaling:
    return VarianceScaling(1.0, "fan_in", "uniform", seed)
