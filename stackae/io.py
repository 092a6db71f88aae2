"""Files: save and load a stack (spec + Keras-native weights), and atomic writes.

Every file stackae writes goes to a temporary name in the same folder first and is then renamed
into place (``os.replace`` is atomic on POSIX), so a crash never leaves a half-written file where
a good one was. Importing this module does not import Keras.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stackae.errors import ModelFileError, SpecError

if TYPE_CHECKING:
    from stackae.builder import StackedAutoencoder

__all__ = ["atomic_path", "atomic_write_text", "save", "load", "SPEC_FILE", "WEIGHTS_FILE"]

SPEC_FILE = "spec.yaml"
WEIGHTS_FILE = "autoencoder.weights.h5"
MANIFEST_FILE = "stackae.json"


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` in one rename.

    The temporary name keeps the file's suffixes (``.weights.h5``, ``.keras``, ``.png``) because
    writers such as Keras and matplotlib choose the format from them.

    Example:
        >>> import tempfile, pathlib
        >>> from stackae.io import atomic_path
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
        >>> with atomic_path(target) as partial:
        ...     _ = partial.write_text("done")
        >>> target.read_text()
        'done'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffixes = "".join(path.suffixes)
    stem = path.name[: len(path.name) - len(suffixes)] if suffixes else path.name
    partial = path.with_name(f".{stem}.{os.getpid()}.partial{suffixes}")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        if partial.exists():
            partial.unlink()


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically and return the path."""
    with atomic_path(path) as partial, open(partial, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    return Path(path)


def save(stack: StackedAutoencoder, path: str | Path) -> Path:
    """Save a stack to a directory: ``spec.yaml``, ``autoencoder.weights.h5``, ``stackae.json``.

    The weights are Keras' native ``.weights.h5``; the three models are rebuilt from the spec on
    :func:`load`, so they share their layers again. Each file is written atomically.

    Example:
        >>> import tempfile, numpy as np, stackae
        >>> stack = stackae.build("6-3:tanh", seed=0)
        >>> folder = stack.save(tempfile.mkdtemp())
        >>> again = stackae.load(folder)
        >>> x = np.ones((2, 6), dtype="float32")
        >>> bool(np.array_equal(again.reconstruct(x), stack.reconstruct(x)))
        True
    """
    import keras

    from stackae import __version__

    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / WEIGHTS_FILE) as partial:
        stack.autoencoder.save_weights(partial)
    stack.spec.to_yaml(folder / SPEC_FILE)
    manifest = {
        "format": "stackae/1",
        "stackae_version": __version__,
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        "params": stack.count_params(),
    }
    atomic_write_text(folder / MANIFEST_FILE, json.dumps(manifest, indent=2))
    return folder


def load(path: str | Path) -> StackedAutoencoder:
    """Load a stack saved with :func:`save` (or by ``stackae train``).

    Raises:
        ModelFileError: If the directory, its spec or its weights are missing or unreadable.
        SpecError: If the saved spec is not valid.
    """
    from stackae.builder import build
    from stackae.spec import StackSpec

    folder = Path(path)
    if not folder.is_dir():
        raise ModelFileError(
            f"No saved stack at this path (expected a directory). Received: path='{folder}'"
        )
    for name in (SPEC_FILE, WEIGHTS_FILE):
        if not (folder / name).is_file():
            raise ModelFileError(
                f"The saved stack is incomplete: `{name}` is missing. Save it again with "
                f"`stack.save(path)`. Received: path='{folder}'"
            )
    try:
        spec = StackSpec.from_yaml(folder / SPEC_FILE)
    except SpecError as error:
        raise SpecError(f"The saved spec in '{folder / SPEC_FILE}' is invalid. {error}") from None
    stack = build(spec)
    try:
        stack.autoencoder.load_weights(folder / WEIGHTS_FILE)
    except Exception as error:  # h5py/Keras raise many types for a damaged file
        raise ModelFileError(
            f"Cannot read the weights in '{folder / WEIGHTS_FILE}': the file is truncated, "
            f"corrupted or from another spec ({type(error).__name__}: {str(error)[:200]}). "
            f"Received: path='{folder}'"
        ) from None
    return stack


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The ``stackae.json`` manifest of a saved stack ({} when absent)."""
    manifest = Path(path) / MANIFEST_FILE
    return json.loads(manifest.read_text()) if manifest.exists() else {}
