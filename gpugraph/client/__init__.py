"""``tf.client``: ``from gpugraph.client import timeline`` as TF1's ``tensorflow.python.client.timeline``."""

from gpugraph.client import timeline

__all__ = ["timeline"]
