#!/usr/bin/env bash
# Verify a machine with an NVIDIA GPU and CuPy: the gpu-marked tests, bench/gpu.py, a training run of
# configs/mlp-digits.toml, every example on the GPU against the host, and a memory scenario.
#
#   tools/gpu_check.sh [OUTDIR]     (default: ${TMPDIR:-/tmp}/gpugraph-gpu-check)
#
# Writes OUTDIR/gpu_check.md and OUTDIR/gpu_check.json; exits 0 only if every part passes, and at once
# with a non-zero code where no CUDA device is found. The parts list comes from tools/gpu_check.py.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
outdir="${1:-${TMPDIR:-/tmp}/gpugraph-gpu-check}"
python="${PYTHON:-python3}"
if [[ -z "${PYTHON:-}" && -x "$root/.venv/bin/python" && -z "${VIRTUAL_ENV:-}" ]]; then
    python="$root/.venv/bin/python"
fi

cd "$root"
# A tiny probe first (CuPy importable, at least one device), so a machine without a GPU fails in seconds.
if ! device="$(timeout 60 "$python" tools/gpu_check.py probe)"; then
    echo "gpu_check.sh: no CUDA device found; nothing checked" >&2
    exit 2
fi
echo "GPU: $device"
echo "parts: $("$python" tools/gpu_check.py parts | tr '\n' ' ')"
# The parts time out one by one (tools/gpu_check.py); this bound only guards against a hang outside them.
exec timeout 470 "$python" tools/gpu_check.py run "$outdir"
