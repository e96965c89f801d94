"""tf.train: optimizers (more, with checkpoints, come with the training stack)."""

from gpugraph.train.gradient_descent import GradientDescentOptimizer
from gpugraph.train.optimizer import Optimizer

__all__ = ["GradientDescentOptimizer", "Optimizer"]
