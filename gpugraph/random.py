"""``tf.random``: the TF 1.13+ aliases of the random ops."""

from gpugraph.ops.candidate_sampling_ops import (
    learned_unigram_candidate_sampler, log_uniform_candidate_sampler, uniform_candidate_sampler,
)
from gpugraph.ops.random_extra_ops import categorical, multinomial
from gpugraph.ops.random_extra_ops import random_shuffle as shuffle
from gpugraph.ops.random_ops import get_seed
from gpugraph.ops.random_ops import random_normal as normal
from gpugraph.ops.random_ops import random_uniform as uniform
from gpugraph.ops.random_ops import set_random_seed
from gpugraph.ops.random_ops import set_random_seed as set_seed
from gpugraph.ops.random_ops import truncated_normal

__all__ = ["normal", "uniform", "truncated_normal", "set_random_seed", "set_seed", "log_uniform_candidate_sampler",
           "uniform_candidate_sampler", "learned_unigram_candidate_sampler", "shuffle", "categorical", "multinomial",
           "get_seed"]
