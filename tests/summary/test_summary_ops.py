"""Summary ops: what Session.run returns, the messages' contents, collections, and TF1's errors."""

from __future__ import annotations

import numpy as np
import pytest

import gpugraph as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def _parse(serialized: bytes) -> tf.summary.Summary:
    assert isinstance(serialized, bytes)
    summary = tf.summary.Summary()
    summary.ParseFromString(serialized)
    return summary


def test_scalar_fetch_is_bytes_and_eval_works_with_feeds() -> None:
    x = tf.placeholder(tf.float32, shape=(None, 2), name="X")
    mse = tf.reduce_mean(tf.square(x), name="mean_square")
    mse_summary = tf.summary.scalar("MSE", mse)
    assert mse_summary.op.type == "ScalarSummary" and mse_summary.dtype == tf.string
    assert mse_summary.shape.as_tuple() == ()
    data = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    with tf.Session() as sess:
        summary_str = mse_summary.eval(feed_dict={x: data})
        again, value = sess.run([mse_summary, mse], feed_dict={x: data})
    assert type(summary_str) is bytes and summary_str == again
    (entry,) = _parse(summary_str).value
    assert entry.tag == "MSE"
    assert entry.simple_value == pytest.approx(float(np.mean(data**2))) == pytest.approx(value)


@pytest.mark.parametrize("dtype", [tf.float64, tf.int32, tf.int64, tf.uint8, tf.float16])
def test_scalar_of_any_real_dtype(dtype: tf.DType) -> None:
    s = tf.summary.scalar("v", tf.constant(7, dtype=dtype))
    with tf.Session() as sess:
        assert _parse(sess.run(s)).value[0].simple_value == 7.0


def test_scalar_of_a_variable() -> None:
    v = tf.Variable(2.5, name="v")
    s = tf.summary.scalar("v", v)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert _parse(sess.run(s)).value[0].simple_value == 2.5


def test_summaries_join_the_summaries_collection_unless_told_otherwise() -> None:
    a = tf.summary.scalar("a", 1.0)
    b = tf.summary.histogram("b", [1.0, 2.0])
    c = tf.summary.scalar("c", 1.0, collections=["mine"])
    d = tf.summary.scalar("d", 1.0, collections=[])
    assert tf.get_collection(tf.GraphKeys.SUMMARIES) == [a, b]
    assert tf.get_collection("mine") == [c]
    merged = tf.summary.merge([a, d])
    assert merged not in tf.get_collection(tf.GraphKeys.SUMMARIES)
    assert tf.summary.merge_all("mine").op.name == "Merge_1/MergeSummary"
    assert tf.summary.merge_all("nothing_here") is None


def test_merge_all_with_scope_keeps_matching_summaries() -> None:
    with tf.name_scope("train"):
        tf.summary.scalar("loss", 1.0)
    tf.summary.scalar("eval_loss", 2.0)
    merged = tf.summary.merge_all(scope="train")
    with tf.Session() as sess:
        assert [v.tag for v in _parse(sess.run(merged)).value] == ["train/loss"]


def test_histogram_statistics() -> None:
    values = np.random.default_rng(3).standard_normal((5, 6))
    h = tf.summary.histogram("w", tf.constant(values))
    with tf.Session() as sess:
        histo = _parse(sess.run(h)).value[0].histo
    assert histo.num == 30 and histo.min == values.min() and histo.max == values.max()
    assert histo.sum == pytest.approx(values.sum()) and histo.sum_squares == pytest.approx((values**2).sum())
    assert sum(histo.bucket) == 30
    limits = np.array(histo.bucket_limit)
    assert np.all(np.diff(limits) > 0)
    # every value lies below its bucket's limit and at or above the previous limit
    index = np.searchsorted(limits, values.reshape(-1), side="right")
    assert np.array_equal(np.bincount(index, minlength=limits.size), np.array(histo.bucket))


@pytest.mark.parametrize("bad, word", [(np.nan, "Nan"), (np.inf, "Infinity")])
def test_histogram_of_nonfinite_values_is_a_run_time_error(bad: float, word: str) -> None:
    x = tf.placeholder(tf.float32, [None])
    h = tf.summary.histogram("h", x)
    message = f"{word} in summary histogram for: h"
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match=message):
        sess.run(h, {x: [1.0, bad]})


def test_image_tags_sizes_and_png_content() -> None:
    from io import BytesIO

    from PIL import Image

    pixels = np.random.default_rng(0).integers(0, 256, size=(5, 4, 3, 3)).astype(np.uint8)
    im = tf.summary.image("batch", tf.constant(pixels), max_outputs=2)
    one = tf.summary.image("first", tf.constant(pixels), max_outputs=1)
    with tf.Session() as sess:
        values, first = sess.run([im, one])
    parsed = _parse(values).value
    assert [v.tag for v in parsed] == ["batch/image/0", "batch/image/1"]
    assert [v.tag for v in _parse(first).value] == ["first/image"]
    for k, v in enumerate(parsed):
        assert (v.image.height, v.image.width, v.image.colorspace) == (4, 3, 3)
        decoded = np.array(Image.open(BytesIO(v.image.encoded_image_string)))
        np.testing.assert_array_equal(decoded, pixels[k])


def test_float_images_in_unit_range_scale_to_255() -> None:
    from io import BytesIO

    from PIL import Image

    img = np.zeros((1, 2, 2, 1), np.float32)
    img[0, 1, 1, 0] = 1.0
    img[0, 0, 1, 0] = 0.5
    s = tf.summary.image("gray", tf.constant(img))
    with tf.Session() as sess:
        (v,) = _parse(sess.run(s)).value
    assert v.image.colorspace == 1
    decoded = np.array(Image.open(BytesIO(v.image.encoded_image_string)))
    np.testing.assert_array_equal(decoded, [[0, 127], [0, 255]])


def test_text_from_python_strings_and_string_tensors() -> None:
    t = tf.summary.text("notes", ["hello", "**world**"])
    assert t.op.type == "TensorSummaryV2" and t.op.name == "notes"
    assert tf.get_collection(tf.GraphKeys.SUMMARIES) == [t]
    single = tf.summary.text("one", "just this")
    with tf.Session() as sess:
        (v,) = _parse(sess.run(t)).value
        (w,) = _parse(sess.run(single)).value
    assert v.tag == "notes" and v.metadata.plugin_data.plugin_name == "text"
    assert list(v.tensor.string_val) == [b"hello", b"**world**"]
    assert [d.size for d in v.tensor.tensor_shape.dim] == [2]
    assert list(w.tensor.string_val) == [b"just this"] and len(w.tensor.tensor_shape.dim) == 0


def test_tensor_summary_keeps_numbers_and_metadata() -> None:
    values = np.arange(6, dtype=np.float32).reshape(2, 3)
    metadata = tf.summary.SummaryMetadata(display_name="grid")
    metadata.plugin_data.plugin_name = "custom"
    metadata.plugin_data.content = b"\x01"
    s = tf.summary.tensor_summary("grid", tf.constant(values), summary_metadata=metadata)
    with tf.Session() as sess:
        (v,) = _parse(sess.run(s)).value
    assert v.tensor.dtype == 1  # DT_FLOAT
    np.testing.assert_array_equal(np.frombuffer(v.tensor.tensor_content, "<f4").reshape(2, 3), values)
    assert (v.metadata.display_name, v.metadata.plugin_data.plugin_name) == ("grid", "custom")
    assert v.metadata.plugin_data.content == b"\x01"


def test_merge_keeps_values_in_input_order() -> None:
    x = tf.placeholder(tf.float32, [])
    a = tf.summary.scalar("a", x)
    b = tf.summary.scalar("b", x * 2.0)
    merged = tf.summary.merge([b, a])
    with tf.Session() as sess:
        parsed = _parse(sess.run(merged, {x: 1.5})).value
    assert [(v.tag, v.simple_value) for v in parsed] == [("b", 3.0), ("a", 1.5)]


def test_merge_of_a_tag_twice_is_a_run_time_error() -> None:
    a = tf.summary.scalar("a", 1.0)
    merged = tf.summary.merge([a, a])
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="Duplicate tag a"):
        sess.run(merged)


def test_build_time_errors_name_the_op() -> None:
    with pytest.raises(ValueError, match=r"not the same shape.*'v'.*op: 'ScalarSummary'"):
        tf.summary.scalar("v", tf.constant([1.0, 2.0]))
    with pytest.raises(TypeError, match="DataType bool"):
        tf.summary.scalar("flag", tf.constant(True))
    with pytest.raises(TypeError, match="DataType bool"):
        tf.summary.histogram("flags", tf.constant([True]))
    with pytest.raises(ValueError, match="4-D with last dim 1, 3, or 4"):
        tf.summary.image("im", tf.zeros([2, 3, 3]))
    with pytest.raises(ValueError, match="4-D with last dim 1, 3, or 4"):
        tf.summary.image("im", tf.zeros([1, 2, 3, 2]))
    with pytest.raises(TypeError, match="DataType int32"):
        tf.summary.image("im", tf.zeros([1, 2, 3, 3], dtype=tf.int32))
    with pytest.raises(ValueError, match="max_outputs"):
        tf.summary.image("im", tf.zeros([1, 2, 3, 3]), max_outputs=0)
    with pytest.raises(ValueError, match="at least one"):
        tf.summary.merge([])
    with pytest.raises(TypeError, match="string summaries"):
        tf.summary.merge([tf.constant(1.0)])
    with pytest.raises(ValueError, match="dtype string"):
        tf.summary.text("t", tf.constant(1.0))


def test_scalar_fed_a_vector_is_a_run_time_error() -> None:
    x = tf.placeholder(tf.float32)
    s = tf.summary.scalar("s", x)
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match=r"\[\] != \[2\]"):
        sess.run(s, {x: [1.0, 2.0]})


def test_summary_ops_have_no_gradient() -> None:
    x = tf.Variable(1.0)
    s = tf.summary.scalar("x", x)
    assert tf.gradients(tf.cast(tf.size(tf.shape(s)), tf.float32), [x]) == [None]
