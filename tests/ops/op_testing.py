"""Shared helpers of the op tests: a fresh default graph per test, and one-call session runs."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

import gpugraph as tf


@pytest.fixture(autouse=True)
def graph() -> Iterator[tf.Graph]:
    """Each test builds into its own default graph."""
    g = tf.Graph()
    with g.as_default():
        yield g


def run(*fetches: Any, feed: Any = None) -> Any:
    """The values of ``fetches`` in a new session: one value for one fetch, else a list."""
    with tf.Session() as s:
        out = s.run(list(fetches), feed)
    return out[0] if len(out) == 1 else out
