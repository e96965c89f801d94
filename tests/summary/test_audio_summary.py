"""tf.summary.audio: the bytes TensorFlow's AudioSummaryV2 produces, read back by TensorBoard; and the rest of
tf.compat.v1.summary (get_summary_description, initialize, all_v2_summary_ops)."""

from __future__ import annotations

import base64
import io
import wave

import numpy as np
import pytest
from event_reading import accumulate

import gpugraph as tf

# sess.run of the two summaries built in _build(), in TensorFlow 2.21, for the same input
TF_STEREO = ("CnAKDnNjL3NuZC9hdWRpby8wMl4NAAD6RRACGAciSFJJRkZAAAAAV0FWRWZtdCAQAAAAAQACAEAfAAAAfQAABAAQAGRhdGEcAAAA/38A"
             "gBwgZdQ93XHvAIAw7o29/39XEevkZuqyzCoJYXVkaW8vd2F2CnAKDnNjL3NuZC9hdWRpby8xMl4NAAD6RRACGAciSFJJRkZAAAAAV0FW"
             "RWZtdCAQAAAAAQACAEAfAAAAfQAABAAQAGRhdGEcAAAA96794QMlru2OSajw3QG4dt0pM9n18YMp/39L6yoJYXVkaW8vd2F2")
TF_MONO = ("CmYKEmZhbS9mYW0vbW9uby9hdWRpbzJQDQAAekYQARgHIjpSSUZGMgAAAFdBVkVmbXQgEAAAAAEAAQCAPgAAAH0AAAIAEABkYXRhDgAA"
           "AP9/HCA93QCAjb1XEWbqKglhdWRpby93YXY=")


def _clips() -> np.ndarray:
    # some samples lie outside [-1, 1]: they are clamped
    return (np.random.default_rng(3).standard_normal((3, 7, 2)) * 0.6).astype(np.float32)


def _build() -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    ph = tf.placeholder(tf.float32, [None, None, 2])
    with tf.name_scope("sc"):
        stereo = tf.summary.audio("snd", ph, 8000, max_outputs=2)
    mono = tf.summary.audio("mono", ph[:, :, 0], tf.constant(16000.0), max_outputs=1, family="fam")
    return ph, stereo, mono


def test_audio_summaries_are_tensorflows_bytes() -> None:
    with tf.Graph().as_default():
        ph, stereo, mono = _build()
        assert (stereo.name, mono.name, stereo.op.type) == ("sc/snd:0", "fam/mono:0", "AudioSummaryV2")
        assert tf.get_collection(tf.GraphKeys.SUMMARIES) == [stereo, mono]
        with tf.Session() as sess:
            got_stereo, got_mono = sess.run([stereo, mono], {ph: _clips()})
    assert got_stereo == base64.b64decode(TF_STEREO)
    assert got_mono == base64.b64decode(TF_MONO)


def test_written_and_read_back_by_tensorboard(tmp_path) -> None:
    with tf.Graph().as_default():
        ph, stereo, _ = _build()
        with tf.Session() as sess:
            summary = sess.run(stereo, {ph: _clips()})
        writer = tf.summary.FileWriter(str(tmp_path))
        writer.add_summary(summary, global_step=4)
        writer.close()
    acc = accumulate(tmp_path)
    assert sorted(acc.Tags()["audio"]) == ["sc/snd/audio/0", "sc/snd/audio/1"]
    (event,) = acc.Audio("sc/snd/audio/1")
    assert (event.step, event.sample_rate, event.length_frames, event.content_type) == (4, 8000, 7, "audio/wav")
    with wave.open(io.BytesIO(event.encoded_audio_string)) as wav:
        frames = np.frombuffer(wav.readframes(7), "<i2").reshape(7, 2)
        assert (wav.getnchannels(), wav.getframerate(), wav.getsampwidth()) == (2, 8000, 2)
    want = np.clip(np.round(_clips()[1] * 32768.0), -32768, 32767)  # 16-bit PCM, clamped
    np.testing.assert_array_equal(frames, want)


def test_bad_audio_inputs() -> None:
    with pytest.raises(TypeError, match="Input 'tensor' of 'AudioSummaryV2' Op has type int32"):
        tf.summary.audio("x", tf.zeros([1, 3], tf.int32), 8000)
    with pytest.raises(ValueError, match="Tensor must be 3-D or 2-D"):
        tf.summary.audio("x", tf.zeros([3]), 8000)
    negative = tf.summary.audio("neg", tf.zeros([1, 3]), -1.0)
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="sample_rate must be > 0"):
        sess.run(negative)


def test_summary_description_initialize_and_v2_ops() -> None:
    node = tf.summary.scalar("s", tf.constant(1.0)).op.node_def
    with pytest.raises(ValueError, match="Can't get_summary_description on ScalarSummary"):
        tf.summary.get_summary_description(node)

    class TensorSummaryNode:  # a TF1 "TensorSummary" NodeDef's fields
        op = "TensorSummary"
        attr = {"description": type("AttrValue", (), {"s": b'{"typeHint": "scalar"}'})()}

    assert tf.summary.get_summary_description(TensorSummaryNode()).type_hint == "scalar"
    # TF 2.21 graph mode: there is no default v2 writer, and no v2 summary op
    with pytest.raises(RuntimeError, match="No default tf.contrib.summary.SummaryWriter found"):
        tf.summary.initialize()
    assert tf.summary.all_v2_summary_ops() == []
