"""Packaging that pyproject.toml cannot say: the top-level kernels/ folder ships as gpugraph/kernels/cuda."""

from __future__ import annotations

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["gpugraph*"]), "gpugraph.kernels.cuda"],
    package_dir={"gpugraph.kernels.cuda": "kernels"},
    package_data={"gpugraph.kernels.cuda": ["*.cu"]},
)
