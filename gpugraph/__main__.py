"""``python -m gpugraph ...``: the ``gpugraph`` command (how mpiexec starts each rank)."""

from __future__ import annotations

import sys

from gpugraph.cli import main

if __name__ == "__main__":
    sys.exit(main())
