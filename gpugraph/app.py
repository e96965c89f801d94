"""tf.app: run(main) with flags parsed from sys.argv."""

from __future__ import annotations

import sys
from typing import Any, Callable

from gpugraph import flags

__all__ = ["flags", "run"]


def run(main: Callable[[list[str]], Any] | None = None, argv: list[str] | None = None) -> None:
    """Parses the flags in ``argv`` (default ``sys.argv``), then ``sys.exit(main(rest))``.

    As TF1's ``tf.app.run``: flags nobody defined are left in ``rest`` for ``main`` (program name
    first); a bad value for a defined flag prints the error and exits with status 1; ``--help``
    prints each flag's help and exits with status 1, as absl does.
    """
    main = main or sys.modules["__main__"].main
    args = sys.argv if argv is None else argv
    try:
        rest = flags.FLAGS(args, known_only=True)
    except flags.Error as e:
        print(f"FATAL Flags parsing error: {e}", file=sys.stderr)
        print("Pass --helpshort or --helpfull to see help on flags.", file=sys.stderr)
        sys.exit(1)
    sys.exit(main(rest))
