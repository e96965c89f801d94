"""A Session that falls back to NumPy says so once, as a warning a plain script shows."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from gpugraph.runtime import backend, device_setup


def test_fallback_to_numpy_is_a_warning_once(monkeypatch, caplog):
    monkeypatch.setattr(backend, "_fallback_logged", False)
    monkeypatch.delenv("GPUGRAPH_DEVICE", raising=False)
    previous = device_setup.set_device_provider(lambda config, memory: "no CUDA device: no NVIDIA driver found")
    try:
        with caplog.at_level(logging.INFO, logger="gpugraph"):
            for _ in range(2):
                assert not device_setup.session_devices(None).has_gpu
    finally:
        device_setup.set_device_provider(previous)
    records = [r for r in caplog.records if r.name == "gpugraph"]
    assert len(records) == 1 and records[0].levelno == logging.WARNING
    assert "running on NumPy" in records[0].getMessage() and "no NVIDIA driver found" in records[0].getMessage()


def test_plain_script_shows_the_fallback_on_stderr(tmp_path):
    # no logging set up, as in a user's script: Python's last-resort handler prints warnings
    script = tmp_path / "plain.py"
    script.write_text("from gpugraph.runtime import device_setup\n"
                      "device_setup.set_device_provider(lambda config, memory: 'cupy is not installed')\n"
                      "device_setup.session_devices(None)\n"
                      "device_setup.session_devices(None)\n")
    env = {k: v for k, v in os.environ.items() if k != "GPUGRAPH_DEVICE"}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("GPU backend off (cupy is not installed); running on NumPy") == 1
