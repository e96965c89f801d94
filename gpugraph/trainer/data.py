"""Training data for the built-in trainer: .npz or .csv files, or a dataset shipped with scikit-learn.

Every source ends as float32 inputs of shape (n, features) and targets of shape (n,) (int64 class ids
for classifiers, float32 for regressors), split into train and test parts by a fixed permutation and
scaled with statistics of the training part only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from gpugraph.config_files import ConfigError


class DataError(ValueError):
    """The data named by a config cannot be used; the message is one line meant for the user."""


@dataclass(frozen=True)
class Dataset:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int  # 0 for regression targets

    @property
    def num_features(self) -> int:
        return int(self.x_train.shape[1])


def load_dataset(data: SimpleNamespace, directory: Path, classifier: bool) -> Dataset:
    """Read the data that the [data] section names; ``directory`` resolves a relative path."""
    if data.path:
        path = Path(data.path).expanduser()
        path = path if path.is_absolute() else directory / path
        name = str(path)
        x, y = _read_file(path, data)
    else:
        name = data.dataset or ("digits" if classifier else "diabetes")
        x, y = _builtin(name)
    x, y = _check_arrays(x, y, name)
    y = _labels(y, name) if classifier else y.astype(np.float32)
    num_classes = int(y.max()) + 1 if classifier else 0
    if classifier and num_classes < 2:
        raise DataError(f"{name}: a classifier needs at least two classes, the labels hold only {num_classes}")
    x_train, y_train, x_test, y_test = _split(x, y, data.test_fraction, data.split_seed)
    x_train, x_test = _normalize(x_train, x_test, data.normalize)
    return Dataset(name, x_train, y_train, x_test, y_test, num_classes)


def _read_file(path: Path, data: SimpleNamespace) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as arrays:
                missing = [k for k in (data.x_key, data.y_key) if k not in arrays.files]
                if missing:
                    raise DataError(f"{path} has no array named {missing[0]!r} (it has {', '.join(arrays.files)}); "
                                    f"set x_key/y_key in [data]")
                return np.asarray(arrays[data.x_key]), np.asarray(arrays[data.y_key])
        if suffix in (".csv", ".txt"):
            try:
                table = np.loadtxt(path, delimiter=data.delimiter, skiprows=data.skip_header, ndmin=2,
                                   dtype=np.float64)
            except ValueError as e:
                hint = "; if the file starts with a header, set skip_header in [data]" if not data.skip_header else ""
                raise DataError(f"cannot read {path}: {e}{hint}") from None
            columns = table.shape[1]
            if columns < 2:
                raise DataError(f"{path} has {columns} column; it needs inputs and a target column")
            label = data.label_column
            if not -columns <= label < columns:
                raise DataError(f"[data] label_column = {label} but {path} has {columns} columns")
            return np.delete(table, label % columns, axis=1), table[:, label]
    except DataError:
        raise
    except (ValueError, OSError) as e:  # loadtxt's parse errors name the line; np.load's the format
        raise DataError(f"cannot read {path}: {e}") from None
    raise DataError(f"{path}: unknown data file type {suffix!r}; use .npz or .csv")


def _builtin(name: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn import datasets
    except ImportError:
        raise ConfigError(f"the built-in {name!r} dataset comes with scikit-learn: pip install 'gpugraph[digits]', "
                          f"or set path in [data]") from None
    loaded = datasets.load_digits() if name == "digits" else datasets.load_diabetes()
    return np.asarray(loaded.data), np.asarray(loaded.target)


def _check_arrays(x: np.ndarray, y: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    if x.dtype.kind not in "biuf" or y.dtype.kind not in "biuf":
        raise DataError(f"{name}: inputs and targets must be numbers, got dtypes {x.dtype} and {y.dtype}")
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise DataError(f"{name}: inputs must have shape (examples, features), got {x.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or len(y) != len(x):
        raise DataError(f"{name}: targets must have shape ({len(x)},) to match the inputs {x.shape}, got {y.shape}")
    if len(x) < 2:
        raise DataError(f"{name}: needs at least 2 examples, got {len(x)}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise DataError(f"{name}: inputs or targets contain NaN or infinity")
    return x.astype(np.float32), y


def _labels(y: np.ndarray, name: str) -> np.ndarray:
    bad = (y < 0) | (y != np.round(y))
    if bad.any():
        raise DataError(f"{name}: classifier labels must be class ids 0, 1, 2...; found {y[bad][0]}")
    return y.astype(np.int64)


def _split(x: np.ndarray, y: np.ndarray, test_fraction: float,
           seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(round(len(x) * test_fraction))
    n_test = min(n_test, len(x) - 1)  # keep at least one training example
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


def _normalize(x_train: np.ndarray, x_test: np.ndarray, how: str) -> tuple[np.ndarray, np.ndarray]:
    if how == "none":
        return x_train, x_test
    if how == "standard":
        shift, scale = x_train.mean(axis=0), x_train.std(axis=0)
    else:
        shift, scale = x_train.min(axis=0), x_train.max(axis=0) - x_train.min(axis=0)
    scale = np.where(scale > 0, scale, 1.0)  # constant columns (digits' blank border pixels) stay put
    return ((x_train - shift) / scale).astype(np.float32), ((x_test - shift) / scale).astype(np.float32)
