"""Shared test setup: quiet TensorFlow, fixed seeds, small data."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def unit_data(rng: np.random.Generator) -> np.ndarray:
    """256 samples of 16 values in [0, 1] with low-rank structure, so they can be compressed."""
    basis = rng.random((4, 16))
    weights = rng.random((256, 4))
    return (weights @ basis / 4.0).clip(0, 1).astype("float32")
