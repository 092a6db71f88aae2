"""Pictures of a trained stack: reconstructions, loss curves, a 2-D map of the codes (matplotlib).

Every picture is written atomically; matplotlib runs on its file-only ``Agg`` backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from stackae.io import atomic_path

__all__ = ["plot_reconstructions", "plot_loss", "plot_codes"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _as_image(row: np.ndarray) -> np.ndarray:
    """One sample as a 2-D picture: images keep their shape, square vectors become squares."""
    row = np.asarray(row)
    if row.ndim == 3:
        return row[..., 0] if row.shape[-1] == 1 else row
    if row.ndim == 2:
        return row
    side = int(round(np.sqrt(row.size)))
    return row.reshape(side, side) if side * side == row.size else row.reshape(1, -1)


def plot_reconstructions(
    path: str | Path,
    clean: np.ndarray,
    noisy: np.ndarray,
    reconstructed: np.ndarray,
    count: int = 10,
) -> Path:
    """Three rows of ``count`` samples: clean, noisy, reconstructed from the noisy ones."""
    plt = _pyplot()
    count = min(count, len(clean))
    figure, axes = plt.subplots(3, count, figsize=(1.2 * count, 4.0), squeeze=False)
    for row, (title, data) in enumerate(
        (("clean", clean), ("noisy", noisy), ("reconstructed", reconstructed))
    ):
        for column in range(count):
            axis = axes[row][column]
            axis.imshow(_as_image(data[column]), cmap="gray", vmin=0.0, vmax=1.0)
            axis.set_xticks([])
            axis.set_yticks([])
        axes[row][0].set_ylabel(title)
    figure.tight_layout()
    with atomic_path(path) as partial:
        figure.savefig(partial, dpi=80)
    plt.close(figure)
    return Path(path)


def plot_loss(path: str | Path, history: dict[str, list[float]]) -> Path:
    """Training (and validation) loss per epoch."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(5, 3.5))
    for key in ("loss", "val_loss"):
        if history.get(key):
            epochs = range(1, len(history[key]) + 1)
            axis.plot(epochs, history[key], marker="o", label=key.replace("_", " "))
    axis.set_xlabel("epoch")
    axis.set_ylabel("loss")
    axis.set_yscale("log")
    axis.legend()
    figure.tight_layout()
    with atomic_path(path) as partial:
        figure.savefig(partial, dpi=80)
    plt.close(figure)
    return Path(path)


def plot_codes(path: str | Path, codes: np.ndarray, labels: np.ndarray, limit: int = 5000) -> Path:
    """The codes projected to 2-D (their first two principal components), coloured by label."""
    from sklearn.decomposition import PCA

    plt = _pyplot()
    flat = codes.reshape(len(codes), -1)[:limit]
    points = PCA(n_components=2).fit_transform(flat) if flat.shape[1] > 2 else flat
    figure, axis = plt.subplots(figsize=(5, 5))
    scatter = axis.scatter(
        points[:, 0], points[:, 1], c=np.asarray(labels)[:limit], s=3, cmap="tab10"
    )
    figure.colorbar(scatter, ax=axis)
    axis.set_title("codes, first two principal components")
    figure.tight_layout()
    with atomic_path(path) as partial:
        figure.savefig(partial, dpi=80)
    plt.close(figure)
    return Path(path)
