"""Peak memory of training: full MNIST in memory, and a memory-mapped file larger than needed.

Each case runs in its own process and reports its peak resident set size (``VmHWM``):

1. ``import stackae`` and Keras only (the floor);
2. stackae's default denoising fit on full MNIST (60,000 x 784 float32 in memory), 2 epochs;
3. the same fit on a memory-mapped ``.npy`` of ``--rows`` x 784 float32 (default 600,000 rows,
   1.9 GB on disk), 1 epoch, streamed by ``MemmapBatches``.

    python benchmarks/memory.py [--rows 600000] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time


def _peak_mb() -> float:
    # VmHWM is this process's own high-water mark; ru_maxrss would also count the parent's
    # pages that the child briefly shared between fork and exec.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(case: str, path: str | None) -> dict:
    import numpy as np

    import stackae
    from stackae.datasets import as_vectors, load_mnist

    stack = stackae.build(stackae.StackSpec.from_preset("skansi_book"), seed=0)
    start = time.perf_counter()
    if case == "mnist":
        (x, _), _ = load_mnist(allow_download=False, verbose=False)
        x = as_vectors(x)
        stack.fit(x, epochs=2, noise="gaussian:0.05", verbose=0, seed=0)
        rows = len(x)
    elif case == "memmap":
        x = np.load(path, mmap_mode="r")
        stack.fit(x, epochs=1, noise="gaussian:0.05", verbose=0, seed=0)
        rows = len(x)
    else:
        stack.encode(np.zeros((1, 784), dtype="float32"))
        rows = 0
    return {"peak_mb": _peak_mb(), "rows": rows, "seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=600_000)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    parser.add_argument("--worker", nargs=2)
    args = parser.parse_args()
    if args.worker:
        print("RESULT " + json.dumps(worker(*args.worker)))
        return

    import numpy as np

    path = os.path.join(args.dir, "stackae_memmap_benchmark.npy")
    out = np.lib.format.open_memmap(path, mode="w+", dtype="float32", shape=(args.rows, 784))
    rng = np.random.default_rng(0)
    for start in range(0, args.rows, 50_000):  # written in chunks: this process stays small too
        out[start : start + 50_000] = rng.random((min(50_000, args.rows - start), 784), "float32")
    out.flush()
    del out
    file_mb = os.path.getsize(path) / 2**20
    results = {}
    try:
        for case in ("import", "mnist", "memmap"):
            proc = subprocess.run(
                [sys.executable, __file__, "--worker", case, path],
                capture_output=True,
                text=True,
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
            )
            line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
            if proc.returncode or not line:
                raise SystemExit(f"{case} failed:\n{proc.stderr[-2000:]}")
            results[case] = json.loads(line[0][7:])
    finally:
        os.remove(path)
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    print(f"\nPeak RSS, backend {backend}\n")
    print("| case | data | peak RSS (MB) | time (s) |\n|---|---|---:|---:|")
    print(f"| import stackae + Keras, build the book model | - | "
          f"{results['import']['peak_mb']:,.0f} | - |")  # fmt: skip
    print(f"| fit, full MNIST in memory, 2 epochs | 60,000 x 784 float32 (180 MB) | "
          f"{results['mnist']['peak_mb']:,.0f} | {results['mnist']['seconds']:.1f} |")  # fmt: skip
    print(f"| fit, memory-mapped .npy, 1 epoch | {args.rows:,} x 784 float32 ({file_mb:,.0f} MB "
          f"on disk) | {results['memmap']['peak_mb']:,.0f} | "
          f"{results['memmap']['seconds']:.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
