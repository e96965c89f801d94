"""tf.train: optimizers and the global step (more, with checkpoints, come with the training stack)."""

from gpugraph.train.gradient_descent import GradientDescentOptimizer
from gpugraph.train.optimizer import Optimizer
from gpugraph.train.training_util import (
    assert_global_step, create_global_step, get_global_step, get_or_create_global_step, global_step,
)

__all__ = ["GradientDescentOptimizer", "Optimizer", "assert_global_step", "create_global_step",
           "get_global_step", "get_or_create_global_step", "global_step"]

from gpugraph.train.learning_rate_decay import (  # noqa: E402 - learning-rate schedules
    cosine_decay, exponential_decay, inverse_time_decay, natural_exp_decay, piecewise_constant,
    piecewise_constant_decay, polynomial_decay,
)

__all__ += ["cosine_decay", "exponential_decay", "inverse_time_decay", "natural_exp_decay", "piecewise_constant",
            "piecewise_constant_decay", "polynomial_decay"]
