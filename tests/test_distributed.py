"""Data-parallel training on 2 virtual CPU devices, compared with one device (same backend)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import stackae
from stackae import cli
from stackae.errors import SpecError

# Devices must be configured before the backend starts, so this runs in a fresh process.
SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    if os.environ["KERAS_BACKEND"] == "tensorflow":
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import numpy as np
    import stackae
    from stackae.distribute import replica_count, resolve_distribution

    x = np.random.default_rng(0).random((1024, 20), dtype="float32")
    result = {"replicas": replica_count(resolve_distribution("data_parallel"))}
    for noise in (None, "gaussian:0.05"):
        runs = {}
        for mode in ("none", "data_parallel"):
            stack = stackae.build("20-12:relu-6:tanh|sigmoid", seed=0)
            history = stack.fit(x, epochs=3, batch_size=128, optimizer="sgd", learning_rate=0.5,
                                noise=noise, seed=1, verbose=0, distribute=mode,
                                shuffle=False)
            runs[mode] = (stack.autoencoder.get_weights(), history.history["loss"],
                          stack.reconstruct(x[:64]))
        single, multi = runs["none"], runs["data_parallel"]
        result[str(noise)] = {
            "weight_diff": max(float(np.abs(a - b).max()) for a, b in zip(single[0], multi[0])),
            "output_diff": float(np.abs(single[2] - multi[2]).max()),
            "loss_single": single[1], "loss_multi": multi[1],
        }
    if os.environ["KERAS_BACKEND"] == "tensorflow":
        # Each replica must draw its own noise for its share of the batch.
        from stackae.layers import Corruption
        strategy = resolve_distribution("data_parallel")
        with strategy.scope():
            layer = Corruption("gaussian:1.0", seed=3)
        step = tf.function(lambda b: strategy.run(lambda t: layer(t, training=True), args=(b,)))
        data = tf.data.Dataset.from_tensors(tf.fill((8, 16), 0.5))
        for batch in strategy.experimental_distribute_dataset(data):
            a, b = (t.numpy() for t in strategy.experimental_local_results(step(batch)))
        result["replica_noise_equal"] = bool(np.array_equal(a, b))
    print("RESULT " + json.dumps(result))
    """
)


@pytest.fixture(scope="module")
def two_device_run():
    backend = keras.backend.backend()
    if backend not in ("jax", "tensorflow"):
        pytest.skip(f"Keras has no data-parallel API for {backend}")
    env = {
        **os.environ,
        "KERAS_BACKEND": backend,
        "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT ") :])


def test_data_parallel_uses_both_devices(two_device_run):
    assert two_device_run["replicas"] == 2


def test_data_parallel_matches_single_device_training(two_device_run):
    clean = two_device_run["None"]
    # Same initial weights, same batches, the global batch split in two: the averaged
    # gradient equals the single-device one up to float rounding.
    assert clean["weight_diff"] < 1e-5
    assert clean["output_diff"] < 1e-5
    np.testing.assert_allclose(clean["loss_multi"], clean["loss_single"], rtol=1e-5)
    assert clean["loss_multi"][-1] < clean["loss_multi"][0]


def test_data_parallel_with_noise_stays_close(two_device_run):
    noisy = two_device_run["gaussian:0.05"]
    if keras.backend.backend() == "jax":
        # JAX draws the noise once for the global batch, then shards it: identical training.
        assert noisy["weight_diff"] < 1e-5
    else:
        # tf.distribute replicas draw their own noise: a different draw, the same training.
        assert 0 < noisy["weight_diff"] < 1e-2
        assert two_device_run["replica_noise_equal"] is False
    np.testing.assert_allclose(noisy["loss_multi"], noisy["loss_single"], rtol=1e-3)


def test_unknown_distribute_is_refused_before_training(rng):
    stack = stackae.build("8-4:relu|sigmoid", seed=0)
    before = stack.autoencoder.get_weights()
    with pytest.raises(SpecError, match="allowed: none, data_parallel.*model_parallel"):
        stack.fit(rng.random((64, 8), dtype="float32"), epochs=1, distribute="model_parallel")
    for old, new in zip(before, stack.autoencoder.get_weights()):
        np.testing.assert_array_equal(old, new)


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="torch backend only")
def test_data_parallel_on_torch_says_it_is_not_available(rng):
    stack = stackae.build("8-4:relu|sigmoid", seed=0)
    with pytest.raises(SpecError, match="needs the JAX or TensorFlow backend.*'torch'"):
        stack.fit(rng.random((64, 8), dtype="float32"), distribute="data_parallel")


@pytest.mark.skipif(keras.backend.backend() == "torch", reason="no distribution API on torch")
def test_training_config_and_cli_accept_distribute(tmp_path, rng):
    with pytest.raises(SpecError, match="distribute"):
        stackae.TrainingConfig(distribute="everywhere")
    data = tmp_path / "x.npy"
    np.save(data, rng.random((256, 12), dtype="float32"))
    out = tmp_path / "run"
    argv = ["train", "12-6:relu|sigmoid", "--data", str(data), "--out", str(out)]
    argv += ["--epochs", "3", "--distribute", "data_parallel", "--verbose", "0", "--seed", "0"]
    assert cli.main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["training"]["distribute"] == "data_parallel"
    loaded = stackae.load(out)
    assert loaded.encode(np.zeros((2, 12), dtype="float32")).shape == (2, 6)


@pytest.mark.skipif(keras.backend.backend() == "torch", reason="no distribution API on torch")
def test_pretraining_then_distributed_fine_tuning_keeps_the_pretrained_weights(rng):
    x = rng.random((256, 12), dtype="float32")
    stack = stackae.build("12-6:relu-3:tanh|sigmoid", seed=0)
    result = stack.pretrain(x, epochs=1, fine_tune_epochs=0, optimizer="sgd", verbose=0, seed=0)
    pretrained = [w.copy() for w in stack.autoencoder.get_weights()]
    history = stack.fit(
        x, epochs=1, optimizer="sgd", learning_rate=1e-9, verbose=0, distribute="data_parallel"
    )
    # Rebuilt inside the strategy's scope, the models start from the pretrained weights (a
    # vanishing learning rate leaves them in place) and still encode.
    for old, new in zip(pretrained, stack.autoencoder.get_weights()):
        np.testing.assert_allclose(new, old, atol=1e-6)
    assert len(result["layers"]) == 2 and np.isfinite(history.history["loss"][0])
    assert stack.encode(x[:3]).shape == (3, 3)
