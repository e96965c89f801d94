"""Data for the built-in trainer: .npz and .csv files, built-in datasets, the fixed split and scaling."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from gpugraph.config_files import load_settings
from gpugraph.trainer import DataError, load_dataset


def data_section(**values) -> SimpleNamespace:
    section = load_settings(None, {}).data
    for key, value in values.items():
        setattr(section, key, value)
    return section


def test_npz_with_named_arrays_relative_to_the_config(tmp_path):
    x = np.arange(20, dtype=np.float64).reshape(10, 2)
    y = np.arange(10) % 3
    np.savez(tmp_path / "d.npz", inputs=x, labels=y)
    data = load_dataset(data_section(path="d.npz", x_key="inputs", y_key="labels", normalize="none",
                                     test_fraction=0.3), tmp_path, classifier=True)
    assert data.num_classes == 3 and data.num_features == 2
    assert len(data.x_train) == 7 and len(data.x_test) == 3
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    # the split is a permutation of the rows: every example lands in exactly one part, labels kept with rows
    rows = np.concatenate([data.x_train, data.x_test])
    labels = np.concatenate([data.y_train, data.y_test])
    order = np.argsort(rows[:, 0])
    np.testing.assert_array_equal(rows[order], x.astype(np.float32))
    np.testing.assert_array_equal(labels[order], y)


def test_split_is_fixed_by_its_seed(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.arange(50.0), y=np.arange(50.0))
    a = load_dataset(data_section(path="d.npz", normalize="none"), tmp_path, classifier=False)
    b = load_dataset(data_section(path="d.npz", normalize="none"), tmp_path, classifier=False)
    c = load_dataset(data_section(path="d.npz", normalize="none", split_seed=1), tmp_path, classifier=False)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.y_test, c.y_test)
    assert a.x_train.shape == (40, 1) and a.y_train.dtype == np.float32


def test_csv_with_header_and_label_column(tmp_path):
    (tmp_path / "d.csv").write_text("label;a;b\n1;0.5;2\n0;1.5;4\n1;2.5;6\n0;3.5;8\n")
    data = load_dataset(data_section(path=str(tmp_path / "d.csv"), skip_header=1, label_column=0, delimiter=";",
                                     normalize="none", test_fraction=0.0), Path("/elsewhere"), classifier=True)
    assert data.num_classes == 2 and len(data.x_test) == 0
    by_first = dict(zip(data.x_train[:, 0].tolist(), data.y_train.tolist()))
    assert by_first == {0.5: 1, 1.5: 0, 2.5: 1, 3.5: 0}
    np.testing.assert_array_equal(np.sort(data.x_train[:, 1]), [2, 4, 6, 8])


def test_standard_scaling_uses_training_statistics_only(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(5.0, 3.0, size=(100, 3))
    x[:, 2] = 7.0  # a constant column stays finite
    np.savez(tmp_path / "d.npz", x=x, y=rng.normal(size=100))
    data = load_dataset(data_section(path="d.npz"), tmp_path, classifier=False)
    np.testing.assert_allclose(data.x_train[:, :2].mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(data.x_train[:, :2].std(axis=0), 1.0, atol=1e-5)
    np.testing.assert_array_equal(data.x_train[:, 2], 0.0)
    raw = load_dataset(data_section(path="d.npz", normalize="none"), tmp_path, classifier=False)
    shift, scale = raw.x_train[:, 0].mean(), raw.x_train[:, 0].std()
    np.testing.assert_allclose(data.x_test[:, 0], (raw.x_test[:, 0] - shift) / scale, rtol=1e-4)
    minmax = load_dataset(data_section(path="d.npz", normalize="minmax"), tmp_path, classifier=False)
    assert minmax.x_train[:, :2].min() == 0.0 and minmax.x_train[:, :2].max() == pytest.approx(1.0)


def test_builtin_digits_and_diabetes():
    digits = load_dataset(data_section(), Path("."), classifier=True)
    assert digits.name == "digits" and digits.num_features == 64 and digits.num_classes == 10
    assert len(digits.x_train) + len(digits.x_test) == 1797 and len(digits.x_test) == 359
    diabetes = load_dataset(data_section(), Path("."), classifier=False)
    assert diabetes.name == "diabetes" and diabetes.num_features == 10 and diabetes.num_classes == 0


@pytest.mark.parametrize("setup, values, message", [
    (None, dict(path="missing.npz"), "data file not found: {dir}/missing.npz"),
    ("npz", dict(path="d.npz", x_key="inputs"), "{dir}/d.npz has no array named 'inputs' (it has x, y); "
                                                "set x_key/y_key in [data]"),
    ("csv", dict(path="d.csv", label_column=5, skip_header=1), "[data] label_column = 5 but {dir}/d.csv has 2 columns"),
    ("csv", dict(path="d.csv"), "cannot read {dir}/d.csv: could not convert string 'x' to float64 at row 0, "
                                "column 1.; if the file starts with a header, set skip_header in [data]"),
    ("txt", dict(path="d.json"), "{dir}/d.json: unknown data file type '.json'; use .npz or .csv"),
    ("bad_labels", dict(path="d.npz"), "{dir}/d.npz: classifier labels must be class ids 0, 1, 2...; found 0.5"),
    ("one_class", dict(path="d.npz"), "{dir}/d.npz: a classifier needs at least two classes"),
    ("nan", dict(path="d.npz"), "{dir}/d.npz: inputs or targets contain NaN or infinity"),
    ("mismatch", dict(path="d.npz"), "{dir}/d.npz: targets must have shape (4,) to match the inputs (4, 2)"),
])
def test_bad_data_is_one_clear_line(tmp_path, setup, values, message):
    x = np.ones((4, 2))
    if setup == "npz":
        np.savez(tmp_path / "d.npz", x=x, y=np.zeros(4))
    elif setup == "csv":
        (tmp_path / "d.csv").write_text("x,y\n1,2\n")  # the header is not skipped: not a number
    elif setup == "txt":
        (tmp_path / "d.json").write_text("{}")
    elif setup == "bad_labels":
        np.savez(tmp_path / "d.npz", x=x, y=np.array([0, 1, 0.5, 1]))
    elif setup == "one_class":
        np.savez(tmp_path / "d.npz", x=x, y=np.zeros(4))
    elif setup == "nan":
        np.savez(tmp_path / "d.npz", x=np.array([[1, np.nan]] * 4), y=np.array([0, 1, 0, 1]))
    elif setup == "mismatch":
        np.savez(tmp_path / "d.npz", x=x, y=np.zeros(3))
    with pytest.raises(DataError) as info:
        load_dataset(data_section(**values), tmp_path, classifier=True)
    text = str(info.value)
    assert text.startswith(message.format(dir=tmp_path)) and "\n" not in text
