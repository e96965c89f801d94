"""tf.train: optimizers and the global step (more, with checkpoints, come with the training stack)."""

from gpugraph.train.gradient_descent import GradientDescentOptimizer
from gpugraph.train.optimizer import Optimizer
from gpugraph.train.training_util import (
    assert_global_step, create_global_step, get_global_step, get_or_create_global_step, global_step,
)

__all__ = ["GradientDescentOptimizer", "Optimizer", "assert_global_step", "create_global_step",
           "get_global_step", "get_or_create_global_step", "global_step"]
