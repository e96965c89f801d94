"""tf.train.init_from_checkpoint: mapped variables' initializers load the checkpoint's values."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf


def _save_model(tmp_path, scope: str = "old") -> tuple[str, dict[str, np.ndarray]]:
    values = {f"{scope}/w": np.arange(6, dtype=np.float32).reshape(2, 3), f"{scope}/b": np.array([7.0, 8.0, 9.0],
                                                                                                  np.float32)}
    with tf.Graph().as_default():
        with tf.variable_scope(scope):
            tf.get_variable("w", initializer=values[f"{scope}/w"])
            tf.get_variable("b", initializer=values[f"{scope}/b"])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            path = tf.train.Saver().save(sess, str(tmp_path / "model"))
    return path, values


def _build(scope: str) -> tuple[tf.Variable, tf.Variable]:
    with tf.variable_scope(scope):
        return tf.get_variable("w", [2, 3]), tf.get_variable("b", [3], initializer=tf.ones_initializer())


def test_scope_mapping_loads_every_variable_under_it(tmp_path):
    path, values = _save_model(tmp_path)
    with tf.Graph().as_default():
        w, b = _build("new")
        other = tf.get_variable("other", initializer=np.float32(5.0))
        tf.train.init_from_checkpoint(str(tmp_path), {"old/": "new/"})  # a directory: its latest checkpoint
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_array_equal(sess.run(w), values["old/w"])
            np.testing.assert_array_equal(sess.run(b), values["old/b"])
            assert sess.run(other) == 5.0  # not mapped: its own initializer
    assert path.endswith("model")


def test_single_variable_and_root_mappings(tmp_path):
    path, values = _save_model(tmp_path)
    with tf.Graph().as_default():
        w, b = _build("new")
        tf.train.init_from_checkpoint(path, {"old/b": "new/b", "old/w": w})
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_array_equal(sess.run(b), values["old/b"])
            np.testing.assert_array_equal(sess.run(w), values["old/w"])
    with tf.Graph().as_default():
        w, b = _build("old")
        tf.train.init_from_checkpoint(path, {"/": "/"})
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_array_equal(sess.run(w), values["old/w"])


def test_values_are_read_when_the_initializer_runs(tmp_path):
    path, _ = _save_model(tmp_path)
    with tf.Graph().as_default():
        w, _ = _build("old")
        tf.train.init_from_checkpoint(path, {"old/": "old/"})
        with tf.Graph().as_default(), tf.variable_scope("old"):  # write new values to the same checkpoint
            v = tf.get_variable("w", initializer=np.full((2, 3), -1.0, np.float32))
            tf.get_variable("b", initializer=np.zeros(3, np.float32))
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                tf.train.Saver().save(sess, path)
        assert v.op.type == "VariableV2"
        with tf.Session() as sess:
            sess.run(w.initializer)
            np.testing.assert_array_equal(sess.run(w), np.full((2, 3), -1.0, np.float32))


def test_bad_mappings_name_the_tensor(tmp_path):
    path, _ = _save_model(tmp_path)
    with tf.Graph().as_default():
        _build("new")
        with pytest.raises(ValueError, match="Tensor old/missing is not found"):
            tf.train.init_from_checkpoint(path, {"old/missing": "new/w"})
        with pytest.raises(ValueError, match="new/nothing"):
            tf.train.init_from_checkpoint(path, {"old/w": "new/nothing"})
        with pytest.raises(ValueError, match="Shape of variable new/b .* doesn't match with shape of tensor old/w"):
            tf.train.init_from_checkpoint(path, {"old/w": "new/b"})
        with pytest.raises(tf.errors.NotFoundError, match="nope"):  # TF1's error for a missing checkpoint
            tf.train.init_from_checkpoint(str(tmp_path / "nope"), {"old/": "new/"})
