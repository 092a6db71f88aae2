"""The ``stackae`` command: spec file -> trained models, metrics.json and pictures.

It only wires files and flags to the library: the spec module reads specs, ``build`` makes the
models, ``training`` trains them, ``io`` and ``report`` write the results. Every error the user
can cause becomes one line on stderr and exit code 2 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from stackae.errors import DataError, ModelFileError, SpecError, TrainingDivergedError
from stackae.spec import PRESETS, StackSpec, read_spec_source

__all__ = ["main", "load_run_config", "load_data"]

USER_ERRORS = (SpecError, DataError, ModelFileError, TrainingDivergedError, FileNotFoundError)


def load_run_config(source: str) -> tuple[StackSpec, dict[str, Any]]:
    """A spec and its ``training:`` settings from a YAML/JSON file, a preset name or shorthand."""
    if source in PRESETS:
        return StackSpec.from_preset(source), {}
    path = Path(source)
    if path.suffix.lower() in (".yaml", ".yml", ".json") or path.exists():
        data = read_spec_source(path)
        training = data.pop("training", None) or {}
        if not isinstance(training, dict):
            raise SpecError(
                f"`training` in a spec file must be a mapping of settings. Received: {training!r}"
            )
        return StackSpec.from_dict(data), training
    return StackSpec.parse(source), {}


def _fit_to_shape(x: np.ndarray, shape: tuple[int, ...], name: str) -> np.ndarray:
    if tuple(x.shape[1:]) == shape:
        return x
    if int(np.prod(x.shape[1:])) == int(np.prod(shape)):
        return x.reshape((len(x), *shape))
    raise DataError(
        f"The {name} data have per-sample shape {tuple(x.shape[1:])}, which cannot be reshaped to "
        f"the spec's input shape {shape}. Received: shape={tuple(x.shape)}"
    )


def load_data(
    source: str, shape: tuple[int, ...], test_fraction: float = 0.1
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``(x_train, x_test, y_train, y_test)`` from ``mnist`` or a .npy/.npz/.csv file.

    MNIST is scaled to [0, 1]. A ``.npy`` file is memory-mapped; a ``.npz`` file may hold
    ``x_train``/``x_test`` (and ``y_train``/``y_test``) or a single ``x`` (and ``y``); a single
    array is split, its last ``test_fraction`` becoming the test set.
    """
    x_train: np.ndarray
    x_test: np.ndarray | None
    y_train: np.ndarray | None = None
    y_test: np.ndarray | None = None
    if source == "mnist":
        from stackae.datasets import load_mnist

        (x_train, y_train), (x_test, y_test) = load_mnist()
        x_train, x_test = x_train.astype("float32") / 255.0, x_test.astype("float32") / 255.0
    else:
        x: np.ndarray | None = None
        y: np.ndarray | None = None
        path = Path(source)
        if not path.is_file():
            raise DataError(
                f"No data file at this path; use `mnist` or a .npy, .npz or .csv file. "
                f"Received: --data {source}"
            )
        suffix = path.suffix.lower()
        try:
            if suffix == ".npy":
                x = np.load(path, mmap_mode="r", allow_pickle=False)
            elif suffix == ".npz":
                with np.load(path, allow_pickle=False) as archive:
                    arrays = {key: archive[key] for key in archive.files}
                if "x_train" in arrays:
                    x_train, x_test = arrays["x_train"], arrays.get("x_test")
                    y_train, y_test = arrays.get("y_train"), arrays.get("y_test")
                elif "x" in arrays:
                    x, y = arrays["x"], arrays.get("y")
                else:
                    raise DataError(
                        "A .npz data file must hold `x` or `x_train` (and optionally `x_test`, "
                        f"`y`, `y_train`, `y_test`). Received: keys={sorted(arrays)}"
                    )
            elif suffix == ".csv":
                x = np.loadtxt(path, delimiter=",", dtype="float32", ndmin=2)
            else:
                raise DataError(
                    f"Unsupported data file type; use .npy, .npz or .csv. Received: --data {source}"
                )
        except (ValueError, OSError) as error:
            if isinstance(error, DataError):
                raise
            raise DataError(f"Cannot read the data file '{path}': {error}") from None
        if x is not None:
            cut = len(x) - max(1, int(round(len(x) * test_fraction)))
            if cut <= 0:
                raise DataError(f"Too few samples to hold out a test set. Received: {len(x)} rows")
            x_train, x_test = x[:cut], x[cut:]
            if y is not None:
                y_train, y_test = y[:cut], y[cut:]
        if x_test is None:
            cut = len(x_train) - max(1, int(round(len(x_train) * test_fraction)))
            x_train, x_test = x_train[:cut], x_train[cut:]
    return (
        _fit_to_shape(x_train, shape, "training"),
        _fit_to_shape(np.asarray(x_test, dtype="float32"), shape, "test"),
        y_train,
        y_test,
    )


def _train(args: argparse.Namespace) -> int:
    from stackae.config import TrainingConfig

    spec, training = load_run_config(args.spec)
    overrides = {
        key: value
        for key, value in {
            "epochs": args.epochs, "batch_size": args.batch_size, "noise": args.noise,
            "optimizer": args.optimizer, "learning_rate": args.learning_rate,
            "loss": args.loss, "pretrain_epochs": args.pretrain_epochs, "seed": args.seed,
            "validation_split": args.validation_split, "distribute": args.distribute,
        }.items()
        if value is not None
    }  # fmt: skip
    config = TrainingConfig.model_validate({**training, **overrides})
    x_train, x_test, y_train, y_test = load_data(args.data, spec.resolved_input_shape)
    # Checked before any model is built or any file is written.
    from stackae.training import check_data

    x_train = check_data(
        x_train,
        spec.resolved_input_shape,
        name="training data",
        output_activation=spec.resolved_output_activation,
    )
    x_test = check_data(x_test, spec.resolved_input_shape, name="test data")

    import keras

    from stackae import io, report
    from stackae.builder import build
    from stackae.training import ResumableCheckpoint

    out = Path(args.out)
    checkpoints = out / "checkpoints"
    out.mkdir(parents=True, exist_ok=True)
    stack = build(spec, seed=config.seed)
    print(f"stackae: training {stack!r} on {len(x_train):,} samples ({args.data}) -> {out}")
    started = time.perf_counter()
    resumed, _ = ResumableCheckpoint.last_epoch(checkpoints)
    if config.pretrain_epochs and not resumed:
        print(f"stackae: layer-wise pretraining, {config.pretrain_epochs} epoch(s) per layer")
        stack.pretrain(
            x_train,
            epochs=config.pretrain_epochs,
            noise=config.noise,
            optimizer=config.optimizer,
            learning_rate=config.learning_rate,
            loss=config.loss,
            batch_size=config.batch_size,
            verbose=args.verbose,
            seed=config.seed,
        )
    elif resumed:
        print(f"stackae: resuming after epoch {resumed} from {checkpoints}")
    log = checkpoints / "history.log.csv"
    checkpoints.mkdir(parents=True, exist_ok=True)
    stack.fit(
        x_train,
        verbose=args.verbose,
        checkpoint_dir=checkpoints,
        callbacks=[keras.callbacks.CSVLogger(str(log), append=True)],
        **config.fit_kwargs(),
    )
    seconds = time.perf_counter() - started

    io.save(stack, out)
    for name in ("encoder", "decoder", "autoencoder"):
        with io.atomic_path(out / f"{name}.keras") as partial:
            getattr(stack, name).save(partial)
    if log.exists():
        io.atomic_write_text(out / "history.csv", log.read_text())
    metrics = _metrics(stack, x_train, x_test, y_train, y_test, config, seconds)
    io.atomic_write_text(out / "metrics.json", json.dumps(metrics, indent=2))
    noisy = config.noise.apply(x_test[:10], seed=0) if config.noise else x_test[:10]
    report.plot_reconstructions(
        out / "reconstructions.png", x_test[:10], noisy, stack.reconstruct(noisy)
    )
    history = _read_history(out / "history.csv")
    report.plot_loss(out / "loss.png", history)
    if y_test is not None:
        report.plot_codes(out / "codes.png", stack.encode(x_test), y_test)
    _summary(metrics)
    return 0


def _read_history(path: Path) -> dict[str, list[float]]:
    if not path.exists():
        return {}
    lines = [line.split(",") for line in path.read_text().strip().splitlines()]
    header, rows = lines[0], lines[1:]

    def number(text: str) -> float:
        try:
            return float(text)
        except ValueError:  # CSVLogger writes NA for metrics an epoch did not have
            return float("nan")

    return {key: [number(row[i]) for row in rows] for i, key in enumerate(header)}


def _metrics(
    stack: Any,
    x_train: np.ndarray,
    x_test: np.ndarray,
    y_train: Any,
    y_test: Any,
    config: Any,
    seconds: float,
) -> dict[str, Any]:
    from stackae.baselines import pca_baseline, probe_accuracy

    noise = config.noise
    code_size = int(np.prod(stack.spec.code_shape))
    ours = stack.evaluate(x_test, noise=noise, seed=0)
    noisy_test = noise.apply(x_test, seed=0) if noise else None
    sample = np.asarray(x_train[: min(len(x_train), 20000)])
    metrics: dict[str, Any] = {
        "spec": stack.spec.to_dict(),
        "training": config.model_dump(mode="json"),
        "train_seconds": round(seconds, 2),
        "code_size": code_size,
        "test": ours,
        f"pca_{code_size}": pca_baseline(
            sample, x_test, min(code_size, *sample.shape[1:2], len(sample)), noisy_test=noisy_test
        ),
    }
    if y_train is not None and y_test is not None:
        train_rows = slice(0, min(len(x_train), 10000))
        metrics["probe_accuracy"] = {
            "codes": probe_accuracy(
                stack.encode(sample[train_rows]), y_train[train_rows], stack.encode(x_test), y_test
            ),
            "raw_pixels": probe_accuracy(sample[train_rows], y_train[train_rows], x_test, y_test),
        }
    return metrics


def _summary(metrics: dict[str, Any]) -> None:
    test, pca = metrics["test"], metrics[f"pca_{metrics['code_size']}"]
    print(f"stackae: done in {metrics['train_seconds']:.1f}s")
    print(f"  test MSE clean->clean {test['mse_clean']:.5f} (PCA {pca['mse_clean']:.5f})")
    if "mse_noisy" in test:
        print(f"  test MSE noisy->clean {test['mse_noisy']:.5f} (PCA {pca['mse_noisy']:.5f})")
    if "probe_accuracy" in metrics:
        probe = metrics["probe_accuracy"]
        print(f"  logistic probe: codes {probe['codes']:.4f}, raw pixels {probe['raw_pixels']:.4f}")


def _evaluate(args: argparse.Namespace) -> int:
    from stackae import io

    stack = io.load(args.dir)
    _, x_test, _, _ = load_data(args.data, stack.spec.resolved_input_shape)
    result = stack.evaluate(x_test, noise=args.noise, seed=args.seed)
    print(json.dumps(result, indent=2))
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from stackae import io
    from stackae.inspect import first_widening_layer, weight_matrices

    stack = io.load(args.dir)
    spec = stack.spec
    print(f"{stack!r}\n")
    print("encoder:")
    for index, (layer, shape) in enumerate(zip(spec.encoder, spec.layer_shapes[1:]), start=1):
        print(f"  encoder_{index}: {layer.kind} {layer.units} {layer.activation} -> {shape}")
    print("decoder (resolved):")
    for index, layer in enumerate(spec.decoder_layers, start=1):
        print(f"  decoder_{index}: {layer.kind} {layer.units} {layer.activation}")
    print("\nweight shapes:", [tuple(w.shape) for w in stack.autoencoder.get_weights()])
    print(
        "weight matrices (in, out):",
        ", ".join(f"{layer.name} {m.shape}" for layer, m in weight_matrices(stack)),
    )
    try:
        layer = first_widening_layer(stack)
        matrix = dict((lay.name, m) for lay, m in weight_matrices(stack))[layer.name]
        print(f"first widening matrix: {layer.name} {matrix.shape}")
    except ValueError as error:
        print(f"first widening matrix: none ({error})")
    if args.summary:
        stack.autoencoder.summary()
    return 0


def _parser() -> argparse.ArgumentParser:
    from stackae import __version__

    parser = argparse.ArgumentParser(
        prog="stackae",
        description="Build, train and inspect stacked denoising autoencoders from a spec.",
    )
    parser.add_argument("--version", action="version", version=f"stackae {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser(
        "train",
        help="train a spec and write models, metrics.json and pictures",
        description="Train SPEC (a YAML/JSON file, a preset name, or shorthand such as "
        "'784-128:relu-32:relu|sigmoid'). Settings of a `training:` section in the file are "
        "used unless a flag overrides them. Running the same command again resumes.",
    )
    train.add_argument("spec", help="spec file, preset name or shorthand")
    train.add_argument("--data", default="mnist", help="mnist (default) or a .npy/.npz/.csv file")
    train.add_argument("--out", required=True, help="output directory")
    train.add_argument("--epochs", type=int)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--noise", help="e.g. gaussian:0.05, masking:0.3, salt_and_pepper:0.1")
    train.add_argument("--optimizer")
    train.add_argument("--learning-rate", type=float)
    train.add_argument("--loss", choices=("mse", "binary_crossentropy"))
    train.add_argument("--pretrain-epochs", type=int, help="layer-wise pretraining per layer")
    train.add_argument("--validation-split", type=float)
    train.add_argument("--seed", type=int)
    train.add_argument(
        "--distribute",
        choices=("none", "data_parallel"),
        help="data_parallel: replicate the model on every device, split each batch",
    )
    train.add_argument(
        "--verbose",
        type=int,
        default=1,
        choices=(0, 1, 2),
        help="Keras progress: 0 silent, 1 bar, 2 a line per epoch",
    )
    train.set_defaults(run=_train)

    evaluate = commands.add_parser("evaluate", help="reconstruction error of a trained model")
    evaluate.add_argument("dir", help="directory written by `stackae train`")
    evaluate.add_argument("--data", default="mnist")
    evaluate.add_argument("--noise", help="also score noisy -> clean with this noise")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.set_defaults(run=_evaluate)

    inspect = commands.add_parser(
        "inspect", help="spec, resolved decoder, weights, widening matrix"
    )
    inspect.add_argument("dir", help="directory written by `stackae train`")
    inspect.add_argument("--summary", action="store_true", help="also print the Keras summary")
    inspect.set_defaults(run=_inspect)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 only on success)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except USER_ERRORS as error:
        if args.debug:
            raise
        message = " ".join(str(error).split())
        print(f"stackae: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stackae: interrupted; run the same command again to resume.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
