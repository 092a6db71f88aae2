"""Training speed of the book's network, stackae against a hand-written Keras loop and peers.

One run, same data (real MNIST 60,000 x 784), batch 256, network 784-128-64-32-64-128-784 with
the book's activations, MSE loss. Each row runs in its own process (a Keras backend is chosen
per process); the table gives steady per-epoch time (median of the epochs after the first),
samples/s, test MSE after the same number of epochs, and ratios against row 1.

    python benchmarks/speed.py                 # 3 epochs per row
    python benchmarks/speed.py --epochs 5 --rows book_tf stackae_tf
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

BATCH = 256
LAYERS = [(784, 128), (128, 64), (64, 32), (32, 64), (64, 128), (128, 784)]
ROWS = {
    "book_tf": ("tensorflow", "the book's code by hand (Keras fit, metrics=['accuracy'])"),
    "stackae_tf": ("tensorflow", "stackae default denoising fit, TensorFlow"),
    "stackae_jax": ("jax", "stackae default denoising fit, JAX"),
    "stackae_tf_clean": ("tensorflow", "stackae fit without noise (as the book), TensorFlow"),
    "stackae_jax_clean": ("jax", "stackae fit without noise (as the book), JAX"),
    "stackae_torch": ("torch_keras", "stackae default denoising fit, Keras on torch"),
    "torch_loop": ("torch", "hand-written PyTorch loop"),
    "tf_loop": ("tensorflow", "hand-written TF: a whole epoch in one tf.function, with noise"),
}


def _data():
    from stackae.datasets import as_vectors, load_mnist

    (x_train, _), (x_test, _) = load_mnist(allow_download=False, verbose=False)
    return as_vectors(x_train), as_vectors(x_test)


def epoch_timer():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.start)

    return EpochTimer()


def book_model():
    """The book's network as its hand-written Keras code builds it."""
    import keras

    inputs = keras.Input(shape=(784,))
    h = inputs
    for (_, units), activation in zip(LAYERS, ["relu", "tanh", "relu", "relu", "sigmoid", "relu"]):
        h = keras.layers.Dense(units, activation=activation)(h)
    return keras.Model(inputs, h)


def _book(epochs: int, optimizer: str) -> dict:
    import numpy as np

    x_train, x_test = _data()
    noisy_test = np.clip(x_test + 0.05 * np.random.default_rng(0).normal(size=x_test.shape), 0, 1)
    model = book_model()
    model.compile(optimizer=optimizer, loss="mean_squared_error", metrics=["accuracy"])
    timer = epoch_timer()
    model.fit(
        x_train,
        x_train,
        epochs=epochs,
        batch_size=BATCH,
        shuffle=True,
        verbose=0,
        callbacks=[timer],
    )
    mse = float(np.mean((model.predict(noisy_test, verbose=0) - x_test) ** 2))
    return {"epoch_times": timer.times, "test_mse_noisy": mse}


def _stackae(epochs: int, optimizer: str, clean: bool = False) -> dict:
    import stackae

    x_train, x_test = _data()
    stack = stackae.build(stackae.StackSpec.from_preset("skansi_book"), seed=0)
    timer = epoch_timer()
    noise = stackae.GaussianNoise(stddev=0.05)
    stack.fit(
        x_train,
        epochs=epochs,
        batch_size=BATCH,
        optimizer=optimizer,
        noise=None if clean else noise,
        verbose=0,
        seed=0,
        callbacks=[timer],
    )
    mse = stack.evaluate(x_test, noise=noise, seed=0)["mse_noisy"]
    return {"epoch_times": timer.times, "test_mse_noisy": mse}


def _torch(epochs: int, optimizer: str) -> dict:
    import numpy as np
    import torch

    torch.manual_seed(0)
    x_train, x_test = _data()
    acts = [
        torch.nn.ReLU,
        torch.nn.Tanh,
        torch.nn.ReLU,
        torch.nn.ReLU,
        torch.nn.Sigmoid,
        torch.nn.ReLU,
    ]
    modules = []
    for (fan_in, fan_out), act in zip(LAYERS, acts):
        modules += [torch.nn.Linear(fan_in, fan_out), act()]
    model = torch.nn.Sequential(*modules)
    opt = (
        torch.optim.SGD(model.parameters(), lr=0.01)
        if optimizer == "sgd"
        else torch.optim.Adam(model.parameters(), lr=1e-3)
    )
    data = torch.from_numpy(x_train)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(len(data))
        for i in range(0, len(data), BATCH):
            clean = data[order[i : i + BATCH]]
            noisy = (clean + 0.05 * torch.randn_like(clean)).clamp(0, 1)
            loss = torch.nn.functional.mse_loss(model(noisy), clean)
            opt.zero_grad()
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)
    noisy_test = np.clip(x_test + 0.05 * np.random.default_rng(0).normal(size=x_test.shape), 0, 1)
    with torch.no_grad():
        out = model(torch.from_numpy(noisy_test.astype("float32"))).numpy()
    return {"epoch_times": times, "test_mse_noisy": float(np.mean((out - x_test) ** 2))}


def _tf_loop(epochs: int, optimizer: str) -> dict:
    """TensorFlow's floor here: no Keras, the epoch a tf.while_loop, plain SGD, fresh noise."""
    import numpy as np
    import tensorflow as tf

    x_train, x_test = _data()
    steps = len(x_train) // BATCH
    data = tf.constant(x_train[: steps * BATCH].reshape(steps, BATCH, 784))
    acts = [tf.nn.relu, tf.tanh, tf.nn.relu, tf.nn.relu, tf.sigmoid, tf.nn.relu]
    rng = np.random.default_rng(0)
    kernels = [tf.Variable(rng.normal(0, 0.05, shape).astype("float32")) for shape in LAYERS]
    biases = [tf.Variable(tf.zeros(units)) for _, units in LAYERS]
    params = kernels + biases

    def forward(h):
        for kernel, bias, act in zip(kernels, biases, acts):
            h = act(h @ kernel + bias)
        return h

    @tf.function
    def epoch(seed):
        def body(i, loss):
            clean = data[i]
            noise = tf.random.stateless_normal(tf.shape(clean), tf.stack([seed, i]))
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(
                    tf.square(forward(tf.clip_by_value(clean + 0.05 * noise, 0, 1)) - clean)
                )
            for param, grad in zip(params, tape.gradient(loss, params)):
                param.assign_sub(0.01 * grad)
            return i + 1, loss

        return tf.while_loop(lambda i, _: i < steps, body, (0, 0.0))

    times = []
    for index in range(epochs):
        start = time.perf_counter()
        epoch(tf.constant(index))
        times.append(time.perf_counter() - start)
    noisy_test = np.clip(x_test + 0.05 * np.random.default_rng(0).normal(size=x_test.shape), 0, 1)
    out = forward(tf.constant(noisy_test.astype("float32"))).numpy()
    return {"epoch_times": times, "test_mse_noisy": float(np.mean((out - x_test) ** 2))}


def compute_bound(samples: int = 60000) -> dict:
    """FLOPs of one epoch (forward + backward = 3x the forward matmuls) over the BLAS rate."""
    import numpy as np

    flops = 3 * 2 * samples * sum(a * b for a, b in LAYERS)
    a = np.random.default_rng(0).random((BATCH, 784), dtype=np.float32)
    b = np.random.default_rng(1).random((784, 128), dtype=np.float32)
    for _ in range(20):
        a @ b
    start, reps = time.perf_counter(), 2000
    for _ in range(reps):
        a @ b
    rate = 2 * BATCH * 784 * 128 * reps / (time.perf_counter() - start)
    big = np.random.default_rng(2).random((1024, 1024), dtype=np.float32)
    start = time.perf_counter()
    for _ in range(20):
        big @ big
    peak = 2 * 1024**3 * 20 / (time.perf_counter() - start)
    return {
        "epoch_flops": flops,
        "matmul_rate": rate,
        "peak_rate": peak,
        "epoch_seconds": flops / rate,
    }


def worker(name: str, epochs: int, optimizer: str) -> None:
    runner = {
        "book_tf": _book,
        "stackae_tf": _stackae,
        "stackae_tf_clean": lambda e, o: _stackae(e, o, clean=True),
        "stackae_jax_clean": lambda e, o: _stackae(e, o, clean=True),
        "stackae_jax": _stackae,
        "stackae_torch": _stackae,
        "torch_loop": _torch,
        "tf_loop": _tf_loop,
    }[name]
    print("RESULT " + json.dumps(runner(epochs, optimizer)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--optimizer", default="sgd", help="same optimizer for every row")
    parser.add_argument("--rows", nargs="*", default=list(ROWS))
    parser.add_argument("--worker")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.epochs, args.optimizer)
        return
    results = {}
    for name in args.rows:
        backend, _ = ROWS[name]
        env = {
            **os.environ,
            "KERAS_BACKEND": {"torch": "tensorflow", "torch_keras": "torch"}.get(backend, backend),
            "TF_CPP_MIN_LOG_LEVEL": "3",
        }
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                "--worker",
                name,
                "--epochs",
                str(args.epochs),
                "--optimizer",
                args.optimizer,
            ],
            capture_output=True,
            text=True,
            env=env,
        )
        line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode or not line:
            print(f"{name}: skipped ({(proc.stderr.strip().splitlines() or ['failed'])[-1]})")
            continue
        results[name] = json.loads(line[0][7:])
    bound = compute_bound()
    print(
        f"\nMNIST 60,000 x 784, batch {BATCH}, 784-128-64-32-64-128-784, {args.epochs} epochs, "
        f"optimizer {args.optimizer}; {os.cpu_count()} CPU cores\n"
    )
    print(
        "| # | run | s/epoch (steady) | samples/s | x row 1 | % of compute bound "
        "| test MSE noisy->clean |"
    )
    print("|---|---|---|---|---|---|---|")
    base = None
    for index, (name, result) in enumerate(results.items(), start=1):
        times = result["epoch_times"]
        steady = statistics.median(times[1:] if len(times) > 1 else times)
        rate = 60000 / steady
        base = base or rate
        print(
            f"| {index} | {ROWS[name][1]} | {steady:.2f} | {rate:,.0f} | {rate / base:.2f} | "
            f"{100 * bound['epoch_seconds'] / steady:.0f}% | {result['test_mse_noisy']:.5f} |"
        )
    print(
        f"| - | compute bound: {bound['epoch_flops'] / 1e9:.1f} GFLOP/epoch at the measured "
        f"{bound['matmul_rate'] / 1e9:.0f} GFLOP/s (256x784x128 matmul; 1024^2 peak "
        f"{bound['peak_rate'] / 1e9:.0f}) | {bound['epoch_seconds']:.2f} | "
        f"{60000 / bound['epoch_seconds']:,.0f} | {60000 / bound['epoch_seconds'] / base:.2f} "
        f"| 100% | - |"
    )


if __name__ == "__main__":
    main()
