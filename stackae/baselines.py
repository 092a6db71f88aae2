"""Baselines an autoencoder must beat to earn its keep: PCA and a linear probe (scikit-learn)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["pca_baseline", "probe_accuracy", "reconstruction_errors"]


def reconstruction_errors(
    clean: np.ndarray, reconstruction: np.ndarray, suffix: str, chunk_rows: int = 8192
) -> dict[str, float]:
    """``mse_{suffix}`` (mean of all values) and ``sse_{suffix}`` (summed per sample, averaged).

    Computed in float64, ``chunk_rows`` rows at a time, so a memory-mapped ``clean`` is never
    loaded whole.

    Example:
        >>> import numpy as np
        >>> from stackae.baselines import reconstruction_errors
        >>> reconstruction_errors(np.zeros((2, 4)), np.ones((2, 4)), "clean")
        {'mse_clean': 1.0, 'sse_clean': 4.0}
    """
    total, values, rows = 0.0, 0, len(reconstruction)
    for start in range(0, rows, chunk_rows):
        part = np.asarray(reconstruction[start : start + chunk_rows], dtype="float64")
        ref = np.asarray(clean[start : start + chunk_rows], dtype="float64").reshape(part.shape)
        total += float(np.square(part - ref).sum())
        values += part.size
    return {f"mse_{suffix}": total / values, f"sse_{suffix}": total / rows}


def pca_baseline(
    x_train: np.ndarray,
    x_test: np.ndarray,
    n_components: int,
    *,
    noisy_test: np.ndarray | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """Test reconstruction error of a PCA with ``n_components`` fitted on ``x_train``.

    Returns:
        ``mse_clean``/``sse_clean`` and, with ``noisy_test``, ``mse_noisy``/``sse_noisy``
        (noisy -> clean), in the units of :func:`stackae.training.evaluate`.

    Example:
        >>> import numpy as np
        >>> from stackae.baselines import pca_baseline
        >>> x = np.random.default_rng(0).random((50, 6))
        >>> pca_baseline(x, x, 6)["mse_clean"] < 1e-20
        True
    """
    from sklearn.decomposition import PCA

    flat_train = x_train.reshape(len(x_train), -1)
    flat_test = x_test.reshape(len(x_test), -1)
    pca = PCA(n_components=n_components, random_state=seed).fit(flat_train)
    results = reconstruction_errors(
        flat_test, pca.inverse_transform(pca.transform(flat_test)), "clean"
    )
    if noisy_test is not None:
        noisy = noisy_test.reshape(len(noisy_test), -1)
        results.update(
            reconstruction_errors(flat_test, pca.inverse_transform(pca.transform(noisy)), "noisy")
        )
    return results


def probe_accuracy(
    train_features: np.ndarray,
    y_train: np.ndarray,
    test_features: np.ndarray,
    y_test: np.ndarray,
    *,
    max_train: int = 10000,
    seed: int = 0,
) -> float:
    """Test accuracy of a logistic-regression probe on the given features.

    The probe trains on at most ``max_train`` samples (a fixed random subset) to stay fast.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rows = np.random.default_rng(seed).permutation(len(train_features))[:max_train]
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    probe.fit(train_features.reshape(len(train_features), -1)[rows], np.asarray(y_train)[rows])
    return float(probe.score(test_features.reshape(len(test_features), -1), y_test))


def describe(results: dict[str, Any]) -> str:
    """One line of the main figures, for terminal summaries."""
    return ", ".join(
        f"{key}={value:.5g}" for key, value in results.items() if isinstance(value, float)
    )
