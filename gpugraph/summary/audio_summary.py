"""tf.summary.audio: 16-bit PCM WAV clips for TensorBoard's audio plugin (WAV written by the stdlib ``wave``)."""

from __future__ import annotations

import io
import wave
from typing import Any, Sequence

import numpy as np

from gpugraph.framework import dtypes
from gpugraph.framework.graph import GraphKeys
from gpugraph.framework.tensor import Operation, Tensor
from gpugraph.framework.tensor_shape import TensorShape
from gpugraph.ops.constant_ops import convert_to_tensor
from gpugraph.ops.registry import NO_GRADIENT, OpDef, graph_of, register_op
from gpugraph.summary import encode
from gpugraph.summary.summary_ops import _collect, _host_step, summary_scope

__all__ = ["audio"]


def _audio_infer(tensor: Tensor, sample_rate: Tensor, *, tag: str, max_outputs: int) -> Any:
    if tensor.dtype.base_dtype != dtypes.float32:
        raise TypeError(f"Input 'tensor' of 'AudioSummaryV2' Op has type {tensor.dtype.base_dtype.name} that does "
                        "not match expected type of float32.")
    if isinstance(max_outputs, bool) or not isinstance(max_outputs, int) or max_outputs < 1:
        raise ValueError(f"max_outputs must be an int >= 1, got {max_outputs!r}")
    rank = tensor.shape.ndims
    if rank is not None and rank not in (2, 3):
        raise ValueError(f"Tensor must be 3-D or 2-D, got: {tensor.shape} ({tensor.name}, tag '{tag}')")
    if sample_rate.shape.ndims not in (None, 0):
        raise ValueError(f"sample_rate must be a scalar, got shape {sample_rate.shape} ({sample_rate.name})")
    return TensorShape(()), dtypes.string


def encode_wav(clip: np.ndarray, sample_rate: float) -> bytes:
    """[frames, channels] floats in [-1, 1] -> little-endian 16-bit PCM WAV, rounded and clamped as TF1's wav_io."""
    pcm = np.clip(np.round(clip.astype(np.float32) * np.float32(32768.0)), -32768, 32767).astype("<i2")
    with io.BytesIO() as out:
        with wave.open(out, "wb") as wav:
            wav.setnchannels(clip.shape[1])
            wav.setsampwidth(2)
            wav.setframerate(int(sample_rate))
            wav.writeframes(pcm.tobytes())
        return out.getvalue()


def audio_summary(tag: str, tensor: np.ndarray, sample_rate: np.ndarray, max_outputs: int) -> bytes:
    rate = float(np.asarray(sample_rate))
    if rate <= 0:
        raise encode.SummaryError("sample_rate must be > 0")
    if tensor.ndim not in (2, 3):
        raise encode.SummaryError(f"Tensor must be 3-D or 2-D, got: {list(tensor.shape)}")
    clips = tensor if tensor.ndim == 3 else tensor[:, :, None]
    pb = encode.pb()
    summary = pb.Summary()
    for i in range(min(max_outputs, clips.shape[0])):
        frames, channels = clips.shape[1], clips.shape[2]
        summary.value.add(
            tag=f"{tag}/audio/{i}" if max_outputs > 1 else f"{tag}/audio",
            audio=pb.Summary.Audio(sample_rate=rate, num_channels=channels, length_frames=frames,
                                   encoded_audio_string=encode_wav(clips[i], rate), content_type="audio/wav"))
    return summary.SerializeToString()


def _encode(op: Operation, arrays: list[Any], *, tag: str, max_outputs: int) -> bytes:
    return audio_summary(tag, np.asarray(arrays[0]), arrays[1], max_outputs)


# Summary ops serialize protobufs to strings: host code (gpu=False).
AUDIO_SUMMARY = register_op(OpDef(
    "AudioSummaryV2", infer=_audio_infer, grad=NO_GRADIENT, gpu=False, input_names=("tensor", "sample_rate"),
    same_dtype=False,
    bind=_host_step(_encode),
))


def audio(name: str, tensor: Any, sample_rate: Any, max_outputs: int = 3, collections: Sequence[str] | None = None,
          family: str | None = None) -> Tensor:
    """WAV clips of the first ``max_outputs`` entries of a [batch, frames(, channels)] float32 tensor in [-1, 1].

    Tags are "name/audio" (max_outputs == 1) or "name/audio/0", "name/audio/1"..."""
    graph = graph_of([tensor])
    with summary_scope(graph, name, family) as (tag, scope):
        rate = convert_to_tensor(sample_rate, dtype=dtypes.float32, name="sample_rate")
        value = AUDIO_SUMMARY(tensor, rate, name=scope, tag=tag, max_outputs=max_outputs)
    _collect(graph, value, collections, [GraphKeys.SUMMARIES])
    return value
