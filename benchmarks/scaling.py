"""How training time grows with depth, width and samples, and how fast ``encode`` is.

Runs in the current backend (set ``KERAS_BACKEND``) on random data shaped like MNIST. Table 1:
steady seconds per epoch of stackae's default denoising fit (batch 256, SGD) as one of depth,
width and sample count grows, with the model's GFLOP per epoch and the achieved GFLOP/s, so one
can see where a step stops being overhead and becomes arithmetic. Table 2: ``encode`` on
10,000 test images against ``model.predict`` of the book's hand-written model.

    python benchmarks/scaling.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from speed import book_model, epoch_timer  # benchmarks/ is on sys.path when run as a script


def _epoch_seconds(widths: list[int], samples: int, epochs: int = 3) -> float:

    import stackae

    spec = stackae.StackSpec.model_validate(
        {"input_dim": 784, "encoder": [{"units": w, "activation": "relu"} for w in widths],
         "output_activation": "sigmoid"}
    )  # fmt: skip
    stack = stackae.build(spec, seed=0)
    x = np.random.default_rng(0).random((samples, 784), dtype="float32")
    timer = epoch_timer()
    stack.fit(x, epochs=epochs, optimizer="sgd", noise="gaussian:0.05", verbose=0, seed=0,
              callbacks=[timer])  # fmt: skip
    return statistics.median(timer.times[1:])


def _gflop(widths: list[int], samples: int) -> float:
    dims = [784, *widths]
    pairs = list(zip(dims, dims[1:]))
    return 3 * 2 * samples * 2 * sum(a * b for a, b in pairs) / 1e9  # encoder + mirror, fwd+bwd


def main() -> None:
    import keras

    print(f"\nbackend {keras.backend.backend()}, batch 256, SGD, Gaussian noise 0.05\n")
    print("| varied | network (encoder) | samples | s/epoch | GFLOP/epoch | GFLOP/s |")
    print("|---|---|---:|---:|---:|---:|")
    cases = [
        ("depth", [32], 60000),
        ("depth", [128, 32], 60000),
        ("depth", [128, 64, 32], 60000),
        ("depth", [256, 128, 64, 32], 60000),
        ("width", [64, 32], 60000),
        ("width", [256, 32], 60000),
        ("width", [1024, 32], 60000),
        ("samples", [128, 64, 32], 15000),
        ("samples", [128, 64, 32], 30000),
        ("samples", [128, 64, 32], 120000),
    ]
    for varied, widths, samples in cases:
        seconds = _epoch_seconds(widths, samples)
        flop = _gflop(widths, samples)
        print(f"| {varied} | 784-{'-'.join(map(str, widths))} | {samples:,} | {seconds:.2f} | "
              f"{flop:.1f} | {flop / seconds:.0f} |", flush=True)  # fmt: skip

    import stackae

    x = np.random.default_rng(1).random((10000, 784), dtype="float32")
    stack = stackae.build(stackae.StackSpec.from_preset("skansi_book"), seed=0)
    book = book_model()
    rows = []
    for name, run in [
        ("book model.predict(x) (full autoencoder, batch 32)", lambda: book.predict(x, verbose=0)),
        ("book model.predict(x, batch_size=1024)",
         lambda: book.predict(x, batch_size=1024, verbose=0)),
        ("stackae encode(x) (codes, batch 1024)", lambda: stack.encode(x)),
        ("stackae reconstruct(x) (batch 1024)", lambda: stack.reconstruct(x)),
    ]:  # fmt: skip
        run()
        best = min(_timed(run) for _ in range(5))
        rows.append((name, best))
    print("\n| inference on 10,000 images | seconds | images/s | x row 1 |\n|---|---:|---:|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.3f} | {10000 / seconds:,.0f} | {rows[0][1] / seconds:.1f} |")


def _timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
