"""Noise objects: values, ranges, serialization, freshness per batch, training-only."""

from __future__ import annotations

import numpy as np
import pytest

import stackae
from stackae.layers import Corruption
from stackae.noise import GaussianNoise, MaskingNoise, SaltAndPepperNoise, parse_noise


def test_gaussian_statistics_and_clipping():
    x = np.full((200, 100), 0.5, dtype="float32")
    noisy = GaussianNoise(stddev=0.1).apply(x, seed=0)
    assert abs(float((noisy - x).std()) - 0.1) < 0.005
    edge = GaussianNoise(stddev=0.5).apply(np.zeros((50, 50), dtype="float32"), seed=0)
    assert edge.min() == 0.0 and edge.max() <= 1.0
    unclipped = GaussianNoise(stddev=0.5, clip=None).apply(
        np.zeros((50, 50), dtype="float32"), seed=0
    )
    assert unclipped.min() < 0


def test_masking_zeroes_the_requested_fraction():
    noisy = MaskingNoise(rate=0.3).apply(np.ones((100, 100), dtype="float32"), seed=1)
    assert abs(float((noisy == 0).mean()) - 0.3) < 0.02
    assert set(np.unique(noisy)) <= {0.0, 1.0}


def test_salt_and_pepper_sets_low_and_high_in_equal_parts():
    x = np.full((200, 100), 0.5, dtype="float32")
    noisy = SaltAndPepperNoise(rate=0.2).apply(x, seed=2)
    assert abs(float((noisy == 1.0).mean()) - 0.1) < 0.01
    assert abs(float((noisy == 0.0).mean()) - 0.1) < 0.01
    assert abs(float((noisy == 0.5).mean()) - 0.8) < 0.02


def test_same_seed_same_noise():
    x = np.full((10, 10), 0.5, dtype="float32")
    noise = GaussianNoise(stddev=0.2)
    np.testing.assert_array_equal(noise.apply(x, seed=3), noise.apply(x, seed=3))
    assert not np.array_equal(noise.apply(x, seed=3), noise.apply(x, seed=4))


@pytest.mark.parametrize(
    "value, expected",
    [
        ("gaussian:0.2", GaussianNoise(stddev=0.2)),
        ("masking", MaskingNoise()),
        ({"kind": "salt_and_pepper", "rate": 0.05}, SaltAndPepperNoise(rate=0.05)),
        ({"kind": "gaussian", "stddev": 0.1, "clip": None}, GaussianNoise(stddev=0.1, clip=None)),
        (None, None),
    ],
)
def test_parse_noise_and_round_trip(value, expected):
    noise = parse_noise(value)
    assert noise == expected
    if noise is not None:
        assert parse_noise(noise.model_dump(mode="json")) == noise


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("blur", r"allowed: gaussian, masking, salt_and_pepper.*Received: kind='blur'"),
        ("gaussian:lots", r"must be a number"),
        ({"kind": "gaussian", "stddev": -1}, r"Received: stddev=-1"),
        ({"kind": "masking", "rate": 1.5}, r"Received: rate=1\.5"),
        ({"kind": "gaussian", "clip": [1, 0]}, r"low < high"),
        ({"kind": "salt_and_pepper", "low": 1, "high": 0}, r"`low` must be below `high`"),
    ],
)
def test_noise_errors(value, fragment):
    with pytest.raises(stackae.SpecError, match=fragment):
        parse_noise(value)


def test_corruption_layer_is_identity_at_inference_and_fresh_each_call():
    layer = Corruption("gaussian:0.1", seed=0)
    x = np.full((4, 8), 0.5, dtype="float32")
    np.testing.assert_array_equal(np.asarray(layer(x)), x)
    first, second = np.asarray(layer(x, training=True)), np.asarray(layer(x, training=True))
    assert not np.array_equal(first, x) and not np.array_equal(first, second)
    config = layer.get_config()
    assert Corruption.from_config(config).noise == layer.noise
