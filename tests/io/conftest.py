"""Each test here builds into its own default graph (the fixture and run helper of tests/ops)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ops"))

from op_testing import graph, run  # noqa: E402,F401 - graph is an autouse fixture
