"""TOML configs: every key checked against the one settings table, line numbers in errors, env overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from gpugraph.config import ConfigProto
from gpugraph.config_files import (
    SECTIONS, SETTINGS, ConfigError, load_settings, session_config, settings_table_markdown,
)

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def write(tmp_path: Path, text: str, name: str = "x.toml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def error_of(path: str, environ: dict | None = None, **kw) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ or {}, **kw)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_defaults_without_a_file():
    s = load_settings(None, {})
    assert s.session.device == "auto" and s.session.allow_growth is False and s.session.memory_fraction == 0.0
    assert s.train.optimizer == "sgd" and s.train.batch_size == 32 and s.model.hidden_sizes == [64]
    assert s.origin == {} and not s.session_is_set()


def test_values_are_read_and_their_lines_remembered(tmp_path):
    path = write(tmp_path, '# comment\n[session]\nallow_growth = true\nmemory_fraction = 0.5\n\n'
                           '[model]\ntype = "mlp_classifier"\nhidden_sizes = [32, 16]\n')
    s = load_settings(path, {})
    assert s.session.allow_growth is True and s.session.memory_fraction == 0.5
    assert s.model.hidden_sizes == [32, 16]
    assert s.origin[("session", "memory_fraction")] == f"{path} line 4"
    assert s.origin[("model", "hidden_sizes")] == f"{path} line 8"
    assert s.session_is_set()


def test_unknown_key_names_file_line_and_suggestion(tmp_path):
    path = write(tmp_path, "[session]\nallow_soft_placement = true\nalow_growth = true\n")
    assert error_of(path) == (f"unknown key 'alow_growth' in [session] ({path} line 3); "
                              f"did you mean 'allow_growth'?")


def test_unknown_key_without_a_close_match_lists_the_known_ones(tmp_path):
    path = write(tmp_path, "[output]\nzzz = 1\n")
    message = error_of(path)
    assert message.startswith(f"unknown key 'zzz' in [output] ({path} line 2); known keys: logdir, checkpoint_dir")


def test_dotted_and_quoted_keys_are_located(tmp_path):
    path = write(tmp_path, '[train]\nseed = 1\n\n[session]\n"alow_growth" = true\n')
    assert f"({path} line 5)" in error_of(path)
    path = write(tmp_path, 'session.alow_growth = true\n', "dotted.toml")
    assert error_of(path) == f"unknown key 'alow_growth' in [session] ({path} line 1); did you mean 'allow_growth'?"


def test_unknown_section(tmp_path):
    path = write(tmp_path, "[sesion]\nallow_growth = true\n")
    assert error_of(path) == f"unknown section [sesion] ({path} line 1); did you mean [session]?"


def test_key_outside_any_section(tmp_path):
    path = write(tmp_path, "allow_growth = true\n")
    assert error_of(path).startswith(f"key 'allow_growth' is outside any section ({path} line 1); put it under")


@pytest.mark.parametrize("line, expected", [
    ("allow_growth = 1", "[session] allow_growth must be true or false, got 1 (int) ({path} line 2)"),
    ('allow_growth = "yes"', "[session] allow_growth must be true or false, got 'yes' (string) ({path} line 2)"),
    ("memory_fraction = 1.5", "[session] memory_fraction must be in [0.0, 1.0], got 1.5 ({path} line 2)"),
    ("memory_fraction = -0.25", "[session] memory_fraction must be in [0.0, 1.0], got -0.25 ({path} line 2)"),
    ('memory_fraction = "half"', "[session] memory_fraction must be a number, got 'half' (string) ({path} line 2)"),
    ('device = "gpus"', "[session] device must be one of 'auto', 'cpu', 'gpu', got 'gpus' ({path} line 2); "
                        "did you mean 'gpu'?"),
    ('visible_devices = "0,a"', "[session] visible_devices must be GPU ids like \"0,1\" or [0, 1], got '0,a' "
                                "(string) ({path} line 2)"),
    ('visible_devices = "1,1"', "[session] visible_devices lists a GPU id twice: '1,1' ({path} line 2)"),
])
def test_wrong_types_and_values(tmp_path, line, expected):
    path = write(tmp_path, f"[session]\n{line}\n")
    assert error_of(path) == expected.format(path=path)


@pytest.mark.parametrize("text, fragment", [
    ("[train]\nbatch_size = 0\n", "[train] batch_size must be >= 1, got 0"),
    ("[train]\nbatch_size = 1.5\n", "[train] batch_size must be an integer, got 1.5 (float)"),
    ("[train]\nlearning_rate = 0\n", "[train] learning_rate must be > 0.0, got 0.0"),
    ('[train]\noptimizer = "adamw"\n', "did you mean 'adam'?"),
    ("[model]\nhidden_sizes = []\n", "[model] hidden_sizes must be a non-empty array of integers"),
    ("[model]\nhidden_sizes = [8, 0]\n", "[model] hidden_sizes must be >= 1, got 0"),
    ("[session]\nallow_growth = true\nallow_growth = false\n", "invalid TOML"),
    ("[model]\ntype = 3\n", "[model] type must be one of 'linear_regression'"),
])
def test_checks(tmp_path, text, fragment):
    path = write(tmp_path, text)
    assert fragment in error_of(path)


def test_visible_devices_as_a_list(tmp_path):
    s = load_settings(write(tmp_path, "[session]\nvisible_devices = [1, 0]\n"), {})
    assert s.session.visible_devices == "1,0"
    assert session_config(s).gpu_options.visible_device_list == "1,0"


def test_missing_and_unreadable_files(tmp_path):
    assert error_of(str(tmp_path / "nope.toml")) == f"config file not found: {tmp_path / 'nope.toml'}"
    bad = tmp_path / "bin.toml"
    bad.write_bytes(b"\xff\xfe[")
    assert error_of(str(bad)).startswith(f"{bad} is not UTF-8 text")


def test_environment_overrides_the_file(tmp_path):
    path = write(tmp_path, '[session]\nallow_growth = false\nmemory_fraction = 0.5\ndevice = "gpu"\n')
    env = {"GPUGRAPH_ALLOW_GROWTH": "TRUE", "GPUGRAPH_MEMORY_FRACTION": "0.25", "GPUGRAPH_DEVICE": "cpu",
           "GPUGRAPH_SOFT_PLACEMENT": "1", "GPUGRAPH_LOG_DEVICE_PLACEMENT": "0", "GPUGRAPH_VISIBLE_DEVICES": " "}
    s = load_settings(path, env)
    assert (s.session.allow_growth, s.session.memory_fraction, s.session.device) == (True, 0.25, "cpu")
    assert s.session.allow_soft_placement is True and s.session.log_device_placement is False
    assert s.session.visible_devices == ""  # blank variables are ignored
    assert s.where("session", "device") == "environment variable GPUGRAPH_DEVICE"


@pytest.mark.parametrize("name, value, message", [
    ("GPUGRAPH_ALLOW_GROWTH", "maybe", "GPUGRAPH_ALLOW_GROWTH must be 1, 0, true or false, got 'maybe'"),
    ("GPUGRAPH_MEMORY_FRACTION", "x", "GPUGRAPH_MEMORY_FRACTION must be a number, got 'x'"),
    ("GPUGRAPH_MEMORY_FRACTION", "2", "[session] memory_fraction must be in [0.0, 1.0], got 2.0 "
                                      "(environment variable GPUGRAPH_MEMORY_FRACTION)"),
    ("GPUGRAPH_DEVICE", "tpu", "[session] device must be one of 'auto', 'cpu', 'gpu', got 'tpu' "
                               "(environment variable GPUGRAPH_DEVICE); did you mean 'gpu'?"),
])
def test_bad_environment_values(name, value, message):
    assert error_of(None, {name: value}) == message


def test_session_config_maps_onto_config_proto(tmp_path):
    s = load_settings(write(tmp_path, '[session]\nallow_growth = true\nmemory_fraction = 0.5\n'
                                      'allow_soft_placement = true\nlog_device_placement = true\ndevice = "cpu"\n'), {})
    config = session_config(s)
    assert isinstance(config, ConfigProto)
    assert config.gpu_options.allow_growth is True and config.gpu_options.per_process_gpu_memory_fraction == 0.5
    assert config.allow_soft_placement and config.log_device_placement
    assert dict(config.device_count) == {"GPU": 0}
    assert dict(session_config(load_settings(None, {})).device_count) == {}
    assert session_config(load_settings(None, {})) == ConfigProto()  # unset keys keep TF1's defaults


def test_training_needs_a_model_type(tmp_path):
    path = write(tmp_path, "[train]\nsteps = 5\n")
    assert error_of(path, require_model=True) == (
        f"{path} has no [model] type; set type = one of 'linear_regression', 'logistic_regression', "
        f"'polynomial_regression', 'mlp_classifier'")
    load_settings(path, {})  # fine for `gpugraph run`


def test_model_keys_must_fit_the_model_type(tmp_path):
    path = write(tmp_path, '[model]\ntype = "linear_regression"\ndegree = 2\n')
    assert error_of(path, require_model=True) == (
        f"[model] degree does not apply to type = 'linear_regression' ({path} line 3); it is for "
        f"'polynomial_regression'")


def test_steps_and_epochs_exclude_each_other(tmp_path):
    path = write(tmp_path, '[model]\ntype = "linear_regression"\n[train]\nsteps = 5\nepochs = 2\n')
    assert error_of(path, require_model=True) == (
        f"[train] sets both steps ({path} line 4) and epochs ({path} line 5); set one")


def test_settings_table_has_every_setting_once():
    table = settings_table_markdown()
    rows = table.splitlines()[2:]
    assert len(rows) == len(SETTINGS) == len({(s.section, s.key) for s in SETTINGS})
    assert {s.section for s in SETTINGS} == set(SECTIONS)
    for s, row in zip(SETTINGS, rows):
        assert row.startswith(f"| `[{s.section}] {s.key}` |")
        assert (f"`{s.env}`" in row) == bool(s.env)
    assert "| `[session] memory_fraction` | float | `0.0` | `GPUGRAPH_MEMORY_FRACTION` |" in table


def test_every_default_passes_its_own_check():
    from gpugraph.config_files import _check

    for s in SETTINGS:
        if s.default is not None and not (s.key == "memory_fraction"):  # 0 means "unset" there
            assert _check(s, s.default, "default") == s.default


@pytest.mark.parametrize("name", sorted(p.name for p in CONFIGS.glob("*.toml")))
def test_shipped_configs_load(name):
    s = load_settings(CONFIGS / name, {}, require_model=name not in ("default.toml", "gpu-shared.toml", "cpu.toml"))
    session_config(s).validate()


def test_shipped_session_configs():
    assert load_settings(CONFIGS / "default.toml", {}).session.allow_growth is True
    assert load_settings(CONFIGS / "default.toml", {}).session.allow_soft_placement is True
    assert load_settings(CONFIGS / "gpu-shared.toml", {}).session.memory_fraction == 0.5
    assert load_settings(CONFIGS / "cpu.toml", {}).session.device == "cpu"


def test_memory_fraction_zero_means_no_cap_as_the_settings_table_says(tmp_path):
    path = write(tmp_path, "[session]\nmemory_fraction = 0\n")
    s = load_settings(path, environ={})
    assert s.session.memory_fraction == 0.0
    assert session_config(s).gpu_options.per_process_gpu_memory_fraction == 0.0  # TF1's "not set"
    from_env = load_settings(None, environ={"GPUGRAPH_MEMORY_FRACTION": "0"})
    assert from_env.session.memory_fraction == 0.0
