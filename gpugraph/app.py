"""tf.app: run(main) with flags parsed from sys.argv."""

from __future__ import annotations
