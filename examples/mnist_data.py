"""A stand-in for TF1's tensorflow.examples.tutorials.mnist.input_data: synthetic 28x28 digits.

The TF1 MNIST tutorials download MNIST; these examples run offline, so they draw a fixed synthetic
set of the same shapes and API: ten classes of stroke drawings, each sample shifted, scaled and
noisy, flattened to 784 floats in [0, 1]; labels as class ids or one-hot rows;
``read_data_sets(...).train.next_batch(n)`` walks shuffled epochs as TF1's DataSet does.
"""

from types import SimpleNamespace

import numpy as np

SIDE = 28


def _stroke(canvas, rng):
    """A thick line segment between two random points."""
    (r0, c0), (r1, c1) = rng.uniform(5, SIDE - 5, size=(2, 2))
    for t in np.linspace(0.0, 1.0, 40):
        r, c = int(round(r0 + t * (r1 - r0))), int(round(c0 + t * (c1 - c0)))
        canvas[max(r - 1, 0):r + 2, max(c - 1, 0):c + 2] = 1.0


def _templates(rng, n_classes=10):
    out = np.zeros((n_classes, SIDE, SIDE))
    for k in range(n_classes):
        for _ in range(3):
            _stroke(out[k], rng)
    return out


class DataSet:
    def __init__(self, images, labels, seed):
        self.images, self.labels = images, labels
        self.num_examples = len(images)
        self._rng = np.random.RandomState(seed)
        self._order = self._rng.permutation(self.num_examples)
        self._pos = 0
        self.epochs_completed = 0

    def next_batch(self, batch_size):
        if self._pos + batch_size > self.num_examples:
            self.epochs_completed += 1
            self._order = self._rng.permutation(self.num_examples)
            self._pos = 0
        idx = self._order[self._pos:self._pos + batch_size]
        self._pos += batch_size
        return self.images[idx], self.labels[idx]


def _draw(templates, n, rng):
    labels = rng.randint(0, len(templates), size=n)
    images = np.empty((n, SIDE, SIDE))
    for i, k in enumerate(labels):
        dr, dc = rng.randint(-3, 4, size=2)
        images[i] = np.roll(templates[k], (dr, dc), axis=(0, 1)) * rng.uniform(0.7, 1.0)
    images += rng.normal(scale=0.6, size=images.shape)
    return np.clip(images, 0.0, 1.0).reshape(n, SIDE * SIDE).astype(np.float32), labels


def read_data_sets(train_dir, one_hot=False, n_train=5500, n_validation=500, n_test=1000, seed=0):
    """``train_dir`` is accepted for the tutorials' call; nothing is read from or written to it."""
    rng = np.random.RandomState(seed)
    templates = _templates(rng)
    sets = {}
    for i, (name, n) in enumerate((("train", n_train), ("validation", n_validation), ("test", n_test))):
        images, labels = _draw(templates, n, rng)
        if one_hot:
            labels = np.eye(len(templates), dtype=np.float32)[labels]
        sets[name] = DataSet(images, labels, seed + i + 1)
    return SimpleNamespace(**sets)
