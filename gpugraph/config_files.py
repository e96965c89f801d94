"""TOML config files for the ``gpugraph`` command: one table of settings, loading, checking, environment.

A config has the sections [session] (how Sessions use devices and memory), [model], [data], [train] and
[output] (the built-in trainer). ``SETTINGS`` is the single list of every key: its type, default,
environment variable and meaning. Loading checks every key against it: an unknown key fails with the
file, the line and the closest known key; a wrong type or value fails naming the key and the line.
Environment variables override the file. ``settings_table_markdown()`` renders the table for the README.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Mapping

from gpugraph.runtime.memory import ENV_ALLOW_GROWTH, ENV_MEMORY_FRACTION

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the backport has the same API
    import tomli as tomllib

__all__ = ["ConfigError", "Setting", "SETTINGS", "SECTIONS", "Settings", "load_settings", "session_config",
           "settings_table_markdown", "ENV_DEVICE", "MODEL_TYPES", "CLASSIFIERS"]

ENV_DEVICE = "GPUGRAPH_DEVICE"
MODEL_TYPES = ("linear_regression", "logistic_regression", "polynomial_regression", "mlp_classifier")
CLASSIFIERS = ("logistic_regression", "mlp_classifier")
SECTIONS = ("session", "model", "data", "train", "output")


class ConfigError(ValueError):
    """A config file or environment variable is wrong; the message is one line meant for the user."""


@dataclass(frozen=True)
class Setting:
    """One key of one section. ``kind``: bool, int, float, str, devices (GPU ids), int list.
    ``env``: the environment variable that overrides it; ``runtime``: the library itself reads that
    variable in any program (not only under the ``gpugraph`` command). ``models``: the model types the
    key applies to (None: all)."""

    section: str
    key: str
    kind: str
    default: Any
    meaning: str
    env: str | None = None
    runtime: bool = False
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    models: tuple[str, ...] | None = None


_S = Setting
SETTINGS: tuple[Setting, ...] = (
    _S("session", "allow_growth", "bool", False, "take GPU memory on demand instead of reserving memory_fraction "
       "up front", env=ENV_ALLOW_GROWTH, runtime=True),
    _S("session", "memory_fraction", "float", 0.0, "cap on this process's share of each GPU's memory "
       "(0.5: two jobs share one GPU); 0: no cap", env=ENV_MEMORY_FRACTION, runtime=True, minimum=0.0,
       maximum=1.0),
    _S("session", "visible_devices", "devices", "", 'GPU ids the session may use, "0,1" or [0, 1]; empty: all',
       env="GPUGRAPH_VISIBLE_DEVICES"),
    _S("session", "allow_soft_placement", "bool", False, "run an op pinned to a missing device on one that "
       "exists instead of failing", env="GPUGRAPH_SOFT_PLACEMENT"),
    _S("session", "log_device_placement", "bool", False, "log the device each op runs on",
       env="GPUGRAPH_LOG_DEVICE_PLACEMENT"),
    _S("session", "device", "str", "auto", 'where sessions run: "gpu" (fail without one), "cpu" (NumPy), '
       '"auto" (GPU when CuPy sees one)', env=ENV_DEVICE, runtime=True, choices=("auto", "cpu", "gpu")),
    _S("model", "type", "str", None, "the model to train (required by gpugraph train)", choices=MODEL_TYPES),
    _S("model", "degree", "int", 3, "highest power of the inputs", minimum=1, maximum=32,
       models=("polynomial_regression",)),
    _S("model", "hidden_sizes", "int list", [64], "units of each hidden layer", minimum=1,
       models=("mlp_classifier",)),
    _S("model", "activation", "str", "relu", "hidden-layer activation", choices=("relu", "tanh", "sigmoid"),
       models=("mlp_classifier",)),
    _S("model", "l2", "float", 0.0, "weight of the L2 penalty on the weights (not biases)", minimum=0.0),
    _S("data", "path", "str", "", ".npz or .csv file, relative to the config file; empty: the built-in "
       "dataset"),
    _S("data", "dataset", "str", "", 'built-in data when path is empty: "digits" (default for classifiers) '
       'or "diabetes" (default for regressors), both shipped with scikit-learn', choices=("digits", "diabetes")),
    _S("data", "x_key", "str", "x", "name of the inputs array in a .npz file"),
    _S("data", "y_key", "str", "y", "name of the targets array in a .npz file"),
    _S("data", "label_column", "int", -1, "column of a .csv file holding the target (negative: from the end)"),
    _S("data", "skip_header", "int", 0, "lines to skip at the top of a .csv file", minimum=0),
    _S("data", "delimiter", "str", ",", "column separator of a .csv file"),
    _S("data", "test_fraction", "float", 0.2, "share of the examples held out for testing (fixed split)",
       minimum=0.0, maximum=0.9),
    _S("data", "split_seed", "int", 0, "seed of the train/test split", minimum=0),
    _S("data", "normalize", "str", "standard", "input scaling fitted on the training split",
       choices=("standard", "minmax", "none")),
    _S("train", "optimizer", "str", "sgd", "tf.train optimizer",
       choices=("sgd", "momentum", "adam", "rmsprop", "adagrad", "adadelta")),
    _S("train", "learning_rate", "float", 0.01, "initial learning rate", minimum=0.0, exclusive_minimum=True),
    _S("train", "momentum", "float", 0.9, "momentum of the momentum and rmsprop optimizers", minimum=0.0),
    _S("train", "decay_steps", "int", 0, "exponential learning-rate decay every this many steps; 0: no decay",
       minimum=0),
    _S("train", "decay_rate", "float", 0.96, "factor of the exponential decay", minimum=0.0, maximum=1.0,
       exclusive_minimum=True),
    _S("train", "staircase", "bool", False, "decay in whole steps of decay_steps"),
    _S("train", "batch_size", "int", 32, "examples per step", minimum=1),
    _S("train", "steps", "int", 0, "total training steps (a resumed run continues up to it); 0: use epochs",
       minimum=0),
    _S("train", "epochs", "int", 0, "passes over the training split when steps is 0 (10 when both are 0)",
       minimum=0),
    _S("train", "seed", "int", 0, "graph-level random seed (initial weights) and shuffling seed", minimum=0),
    _S("output", "logdir", "str", "", "TensorBoard directory (train/ and test/ runs), relative to the working "
       "directory; empty: none"),
    _S("output", "checkpoint_dir", "str", "", "checkpoint directory, relative to the working directory; a "
       "restart resumes from its latest checkpoint; empty: none"),
    _S("output", "checkpoint_every", "int", 500, "steps between checkpoints (and progress lines where no "
       "progress bar shows)", minimum=1),
    _S("output", "max_to_keep", "int", 5, "checkpoints kept (0: all)", minimum=0),
    _S("output", "log_every", "int", 100, "steps between TensorBoard summaries", minimum=1),
)
_BY_KEY: dict[tuple[str, str], Setting] = {(s.section, s.key): s for s in SETTINGS}


# --- where keys are in the file: tomllib gives values only, so scan the text for line numbers ---
_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]")
_KEY = re.compile(r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")


def _parts(dotted: str) -> list[str]:
    return [p.strip().strip("\"'") for p in re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", dotted)]


def _locate(text: str) -> dict[tuple[str, ...], int]:
    """Line number (1-based) of each section header ``(section,)`` and key ``(section, key)``."""
    lines: dict[tuple[str, ...], int] = {}
    section: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header and not line.lstrip().startswith("[["):
            section = _parts(header.group(1))
            lines.setdefault(tuple(section), number)
            continue
        key = _KEY.match(line)
        if key:
            lines.setdefault(tuple(section + _parts(key.group(1))), number)
    return lines


# --- value checks ---
def _type_name(value: Any) -> str:
    return {bool: "bool", int: "int", float: "float", str: "string", list: "array", dict: "table"}.get(
        type(value), type(value).__name__)


def _check(setting: Setting, value: Any, where: str) -> Any:
    """The checked value, or ConfigError naming the key and ``where`` it came from."""
    name = f"[{setting.section}] {setting.key}"

    def bad(expected: str) -> ConfigError:
        return ConfigError(f"{name} must be {expected}, got {value!r} ({_type_name(value)}) ({where})")

    kind = setting.kind
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise bad("a string" if not setting.choices else "one of " + ", ".join(map(repr, setting.choices)))
        if setting.choices and value not in setting.choices and not (value == "" and setting.default == ""):
            close = difflib.get_close_matches(value, setting.choices, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"{name} must be one of {', '.join(map(repr, setting.choices))}, got {value!r} "
                              f"({where}){hint}")
        return value
    if kind == "devices":
        if isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                                           for v in value):
            value = ",".join(str(v) for v in value)
        if not isinstance(value, str) or not re.fullmatch(r"\s*(\d+\s*(,\s*\d+\s*)*)?", value):
            raise bad('GPU ids like "0,1" or [0, 1]')
        ids = [v.strip() for v in value.split(",") if v.strip()]
        if len(set(map(int, ids))) != len(ids):
            raise ConfigError(f"{name} lists a GPU id twice: {value!r} ({where})")
        return ",".join(ids)
    if kind == "int list":
        if not isinstance(value, list) or not value or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise bad("a non-empty array of integers")
        for v in value:
            _range(setting, v, name, where)
        return list(value)
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad("an integer")
    elif kind == "float":
        if not isinstance(value, (int, float)) or isinstance(value, bool) or math.isnan(value):
            raise bad("a number")
        value = float(value)
    _range(setting, value, name, where)
    return value


def _range(setting: Setting, value: float, name: str, where: str) -> None:
    low, high = setting.minimum, setting.maximum
    too_low = low is not None and (value <= low if setting.exclusive_minimum else value < low)
    if too_low or (high is not None and value > high):
        left = "(" if setting.exclusive_minimum else "["
        if high is None:
            span = f"> {low}" if setting.exclusive_minimum else f">= {low}"
        else:
            span = f"in {left}{low}, {high}]"
        raise ConfigError(f"{name} must be {span}, got {value} ({where})")


_ENV_TRUE, _ENV_FALSE = ("1", "true"), ("0", "false")  # as gpugraph.runtime.memory reads them


def _from_env(setting: Setting, raw: str) -> Any:
    where = f"environment variable {setting.env}"
    text = raw.strip()
    if setting.kind == "bool":
        if text.lower() in _ENV_TRUE:
            return True
        if text.lower() in _ENV_FALSE:
            return False
        raise ConfigError(f"{setting.env} must be 1, 0, true or false, got {raw!r}")
    if setting.kind == "float":
        try:
            value: Any = float(text)
        except ValueError:
            raise ConfigError(f"{setting.env} must be a number, got {raw!r}") from None
        return _check(setting, value, where)
    return _check(setting, text, where)


# --- loading ---
class Settings:
    """Checked settings: one namespace per section (``settings.train.batch_size``), defaults filled in.

    ``origin[(section, key)]`` says where a value came from ("configs/x.toml line 3", "environment
    variable GPUGRAPH_DEVICE", "--cpu"); keys left at their default have no entry."""

    def __init__(self, path: str | None = None):
        self.path = path
        self.origin: dict[tuple[str, str], str] = {}
        for section in SECTIONS:
            setattr(self, section, SimpleNamespace(**{s.key: _copy(s.default) for s in SETTINGS
                                                      if s.section == section}))

    session: SimpleNamespace
    model: SimpleNamespace
    data: SimpleNamespace
    train: SimpleNamespace
    output: SimpleNamespace

    @property
    def directory(self) -> Path:
        """The config file's folder (data paths are relative to it); the working directory without a file."""
        return Path(self.path).resolve().parent if self.path else Path.cwd()

    def set(self, section: str, key: str, value: Any, origin: str) -> None:
        """Set a value from a command-line option (checked like a file value)."""
        setting = _BY_KEY[(section, key)]
        setattr(getattr(self, section), key, _check(setting, value, origin))
        self.origin[(section, key)] = origin

    def where(self, section: str, key: str) -> str:
        return self.origin.get((section, key), "default")

    def session_is_set(self) -> bool:
        return any(section == "session" for section, _ in self.origin)


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


def load_settings(path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None,
                  *, require_model: bool = False) -> Settings:
    """Read and check the TOML file at ``path`` (None: defaults only), then apply environment overrides."""
    environ = os.environ if environ is None else environ
    settings = Settings(os.fspath(path) if path is not None else None)
    if path is not None:
        _load_file(settings, os.fspath(path))
    for setting in SETTINGS:
        raw = environ.get(setting.env, "") if setting.env else ""
        if raw.strip():
            setattr(getattr(settings, setting.section), setting.key, _from_env(setting, raw))
            settings.origin[(setting.section, setting.key)] = f"environment variable {setting.env}"
    if require_model:
        _check_training(settings)
    return settings


def _load_file(settings: Settings, path: str) -> None:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")
        document = tomllib.loads(text)
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path} is not UTF-8 text: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML: {e}") from None
    lines = _locate(text)

    def at(*where: str) -> str:
        line = lines.get(tuple(where)) or lines.get(tuple(where[:1]))
        return f"{path} line {line}" if line else path

    for section, table in document.items():
        if section not in SECTIONS:
            close = difflib.get_close_matches(section, SECTIONS, n=1)
            hint = f"; did you mean [{close[0]}]?" if close else ""
            if not isinstance(table, dict):
                raise ConfigError(f"key {section!r} is outside any section ({at(section)}); put it under one of "
                                  + ", ".join(f"[{s}]" for s in SECTIONS) + hint.replace("; did you mean", "; maybe"))
            raise ConfigError(f"unknown section [{section}] ({at(section)}){hint}")
        if not isinstance(table, dict):
            raise ConfigError(f"{section!r} must be a section [{section}], got a {_type_name(table)} ({at(section)})")
        known = [s.key for s in SETTINGS if s.section == section]
        for key, value in table.items():
            setting = _BY_KEY.get((section, key))
            if setting is None:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(known)}"
                raise ConfigError(f"unknown key {key!r} in [{section}] ({at(section, key)}){hint}")
            where = at(section, key)
            setattr(getattr(settings, section), key, _check(setting, value, where))
            settings.origin[(section, key)] = where


def _check_training(settings: Settings) -> None:
    """What ``gpugraph train`` needs beyond each key's own check: a model type, keys that fit it."""
    model_type = settings.model.type
    name = settings.path or "the config"
    if model_type is None:
        raise ConfigError(f"{name} has no [model] type; set type = one of " + ", ".join(map(repr, MODEL_TYPES)))
    for (section, key), where in settings.origin.items():
        models = _BY_KEY[(section, key)].models
        if models is not None and model_type not in models:
            raise ConfigError(f"[{section}] {key} does not apply to type = {model_type!r} ({where}); it is for "
                              + ", ".join(map(repr, models)))
    if settings.train.steps and settings.train.epochs:
        raise ConfigError(f"[train] sets both steps ({settings.where('train', 'steps')}) and epochs "
                          f"({settings.where('train', 'epochs')}); set one")
    if settings.data.path and settings.data.dataset:
        raise ConfigError(f"[data] sets both path and dataset ({settings.where('data', 'dataset')}); set one")


def session_config(settings: Settings) -> Any:
    """The ``tf.ConfigProto`` for the [session] settings."""
    from gpugraph.config import ConfigProto, GPUOptions

    s = settings.session
    config = ConfigProto(
        gpu_options=GPUOptions(allow_growth=s.allow_growth, per_process_gpu_memory_fraction=s.memory_fraction,
                               visible_device_list=s.visible_devices),
        allow_soft_placement=s.allow_soft_placement, log_device_placement=s.log_device_placement)
    if s.device == "cpu":
        config.device_count["GPU"] = 0  # TF1's way of keeping a session off the GPUs
    return config


# --- documentation ---
def _default_text(setting: Setting) -> str:
    value = setting.default
    if value is None:
        return "(required)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def _type_text(setting: Setting) -> str:
    if setting.choices:
        return " \\| ".join(f'"{c}"' for c in setting.choices)
    return {"devices": "string or int array", "int list": "int array", "str": "string"}.get(setting.kind,
                                                                                           setting.kind)


def settings_table_markdown() -> str:
    """The settings as a Markdown table (one row per key), for the README."""
    rows = ["| setting | type | default | environment variable | meaning |", "|---|---|---|---|---|"]
    for s in SETTINGS:
        env = f"`{s.env}`" + ("" if s.runtime else " (gpugraph run/train)") if s.env else ""
        meaning = s.meaning + (f" (model types: {', '.join(s.models)})" if s.models else "")
        rows.append(f"| `[{s.section}] {s.key}` | {_type_text(s)} | `{_default_text(s)}` | {env} | {meaning} |")
    return "\n".join(rows) + "\n"
