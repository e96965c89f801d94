"""Writes the small data files the example training configs use (run: python configs/data/make_data.py).

linear.npz: 200 examples, 3 inputs, y = x @ [2, -1, 0.5] + 3 + noise(0.1); arrays "x" and "y".
polynomial.csv: 200 rows "x,y" under a header, y = 1 + 2x - 3x^2 + 0.5x^3 + noise(0.05), x in [-2, 2].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main() -> None:
    rng = np.random.default_rng(20240601)
    x = rng.uniform(-1.0, 1.0, size=(200, 3))
    y = x @ np.array([2.0, -1.0, 0.5]) + 3.0 + rng.normal(0.0, 0.1, size=200)
    np.savez(HERE / "linear.npz", x=x.astype(np.float32), y=y.astype(np.float32))

    t = np.sort(rng.uniform(-2.0, 2.0, size=200))
    p = 1.0 + 2.0 * t - 3.0 * t**2 + 0.5 * t**3 + rng.normal(0.0, 0.05, size=200)
    np.savetxt(HERE / "polynomial.csv", np.column_stack([t, p]), fmt="%.6f", delimiter=",", header="x,y",
               comments="")


if __name__ == "__main__":
    main()
