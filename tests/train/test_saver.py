"""tf.train.Saver: save/restore round trips, the TF1 `checkpoint` state file, max_to_keep, errors."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

import gpugraph as tf
from gpugraph.train import checkpoint_io, checkpoint_state


def _vars_of_every_dtype() -> dict[str, tuple[tf.Variable, np.ndarray]]:
    rng = np.random.default_rng(0)
    values = {
        "f16": rng.standard_normal((3, 2)).astype(np.float16),
        "f32": rng.standard_normal((4,)).astype(np.float32),
        "f64": np.array([np.nan, np.inf, -0.0, 1e-310]),
        "i8": np.array([-128, 127], np.int8),
        "i16": np.array([[1, -2]], np.int16),
        "i32": np.array(7, np.int32),
        "i64": np.array([2**62, -(2**62)], np.int64),
        "u8": np.array([0, 255], np.uint8),
        "b": np.array([True, False, True]),
        "empty": np.zeros((0, 3), np.float32),
    }
    return {k: (tf.Variable(v, name=k), v) for k, v in values.items()}


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def test_round_trip_every_dtype_bit_for_bit(tmp_path):
    with tf.Graph().as_default():
        pairs = _vars_of_every_dtype()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            prefix = saver.save(sess, str(tmp_path / "model.ckpt"))
            assert prefix == str(tmp_path / "model.ckpt")
            for var, _ in pairs.values():  # clobber, then restore
                sess.run(var.initializer)
                sess.cell(var.op).value[...] = 0
            saver.restore(sess, prefix)
            for var, want in pairs.values():
                assert _same(sess.run(var), want), var.name
        # a fresh session: restore initializes variables without running any initializer
        with tf.Session() as sess:
            saver.restore(sess, prefix)
            for var, want in pairs.values():
                assert _same(sess.run(var), want), var.name
    listed = dict(tf.train.list_variables(prefix))
    assert listed == {k: list(v.shape) for k, (_, v) in pairs.items()}
    assert _same(tf.train.load_variable(prefix, "i64:0"), pairs["i64"][1])


def test_global_step_int_variable_and_tensor(tmp_path):
    with tf.Graph().as_default():
        w = tf.Variable(1.0, name="w")
        step = tf.train.get_or_create_global_step()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            base = str(tmp_path / "model.ckpt")
            assert saver.save(sess, base, global_step=1000) == base + "-1000"
            assert saver.save(sess, base, global_step=np.int64(7)) == base + "-7"
            sess.run(step.assign(42))
            assert saver.save(sess, base, global_step=step) == base + "-42"
            assert saver.save(sess, base, global_step=step + 1) == base + "-43"
            assert sess.run(w) == 1.0
    assert tf.train.latest_checkpoint(str(tmp_path)) == base + "-43"
    assert tf.train.load_variable(str(tmp_path), "global_step") == 42


def test_state_file_relative_paths_as_tf1(tmp_path, monkeypatch):
    # what tensorflow.compat.v1's Saver writes for save_path "run/model.ckpt" and max_to_keep=2
    monkeypatch.chdir(tmp_path)
    os.mkdir("run")
    with tf.Graph().as_default():
        tf.Variable([1.0, 2.0], name="theta")
        saver = tf.train.Saver(max_to_keep=2)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for i in range(4):
                assert saver.save(sess, "run/model.ckpt", global_step=i * 10) == f"run/model.ckpt-{i * 10}"
    with open("run/checkpoint") as f:
        assert f.read() == ('model_checkpoint_path: "model.ckpt-30"\n'
                            'all_model_checkpoint_paths: "model.ckpt-20"\n'
                            'all_model_checkpoint_paths: "model.ckpt-30"\n')
    assert sorted(os.listdir("run")) == ["checkpoint", "model.ckpt-20.meta", "model.ckpt-20.safetensors",
                                         "model.ckpt-30.meta", "model.ckpt-30.safetensors"]
    assert tf.train.latest_checkpoint("run") == "run/model.ckpt-30"
    state = tf.train.get_checkpoint_state("run")
    assert state.model_checkpoint_path == "run/model.ckpt-30"
    assert state.all_model_checkpoint_paths == ["run/model.ckpt-20", "run/model.ckpt-30"]
    assert tf.train.list_variables("run") == [("theta", [2])]


def test_state_file_absolute_paths_as_tf1(tmp_path):
    with tf.Graph().as_default():
        tf.Variable([1.0], name="theta")
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            path = saver.save(sess, str(tmp_path / "model.ckpt"))
    with open(tmp_path / "checkpoint") as f:
        assert f.read() == f'model_checkpoint_path: "{path}"\nall_model_checkpoint_paths: "{path}"\n'
    assert tf.train.latest_checkpoint(str(tmp_path)) == path
    assert tf.train.checkpoint_exists(path) and not tf.train.checkpoint_exists(path + "-1")


def test_save_relative_paths_and_custom_state_file(tmp_path):
    with tf.Graph().as_default():
        tf.Variable([1.0], name="theta")
        saver = tf.train.Saver(save_relative_paths=True, pad_step_number=True)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            path = saver.save(sess, str(tmp_path / "m"), global_step=3, latest_filename="state")
    assert path == str(tmp_path / "m-00000003")
    assert not (tmp_path / "checkpoint").exists()
    assert (tmp_path / "state").read_text().splitlines()[0] == 'model_checkpoint_path: "m-00000003"'
    assert tf.train.latest_checkpoint(str(tmp_path), "state") == path
    assert tf.train.latest_checkpoint(str(tmp_path)) is None


def test_dict_var_list_saves_under_given_keys(tmp_path):
    with tf.Graph().as_default():
        theta = tf.Variable([[1.0], [2.0]], name="theta")
        saver = tf.train.Saver({"weights": theta})
        with tf.Session() as sess:
            sess.run(theta.initializer)
            path = saver.save(sess, str(tmp_path / "m.ckpt"), write_meta_graph=False)
    assert tf.train.list_variables(path) == [("weights", [2, 1])]
    assert not os.path.exists(path + ".meta")
    with tf.Graph().as_default():  # another model restores the same key into its own variable
        other = tf.Variable(tf.zeros([2, 1]), name="layer/kernel")
        with tf.Session() as sess:
            tf.train.Saver({"weights": other}).restore(sess, path)
            np.testing.assert_array_equal(sess.run(other), [[1.0], [2.0]])


def test_default_var_list_is_global_variables_by_op_name(tmp_path):
    with tf.Graph().as_default():
        with tf.variable_scope("layer"):
            w = tf.get_variable("w", shape=[2], initializer=tf.ones_initializer())
        local = tf.Variable(5.0, name="local", collections=[tf.GraphKeys.LOCAL_VARIABLES])
        untrained = tf.Variable(3, name="count", trainable=False)
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run([w.initializer, local.initializer, untrained.initializer])
            path = saver.save(sess, str(tmp_path / "m"))
    assert [n for n, _ in tf.train.list_variables(path)] == ["count", "layer/w"]


def test_max_to_keep_none_keeps_all_and_every_n_hours_keeps(tmp_path):
    with tf.Graph().as_default():
        tf.Variable(1.0, name="v")
        keep_all = tf.train.Saver(max_to_keep=None)
        hourly = tf.train.Saver(max_to_keep=1, keep_checkpoint_every_n_hours=1e-9)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for i in range(3):
                keep_all.save(sess, str(tmp_path / "a"), global_step=i)
            time.sleep(0.01)
            for i in range(3):
                hourly.save(sess, str(tmp_path / "b"), global_step=i)
                time.sleep(0.01)
    for name in ("a", "b"):
        for i in range(3):
            assert tf.train.checkpoint_exists(str(tmp_path / f"{name}-{i}"))
    assert keep_all.last_checkpoints == []
    assert hourly.last_checkpoints == [str(tmp_path / "b-2")]


def test_max_to_keep_deletes_oldest_and_recover_last_checkpoints(tmp_path):
    base = str(tmp_path / "m")
    with tf.Graph().as_default():
        tf.Variable(1.0, name="v")
        saver = tf.train.Saver(max_to_keep=2)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for i in range(3):
                saver.save(sess, base, global_step=i)
            assert saver.last_checkpoints == [f"{base}-1", f"{base}-2"]
            assert not os.path.exists(f"{base}-0.safetensors") and not os.path.exists(f"{base}-0.meta")
            saver.save(sess, base, global_step=2)  # the same prefix again is not a new one
            assert saver.last_checkpoints == [f"{base}-1", f"{base}-2"]
            # a new process adopts the old run's checkpoints, so they count against max_to_keep
            later = tf.train.Saver(max_to_keep=2)
            later.recover_last_checkpoints(tf.train.get_checkpoint_state(str(tmp_path)).all_model_checkpoint_paths)
            later.save(sess, base, global_step=3)
    assert sorted(p for p in os.listdir(tmp_path) if p.endswith(".safetensors")) == \
        ["m-2.safetensors", "m-3.safetensors"]


def test_save_cleans_temp_files_of_dead_processes_only(tmp_path):
    dead = tmp_path / f".m.safetensors.{2**22 + 12345}.x1y2.gpugraph-tmp"  # no such pid on Linux
    alive = tmp_path / f".m.safetensors.{os.getppid()}.abcd.gpugraph-tmp"
    unrelated = tmp_path / ".hidden.gpugraph-tmp-not"
    for p in (dead, alive, unrelated):
        p.write_bytes(b"partial")
    with tf.Graph().as_default():
        tf.Variable(1.0, name="v")
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            saver.save(sess, str(tmp_path / "m"))
    assert not dead.exists() and alive.exists() and unrelated.exists()
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".gpugraph-tmp") and str(os.getpid()) in p]


def test_training_resumes_exactly_after_restore(tmp_path):
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((20, 3)).astype(np.float32), rng.standard_normal((20, 1)).astype(np.float32)
    with tf.Graph().as_default():
        w = tf.Variable(tf.zeros([3, 1]), name="w")
        loss = tf.reduce_mean(tf.square(tf.matmul(tf.constant(X), w) - y))
        step = tf.train.get_or_create_global_step()
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(5):
                sess.run(train)
            path = saver.save(sess, str(tmp_path / "m"), global_step=step)
            for _ in range(5):
                sess.run(train)
            straight = sess.run(w)
        with tf.Session() as sess:
            saver.restore(sess, tf.train.latest_checkpoint(str(tmp_path)))
            assert path.endswith("-5") and sess.run(step) == 5
            for _ in range(5):
                sess.run(train)
            np.testing.assert_array_equal(sess.run(w), straight)


# --- errors ---
def _saved(tmp_path, **variables):
    with tf.Graph().as_default():
        vs = [tf.Variable(v, name=k) for k, v in variables.items()]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return tf.train.Saver(vs).save(sess, str(tmp_path / "m.ckpt"))


def test_restore_missing_variable_names_variable_and_file(tmp_path):
    path = _saved(tmp_path, other=np.float32(1))
    with tf.Graph().as_default():
        tf.Variable(1.0, name="theta")
        with tf.Session() as sess, pytest.raises(tf.errors.NotFoundError) as info:
            tf.train.Saver().restore(sess, path)
    assert "theta" in str(info.value) and "m.ckpt.safetensors" in str(info.value)


def test_restore_checks_everything_before_changing_anything(tmp_path):
    path = _saved(tmp_path, a=np.float32(1), b=np.zeros(3, np.float32))
    with tf.Graph().as_default():
        a = tf.Variable(5.0, name="a")
        tf.Variable(np.zeros(4, np.float32), name="b")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            with pytest.raises(tf.errors.InvalidArgumentError) as info:
                tf.train.Saver().restore(sess, path)
            assert sess.run(a) == 5.0
    assert "'b'" in str(info.value) and "[4]" in str(info.value) and "[3]" in str(info.value)


def test_restore_dtype_mismatch(tmp_path):
    path = _saved(tmp_path, a=np.float64(1))
    with tf.Graph().as_default():
        tf.Variable(1.0, name="a")
        with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="float32.*float64.*'a'"):
            tf.train.Saver().restore(sess, path)


def test_restore_missing_file_is_not_found_and_value_error(tmp_path):
    with tf.Graph().as_default():
        tf.Variable(1.0, name="a")
        with tf.Session() as sess:
            saver = tf.train.Saver()
            for kind in (tf.errors.NotFoundError, ValueError):  # ValueError is what TF1 raises here
                with pytest.raises(kind, match="nothere"):
                    saver.restore(sess, str(tmp_path / "nothere"))
            with pytest.raises(ValueError, match="None"):
                saver.restore(sess, None)
    with pytest.raises(tf.errors.NotFoundError, match="nothere"):
        tf.train.load_variable(str(tmp_path / "nothere"), "a")
    with pytest.raises(ValueError, match="Couldn't find"):
        tf.train.list_variables(str(tmp_path))
    with pytest.raises(tf.errors.NotFoundError, match="Key zzz not found"):
        tf.train.load_variable(_saved(tmp_path, a=np.float32(1)), "zzz")


def test_save_errors(tmp_path):
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="No variables to save"):
            tf.train.Saver()
        assert tf.train.Saver(allow_empty=True).save(tf.Session(), str(tmp_path / "e")) is None
        v = tf.Variable(1.0, name="v")
        saver = tf.train.Saver()
        with pytest.raises(ValueError, match="same name"):
            tf.train.Saver([v, v])
        with pytest.raises(TypeError, match="not a Variable"):
            tf.train.Saver([tf.constant(1.0)])
        with tf.Session() as sess:
            with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value v"):
                saver.save(sess, str(tmp_path / "m"))
            sess.run(v.initializer)
            with pytest.raises(ValueError, match="Parent directory"):
                saver.save(sess, str(tmp_path / "no" / "m"))
            with pytest.raises(ValueError, match="collides"):
                saver.save(sess, str(tmp_path / "checkpoint"))
            with pytest.raises(TypeError, match="Session"):
                saver.save("not a session", str(tmp_path / "m"))
    with tf.Graph().as_default(), tf.Session() as sess, pytest.raises(ValueError, match="session's graph"):
        saver.save(sess, str(tmp_path / "m"))
    assert not any(p.endswith(".gpugraph-tmp") for p in os.listdir(tmp_path))


# --- the state file itself ---
def test_state_text_round_trip_with_escapes(tmp_path):
    odd = 'dir "q"\\ünï\tx\n'
    state = checkpoint_state.generate_checkpoint_state_proto("/abs", "/abs/" + odd, ["/abs/a", "/abs/" + odd])
    parsed = checkpoint_state.parse_state(state.to_text())
    assert parsed == state and parsed.model_checkpoint_path == "/abs/" + odd
    assert '\\303\\274' in state.to_text()  # non-ASCII bytes as octal escapes, as protobuf writes them
    # TF1-written variants: single quotes, comments, timestamps
    text = ("# comment\nmodel_checkpoint_path: 'm-2'\nall_model_checkpoint_paths: \"m-1\"\n"
            "all_model_checkpoint_paths: \"m-2\"\nall_model_checkpoint_timestamps: 1.5\n"
            "all_model_checkpoint_timestamps: 2.5\nlast_preserved_timestamp: 1.25\n")
    parsed = checkpoint_state.parse_state(text)
    assert (parsed.model_checkpoint_path, parsed.all_model_checkpoint_paths) == ("m-2", ["m-1", "m-2"])
    assert parsed.all_model_checkpoint_timestamps == [1.5, 2.5] and parsed.last_preserved_timestamp == 1.25
    assert checkpoint_state.parse_state(parsed.to_text()) == parsed


def test_bad_or_missing_state_file(tmp_path):
    assert tf.train.get_checkpoint_state(str(tmp_path)) is None
    assert tf.train.latest_checkpoint(str(tmp_path)) is None
    (tmp_path / "checkpoint").write_text("model_checkpoint_path: unquoted\n")
    with pytest.warns(UserWarning, match="ignored"):
        assert tf.train.get_checkpoint_state(str(tmp_path)) is None
    (tmp_path / "checkpoint").write_text('all_model_checkpoint_paths: "a"\n')
    with pytest.raises(ValueError, match="Invalid checkpoint state"):
        tf.train.get_checkpoint_state(str(tmp_path))
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "gone"\n')
    with pytest.warns(UserWarning, match="Couldn't match files"):
        assert tf.train.latest_checkpoint(str(tmp_path)) is None


def test_reader_api(tmp_path):
    path = _saved(tmp_path, a=np.arange(6, dtype=np.int32).reshape(2, 3))
    reader = tf.train.load_checkpoint(str(tmp_path))
    assert reader.has_tensor("a") and not reader.has_tensor("b")
    assert reader.get_variable_to_shape_map() == {"a": [2, 3]}
    assert reader.get_variable_to_dtype_map() == {"a": tf.int32}
    got = reader.get_tensor("a")
    got[0, 0] = 99  # a copy: the reader's data is unchanged
    np.testing.assert_array_equal(tf.train.NewCheckpointReader(path).get_tensor("a"), np.arange(6).reshape(2, 3))
    assert checkpoint_io.prefix_of(checkpoint_io.data_path(path)) == path
