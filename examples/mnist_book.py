"""The stacked denoising autoencoder of Skansi, *Introduction to Deep Learning*, section 8.3.

Run it as ``python examples/mnist_book.py``. It trains two versions on real MNIST and prints a
comparison:

* **faithful**: the book's program rebuilt on stackae, quirks included; each quirk is named in a
  comment where it happens (``BOOK QUIRK``);
* **corrected**: the same network trained as a denoising autoencoder should be: noisy -> clean
  with fresh noise every batch, Adam, more epochs, MSE reported, and the widening matrix found
  by layer.

Both are compared with a PCA of the same code size (32). ``--only faithful`` or
``--only corrected`` runs one; ``--json PATH`` also writes the figures.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import keras
import numpy as np

import stackae
from stackae.baselines import pca_baseline
from stackae.datasets import as_vectors, load_mnist

NOISE_RATE = 0.05  # the book's `noise_rate`
# The book adds N(0, 1) * noise_rate and clips to [0, 1]: Gaussian noise, stddev 0.05, clipped.
BOOK_NOISE = stackae.GaussianNoise(stddev=NOISE_RATE, clip=(0.0, 1.0))


def faithful(x_train: np.ndarray, x_test: np.ndarray, seed: int, verbose: int) -> dict[str, Any]:
    """The book's program, line for line in meaning, on stackae."""
    # 784-128-64-32-64-128-784 with the book's activations: relu, tanh, relu | relu, sigmoid,
    # relu. BOOK QUIRK: the decoder is not a mirror of the encoder, and the output layer is a
    # relu although the data lie in [0, 1] (a sigmoid would match the range).
    stack = stackae.build(stackae.StackSpec.from_preset("skansi_book"), seed=seed)

    # BOOK QUIRK: the book builds noisy copies once, up front (x_train_noisy, x_test_noisy), and
    # then never uses x_train_noisy: it fits on the *clean* data, so nothing is denoised during
    # training. Faithfully: noise=None.
    x_test_noisy = BOOK_NOISE.apply(x_test, seed=seed)
    started = time.perf_counter()
    stack.fit(
        x_train,
        noise=None,
        optimizer="sgd",
        loss="mse",
        epochs=5,
        batch_size=256,
        shuffle=True,
        verbose=verbose,
        seed=seed,
    )
    seconds = time.perf_counter() - started

    # BOOK QUIRK: `metrics=['accuracy']` on a regression. Keras' Accuracy counts the outputs that
    # are *exactly* equal to the targets: here mostly background pixels where the relu output
    # is exactly 0. It says nothing about reconstruction quality; we print it as the book does.
    reconstruction = stack.reconstruct(x_test_noisy)  # the book evaluates noisy -> clean
    accuracy = keras.metrics.Accuracy()
    accuracy.update_state(x_test, reconstruction)
    print(f"\naccuracy:{float(accuracy.result()) * 100:.2f}%\n")

    # BOOK QUIRK: the book predicts on the clean test set and never uses the result.
    stack.reconstruct(x_test)

    weights = stack.autoencoder.get_weights()
    print([w.shape for w in weights])
    # BOOK QUIRK: the first widening matrix is taken as get_weights()[len/2], which is right only
    # while every layer has exactly one kernel and one bias and the stack is symmetric.
    book_matrix = weights[int(len(weights) / 2)]
    print(book_matrix.shape)

    metrics = stack.evaluate(x_test, noise=BOOK_NOISE, seed=seed)
    return {
        "metrics": metrics,
        "book_accuracy": float(accuracy.result()),
        "widening_matrix_shape": list(book_matrix.shape),
        "train_seconds": seconds,
    }


def corrected(
    x_train: np.ndarray, x_test: np.ndarray, seed: int, verbose: int, epochs: int
) -> dict[str, Any]:
    """The same network, trained and measured properly."""
    stack = stackae.build(stackae.StackSpec.from_preset("skansi_book"), seed=seed)
    started = time.perf_counter()
    # Fix: noisy -> clean, with fresh noise for every batch inside the train step; Adam instead
    # of plain SGD at its default rate; enough epochs to converge.
    stack.fit(
        x_train,
        noise=BOOK_NOISE,
        optimizer="adam",
        learning_rate=1e-3,
        loss="mse",
        epochs=epochs,
        batch_size=256,
        verbose=verbose,
        seed=seed,
    )
    seconds = time.perf_counter() - started
    # Fix: report reconstruction error (MSE, and summed squared error per image), noisy -> clean
    # and clean -> clean, instead of "accuracy".
    metrics = stack.evaluate(x_test, noise=BOOK_NOISE, seed=seed)
    # Fix: find the widening matrix by layer, not by an index into get_weights().
    layer = stackae.first_widening_layer(stack)
    matrix = stackae.first_widening_kernel(stack)
    print(f"first widening matrix: layer {layer.name!r}, shape {matrix.shape}")
    return {
        "metrics": metrics,
        "widening_layer": layer.name,
        "widening_matrix_shape": list(matrix.shape),
        "train_seconds": seconds,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=("faithful", "corrected"), help="run one version")
    parser.add_argument("--epochs", type=int, default=30, help="epochs of the corrected run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--limit", type=int, default=None, help="use only the first N training images (quick runs)"
    )
    parser.add_argument("--verbose", type=int, default=2, help="Keras progress: 0, 1 or 2")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    (x_train, _), (x_test, _) = load_mnist()
    # The book scales by /255 and flattens to 784-vectors.
    x_train, x_test = as_vectors(x_train[: args.limit]), as_vectors(x_test)

    results: dict[str, Any] = {}
    if args.only in (None, "faithful"):
        print("=== faithful (the book as printed) ===")
        results["faithful"] = faithful(x_train, x_test, args.seed, args.verbose)
    if args.only in (None, "corrected"):
        print("=== corrected ===")
        results["corrected"] = corrected(x_train, x_test, args.seed, args.verbose, args.epochs)
    noisy_test = BOOK_NOISE.apply(x_test, seed=args.seed)
    results["pca_32"] = {"metrics": pca_baseline(x_train, x_test, 32, noisy_test=noisy_test)}

    print("\n| run | test MSE noisy->clean | test MSE clean->clean | SSE per image (noisy) |")
    print("|---|---|---|---|")
    for name, result in results.items():
        m = result["metrics"]
        print(f"| {name} | {m['mse_noisy']:.5f} | {m['mse_clean']:.5f} | {m['sse_noisy']:.2f} |")
    if "corrected" in results:
        best = results["corrected"]["metrics"]["mse_noisy"]
        others = {k: v["metrics"]["mse_noisy"] for k, v in results.items() if k != "corrected"}
        verdict = all(best < other for other in others.values())
        print(f"\ncorrected beats {', '.join(others)}: {verdict}")
    if args.json:
        from stackae.io import atomic_write_text

        atomic_write_text(args.json, json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
