"""Training: denoising fit (noisy -> clean), greedy layer-wise pretraining, evaluation.

The noise is a :class:`~stackae.layers.Corruption` layer in front of the autoencoder inside a
training-only wrapper model, so it runs in the compiled train step and draws fresh noise for
every batch; targets are the clean inputs. Validation and inference never see noise.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from stackae.baselines import reconstruction_errors
from stackae.config import TrainingConfig
from stackae.distribute import distribution_scope, resolve_distribution
from stackae.errors import DataError, TrainingDivergedError
from stackae.layers import Corruption
from stackae.noise import parse_noise

if TYPE_CHECKING:
    from stackae.builder import StackedAutoencoder

__all__ = [
    "TrainingConfig",
    "SummedSquaredError",
    "fit",
    "pretrain",
    "evaluate",
    "check_data",
    "ArrayBatches",
]

# Range of each bounded output activation: data outside it cannot be reconstructed.
_OUTPUT_RANGES = {
    "sigmoid": (0.0, 1.0),
    "hard_sigmoid": (0.0, 1.0),
    "sparse_sigmoid": (0.0, 1.0),
    "softmax": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "hard_tanh": (-1.0, 1.0),
    "softsign": (-1.0, 1.0),
    "relu": (0.0, math.inf),
    "relu6": (0.0, 6.0),
    "softplus": (0.0, math.inf),
    "exponential": (0.0, math.inf),
}


def _release_pages(array: Any) -> None:
    """Unmap the pages of a memory-mapped array read so far; the OS keeps them cached.

    Only for read-only or shared mappings (``mode`` 'r'/'r+'): a copy-on-write mapping ('c')
    could hold private changes that unmapping would discard.
    """
    mapping = getattr(array, "_mmap", None)
    if mapping is not None and getattr(array, "mode", "c") in ("r", "r+"):
        import mmap

        mapping.madvise(mmap.MADV_DONTNEED)


def _is_stream(x: Any) -> bool:
    import tensorflow as tf

    return isinstance(x, keras.utils.PyDataset | tf.data.Dataset)


def check_data(
    x: Any,
    expected_shape: Sequence[int | None],
    *,
    name: str = "x",
    output_activation: str | None = None,
    chunk_rows: int = 65536,
) -> np.ndarray:
    """Check an input array before any training or inference starts.

    Catches, with a message saying what to do: non-arrays and ``(x, y)`` pairs, non-numeric
    dtypes, empty arrays, the wrong rank (a 1-D array looks like labels), the wrong per-sample
    shape, NaN or infinite values (with the first bad row), and values outside the range of a
    bounded output activation (a warning). Works in chunks, so a memory-mapped array is never
    loaded whole.

    Returns:
        ``x`` as a float32 array (the same object when it already is one); a memory-mapped
        array is returned as it is, to be read and converted a batch at a time.

    Raises:
        DataError: Describing the first problem found.

    Example:
        >>> import numpy as np
        >>> from stackae.training import check_data
        >>> check_data(np.zeros((2, 3), dtype="uint8"), (3,)).dtype
        dtype('float32')
    """
    expected = tuple(expected_shape)
    if isinstance(x, tuple) and len(x) == 2:
        raise DataError(
            f"`{name}` looks like an (x, y) pair; an autoencoder learns from the inputs alone, so "
            f"pass only x. Received: {name}=tuple of 2"
        )
    if isinstance(x, list):
        x = np.asarray(x)
    if not (hasattr(x, "shape") and hasattr(x, "dtype") and hasattr(x, "__getitem__")):
        raise DataError(
            f"`{name}` must be an array (numpy, memory-mapped, or array-like). "
            f"Received: {name} of type {type(x).__name__}"
        )
    dtype = np.dtype(x.dtype)
    if not (np.issubdtype(dtype, np.number) or dtype == np.bool_) or np.issubdtype(
        dtype, np.complexfloating
    ):
        raise DataError(
            f"`{name}` must hold real numbers; convert it with `np.asarray({name}, "
            f"dtype='float32')`. Received: dtype={dtype}"
        )
    if len(x.shape) != 1 + len(expected):
        hint = (
            " A 1-D array looks like labels or a single sample: pass the inputs, one row per "
            "sample (`x.reshape(1, -1)` for one sample)."
            if len(x.shape) == 1
            else ""
        )
        raise DataError(
            f"`{name}` must have shape (samples, {', '.join(map(str, expected))}).{hint} "
            f"Received: {name}.shape={tuple(x.shape)}"
        )
    if tuple(x.shape[1:]) != expected:
        raise DataError(
            f"`{name}` has per-sample shape {tuple(x.shape[1:])}, but the spec expects "
            f"{expected}. Received: {name}.shape={tuple(x.shape)}"
        )
    if x.shape[0] == 0:
        raise DataError(f"`{name}` is empty. Received: {name}.shape={tuple(x.shape)}")

    low, high = math.inf, -math.inf
    for start in range(0, x.shape[0], chunk_rows):
        chunk = np.asarray(x[start : start + chunk_rows])
        if np.issubdtype(dtype, np.floating) and not np.isfinite(chunk).all():
            row = start + int(np.argwhere(~np.isfinite(chunk.reshape(len(chunk), -1)))[0][0])
            raise DataError(
                f"`{name}` contains NaN or infinite values (first in row {row}); remove or "
                f"impute them before training. Received: {name}[{row}] has non-finite values"
            )
        low, high = min(low, float(chunk.min())), max(high, float(chunk.max()))
        _release_pages(x)
    allowed = _OUTPUT_RANGES.get(output_activation or "")
    if allowed and (low < allowed[0] or high > allowed[1]):
        warnings.warn(
            f"`{name}` ranges over [{low:g}, {high:g}], outside [{allowed[0]:g}, {allowed[1]:g}] "
            f"of the output activation {output_activation!r}: those values cannot be "
            "reconstructed. Scale the data (e.g. x / 255) or change `output_activation`.",
            UserWarning,
            stacklevel=3,
        )
    if dtype == np.float32 or isinstance(x, np.memmap):
        return x
    return np.asarray(x, dtype="float32")


class ArrayBatches(keras.utils.PyDataset):
    """(input, target) batches of an array, read one batch at a time, reshuffled every epoch.

    Keras turns an array given to ``fit`` or ``predict`` into tensors, so a memory-mapped file
    would be read whole; ``fit`` and ``encode``/``decode``/``reconstruct`` hand such files to
    Keras through this class, one batch at a time. In-memory arrays are shuffled by row;
    memory-mapped ones by contiguous block of ``batch_size`` rows (cheap disk reads, coarser
    shuffling), and the pages read are released again, so resident memory stays near one batch.

    Args:
        array: The data (any real dtype; batches are converted to float32).
        batch_size: Rows per batch.
        shuffle: Draw a new order every epoch.
        seed: Seed of that order.
        start: First row used.
        stop: One past the last row used (default: the end).

    Example:
        >>> import numpy as np, tempfile, os
        >>> from stackae.training import ArrayBatches
        >>> path = os.path.join(tempfile.mkdtemp(), "x.npy")
        >>> np.save(path, np.arange(20, dtype="uint8").reshape(10, 2))
        >>> batches = ArrayBatches(np.load(path, mmap_mode="r"), 4, shuffle=False)
        >>> len(batches), batches[2][0].tolist()
        (3, [[16.0, 17.0], [18.0, 19.0]])
    """

    def __init__(
        self,
        array: np.ndarray,
        batch_size: int,
        *,
        shuffle: bool = True,
        seed: int | None = None,
        start: int = 0,
        stop: int | None = None,
    ) -> None:
        super().__init__()
        self.array, self.batch_size = array, batch_size
        self.start, self.stop = start, len(array) if stop is None else stop
        self.shuffle = shuffle
        self.by_block = isinstance(array, np.memmap)
        count = self.stop - self.start
        self.order = np.arange(math.ceil(count / batch_size) if self.by_block else count)
        self.rng = np.random.default_rng(seed)
        self._read = 0
        if shuffle:
            self.rng.shuffle(self.order)

    def __len__(self) -> int:
        return math.ceil(len(self.order) / (1 if self.by_block else self.batch_size))

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if self.by_block:
            low = self.start + int(self.order[index]) * self.batch_size
            rows = self.array[low : min(low + self.batch_size, self.stop)]
        else:
            picked = self.order[index * self.batch_size : (index + 1) * self.batch_size]
            rows = self.array[self.start + np.sort(picked)]  # sorted: faster gathers
        batch = np.asarray(rows, dtype="float32")
        self._release(batch.nbytes)
        return batch, batch

    def _release(self, nbytes: int) -> None:
        """Unmap the file pages read so far (every 64 MB); the OS keeps them cached."""
        self._read += nbytes
        if self._read > 64 * 2**20:
            _release_pages(self.array)
            self._read = 0

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self.rng.shuffle(self.order)


@keras.saving.register_keras_serializable(package="stackae")
def summed_squared_error(y_true: Any, y_pred: Any) -> Any:
    """Squared error summed over each sample's values (one number per sample)."""
    from keras import ops

    y_true = ops.cast(y_true, y_pred.dtype)
    squared = ops.square(y_pred - y_true)
    return ops.sum(ops.reshape(squared, (ops.shape(squared)[0], -1)), axis=-1)


@keras.saving.register_keras_serializable(package="stackae")
class SummedSquaredError(keras.metrics.MeanMetricWrapper):
    """Mean over samples of the per-sample summed squared error.

    This is the unit Hinton & Salakhutdinov (2006) report for MNIST ("average squared error per
    image"), unlike Keras' ``mse``, which also averages over the 784 pixels.
    """

    def __init__(self, name: str = "sse", dtype: Any = None) -> None:
        super().__init__(summed_squared_error, name=name, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype}


def _make_optimizer(optimizer: Any, learning_rate: float | None) -> keras.optimizers.Optimizer:
    if isinstance(optimizer, keras.optimizers.Optimizer):
        if learning_rate is not None:
            optimizer.learning_rate = learning_rate
        return optimizer
    config: dict[str, Any] = {} if learning_rate is None else {"learning_rate": learning_rate}
    return keras.optimizers.get({"class_name": str(optimizer), "config": config})


class _StopOnNonFinite(keras.callbacks.Callback):
    """Stop after the first epoch with a NaN/inf loss and remember it, so `fit` can raise.

    Checked per epoch, not per batch: a batch-level hook makes Keras copy the logs to the host
    after every call into the compiled function (measured: ~15% of a book-sized epoch on TF).
    One bad batch makes the epoch's mean loss non-finite, so nothing is missed; the
    checkpoint callback refuses to save such an epoch.
    """

    def __init__(self) -> None:
        super().__init__()
        self.bad: tuple[int, float] | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.bad = (epoch, float(loss))
            self.model.stop_training = True


class ResumableCheckpoint(keras.callbacks.Callback):
    """Save the training state at the end of every good epoch, atomically.

    The weights (model, optimizer and noise generator state) go to a new file, which is renamed
    into place; only then does ``state.json`` point at it. A process killed at any moment
    leaves either the previous complete checkpoint or the new one, never a half-written file.
    Epochs whose loss is not finite are never saved.
    """

    def __init__(self, directory: str | Path) -> None:
        super().__init__()
        self.directory = Path(directory)

    @staticmethod
    def last_epoch(directory: str | Path) -> tuple[int, Path | None]:
        """``(epochs done, weights file)`` of the checkpoint in ``directory``, or ``(0, None)``."""
        state_path = Path(directory) / "state.json"
        if not state_path.exists():
            return 0, None
        state = json.loads(state_path.read_text())
        return int(state["epoch"]), Path(directory) / state["weights"]

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        # Temporary files of a process killed mid-write: never read, safe to drop.
        for stale in self.directory.glob(".*.partial*"):
            stale.unlink(missing_ok=True)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        loss = (logs or {}).get("loss")
        if self.model.stop_training or loss is None or not math.isfinite(float(loss)):
            return
        from stackae.io import atomic_write_text

        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"epoch-{epoch + 1:05d}.weights.h5"
        partial = self.directory / f".{name}.partial.weights.h5"
        self.model.save_weights(partial)
        os.replace(partial, self.directory / name)
        atomic_write_text(
            self.directory / "state.json", json.dumps({"epoch": epoch + 1, "weights": name})
        )
        for old in self.directory.glob("epoch-*.weights.h5"):
            if old.name != name:
                old.unlink(missing_ok=True)


def _steps_per_execution(requested: int | None, distribution: Any) -> int:
    # Keras' torch trainer refuses more than one step per call, and its multi-step loop fails
    # under tf.distribute ("You must feed a value for placeholder tensor ... while/cond").
    single = keras.backend.backend() == "torch" or hasattr(distribution, "num_replicas_in_sync")
    if requested is None:
        return 1 if single else 16
    if requested > 1 and single:
        where = "torch backend" if keras.backend.backend() == "torch" else "tf.distribute strategy"
        raise ValueError(
            f"`steps_per_execution` must be 1 (or None) with the {where}. "
            f"Received: steps_per_execution={requested}"
        )
    return requested


@keras.saving.register_keras_serializable(package="stackae")
class _DenoisingTrainer(keras.Model):
    """Clean input -> corruption -> the autoencoder, scored against the clean input itself.

    Data without targets (``y is None``) is its own target, so Keras need not hold a second,
    identical copy of the training set as ``y`` (about 180 MB for MNIST, measured).
    """

    def compute_loss(
        self,
        x: Any = None,
        y: Any = None,
        y_pred: Any = None,
        sample_weight: Any = None,
        training: bool = True,
    ) -> Any:
        y = x if y is None else y
        return super().compute_loss(x, y, y_pred, sample_weight, training)

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        return super().compute_metrics(x, x if y is None else y, y_pred, sample_weight)


def _trainer(stack: StackedAutoencoder, noise: Any, seed: int | None) -> keras.Model:
    inputs = keras.Input(shape=stack.spec.resolved_input_shape, name="clean_input")
    corrupted = inputs if noise is None else Corruption(noise, seed=seed, name="corruption")(inputs)
    return _DenoisingTrainer(inputs, stack.autoencoder(corrupted), name="denoising_trainer")


def fit(
    stack: StackedAutoencoder,
    x: Any,
    *,
    epochs: int = 10,
    batch_size: int = 256,
    noise: Any = None,
    optimizer: Any = "adam",
    learning_rate: float | None = None,
    loss: Any = "mse",
    validation_data: Any = None,
    validation_split: float = 0.0,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: Any = "auto",
    seed: int | None = None,
    checkpoint_dir: str | Path | None = None,
    shuffle: bool = True,
    steps_per_execution: int | None = None,
    jit_compile: Any = "auto",
    distribute: Any = None,
) -> keras.callbacks.History:
    """Train the autoencoder to map corrupted inputs back to the clean ones.

    Args:
        stack: The :class:`~stackae.StackedAutoencoder` to train (in place).
        x: Clean training inputs: an array, a memory-mapped array (``np.load(path,
            mmap_mode="r")``, streamed a batch at a time by :class:`ArrayBatches`), a
            ``tf.data.Dataset`` or a ``keras.utils.PyDataset`` yielding input batches. Targets
            are the inputs themselves.
        epochs: Total number of epochs (a resumed run continues up to this number).
        batch_size: Samples per step (arrays only).
        noise: Corruption applied to each training batch (fresh every batch), e.g.
            ``GaussianNoise(stddev=0.05)``, ``{"kind": "masking", "rate": 0.3}`` or
            ``"salt_and_pepper:0.1"``. ``None`` trains a plain autoencoder.
        optimizer: A Keras optimizer or its name (``"sgd"``, ``"adam"``, ...).
        learning_rate: Overrides the optimizer's learning rate.
        loss: ``"mse"``, ``"binary_crossentropy"`` or any Keras loss.
        validation_data: Clean validation inputs (scored clean -> clean).
        validation_split: Fraction of ``x`` held out instead.
        callbacks: More Keras callbacks.
        verbose: Keras' progress output: ``"auto"``, 0, 1 (bar) or 2 (a line per epoch).
        seed: Seeds Keras (weights drawn later, shuffling, dropout) and the noise.
        checkpoint_dir: Save the full training state there after every epoch; a run started
            again with the same directory resumes after the last finished epoch.
        shuffle: Shuffle arrays every epoch.
        steps_per_execution: Train steps per call into the compiled function; larger values
            cut the per-step overhead that dominates small networks. ``None``: 16, or 1 where
            Keras allows only 1 (the torch backend, ``tf.distribute`` strategies).
        jit_compile: Passed to ``Model.compile`` (XLA).
        distribute: ``None`` (one device), ``"data_parallel"`` (replicate the model on every
            device and split each batch: ``keras.distribution.DataParallel`` on JAX,
            ``tf.distribute.MirroredStrategy`` on TensorFlow), or a strategy/distribution
            object. ``batch_size`` stays the global batch. See ``docs/distributed.md``.

    Returns:
        The Keras ``History`` (also kept as ``stack.history``), with ``loss``, ``mse`` and
        ``sse`` (summed squared error per sample) on the training batches.

    Raises:
        DataError: Before training, if the data cannot be used.
        TrainingDivergedError: At the first non-finite loss; checkpoints keep the last good
            epoch.

    Example:
        >>> import numpy as np
        >>> import stackae
        >>> x = np.random.default_rng(0).random((256, 16), dtype="float32")
        >>> stack = stackae.build("16-8:relu|sigmoid", seed=0)
        >>> history = stack.fit(x, epochs=2, noise="gaussian:0.1", verbose=0, seed=0)
        >>> history.history["loss"][1] < history.history["loss"][0]
        True
    """
    spec = stack.spec
    streamed = _is_stream(x)
    if not streamed:
        x = check_data(
            x, spec.resolved_input_shape, output_activation=spec.resolved_output_activation
        )
    if validation_data is not None:
        validation_data = check_data(
            validation_data, spec.resolved_input_shape, name="validation_data"
        )
    noise = parse_noise(noise)
    if seed is not None:
        keras.utils.set_random_seed(seed)

    distribution = resolve_distribution(distribute)
    steps_per_execution = _steps_per_execution(steps_per_execution, distribution)
    with distribution_scope(stack, distribution):
        trainer = _trainer(stack, noise, seed)
        trainer.compile(
            optimizer=_make_optimizer(optimizer, learning_rate),
            loss=loss,
            metrics=[keras.metrics.MeanSquaredError(name="mse"), SummedSquaredError()],
            steps_per_execution=steps_per_execution,
            jit_compile=jit_compile,
        )
        guard = _StopOnNonFinite()
        all_callbacks = [guard, *callbacks]
        initial_epoch = 0
        if checkpoint_dir is not None:
            initial_epoch, weights = ResumableCheckpoint.last_epoch(checkpoint_dir)
            if weights is not None:
                trainer.optimizer.build(trainer.trainable_variables)
                trainer.load_weights(weights)
            all_callbacks.append(ResumableCheckpoint(checkpoint_dir))

        fit_args: dict[str, Any] = {
            "epochs": epochs,
            "initial_epoch": initial_epoch,
            "callbacks": all_callbacks,
            "verbose": verbose,
            "validation_data": validation_data,
        }
        if isinstance(x, np.memmap):
            cut = len(x) - int(round(len(x) * validation_split))
            if validation_split:
                fit_args["validation_data"] = ArrayBatches(x, batch_size, shuffle=False, start=cut)
            batches = ArrayBatches(x, batch_size, shuffle=shuffle, seed=seed, stop=cut)
            # shuffle=False: the batches shuffle themselves; Keras would reorder them again.
            history = trainer.fit(batches, shuffle=False, **fit_args)
        elif streamed:
            history = trainer.fit(x, **fit_args)  # batches of inputs: their own targets
        else:
            # No target: the trainer scores against x itself, so Keras holds the data once.
            history = trainer.fit(
                x,
                batch_size=batch_size,
                shuffle=shuffle,
                validation_split=validation_split,
                **fit_args,
            )
    if guard.bad is not None:
        epoch, value = guard.bad
        kept = (
            f" The checkpoint in '{checkpoint_dir}' still holds the last good epoch."
            if (checkpoint_dir is not None)
            else ""
        )
        raise TrainingDivergedError(
            f"Training diverged: the loss became {value} in epoch {epoch + 1}. "
            f"Try a smaller `learning_rate`, another optimizer (e.g. 'adam'), or scaled inputs."
            f"{kept} The in-memory weights are no longer usable; rebuild or reload the model."
        )
    stack.history = history
    return history


def _broadcast(value: Any, count: int, name: str) -> list[Any]:
    if isinstance(value, list | tuple) and not (name == "noise" and isinstance(value, tuple)):
        if len(value) != count:
            raise ValueError(
                f"`{name}` needs one entry per encoder layer ({count}). Received: {name}={value!r}"
            )
        return list(value)
    return [value] * count


def pretrain(
    stack: StackedAutoencoder,
    x: Any,
    *,
    epochs: int | Sequence[int] = 1,
    noise: Any = None,
    optimizer: Any = "adam",
    learning_rate: float | None = None,
    loss: Any = "mse",
    batch_size: int = 256,
    fine_tune_epochs: int = 0,
    verbose: Any = "auto",
    seed: int | None = None,
    steps_per_execution: int | None = None,
    **fine_tune_kwargs: Any,
) -> dict[str, Any]:
    """Greedy layer-wise pretraining (Vincent et al., 2010), then optional fine-tuning.

    For each encoder layer ``k`` in turn, a shallow denoising autoencoder made of the very
    layer objects of stage ``k`` (its encoder layer and its decoder mirror) is trained on the
    clean codes of the layers below, corrupted at that level. Because the layers are shared,
    the stack holds the trained weights as soon as each phase ends; lower layers are not
    touched by a later phase. Then the whole autoencoder is fine-tuned with :func:`fit`.

    Args:
        stack: The stack to train in place.
        x: Clean training inputs (array).
        epochs: Epochs per layer: one number, or one per encoder layer.
        noise: Noise per layer: one for all, or a list with one per layer (``None`` entries
            allowed). Mind clip ranges: codes of a ``tanh`` layer lie in [-1, 1].
        optimizer: Optimizer name (a fresh one per phase) for every phase.
        learning_rate: Learning rate of every phase.
        loss: Loss of the first layer's phase; deeper phases reconstruct codes with ``"mse"``.
        batch_size: Samples per step.
        fine_tune_epochs: Epochs of whole-stack training afterwards (0: none), with the first
            layer's noise unless ``noise`` is given again in ``fine_tune_kwargs``.
        verbose: Keras' progress output.
        seed: Seeds Keras and the noise of each phase.
        steps_per_execution: As in :func:`fit`.
        **fine_tune_kwargs: More arguments of :func:`fit` for the fine-tuning.

    Returns:
        ``{"layers": [History per layer], "fine_tune": History or None}``.
    """
    count = len(stack.stages)
    epochs_per_layer = _broadcast(epochs, count, "epochs")
    noise_per_layer = [parse_noise(n) for n in _broadcast(noise, count, "noise")]
    x = check_data(
        x, stack.spec.resolved_input_shape, output_activation=stack.spec.resolved_output_activation
    )
    if seed is not None:
        keras.utils.set_random_seed(seed)

    histories = []
    codes = x
    for index, stage in enumerate(stack.stages):
        inputs = keras.Input(shape=codes.shape[1:], name=f"codes_{index}")
        hidden = inputs
        if noise_per_layer[index] is not None:
            layer_seed = None if seed is None else seed + index
            hidden = Corruption(noise_per_layer[index], seed=layer_seed)(hidden)
        for layer in (*stage.encoder_layers, *stage.decoder_layers):
            hidden = layer(hidden)
        shallow = keras.Model(inputs, hidden, name=f"pretrain_stage_{index + 1}")
        shallow.compile(
            optimizer=_make_optimizer(optimizer, learning_rate),
            loss=loss if index == 0 else "mse",
            steps_per_execution=_steps_per_execution(steps_per_execution, None),
        )
        histories.append(
            shallow.fit(
                codes,
                codes,
                epochs=epochs_per_layer[index],
                batch_size=batch_size,
                shuffle=True,
                verbose=verbose,
            )
        )
        if index + 1 < count:
            code_inputs = keras.Input(shape=codes.shape[1:])
            encoded = code_inputs
            for layer in stage.encoder_layers:
                encoded = layer(encoded)
            codes = np.asarray(
                keras.Model(code_inputs, encoded).predict(codes, batch_size=1024, verbose=0)
            )

    fine_tune = None
    if fine_tune_epochs:
        fine_tune_kwargs.setdefault("noise", noise_per_layer[0])
        fine_tune = fit(
            stack,
            x,
            epochs=fine_tune_epochs,
            optimizer=optimizer,
            learning_rate=learning_rate,
            loss=loss,
            batch_size=batch_size,
            verbose=verbose,
            seed=seed,
            steps_per_execution=steps_per_execution,
            **fine_tune_kwargs,
        )
    return {"layers": histories, "fine_tune": fine_tune}


def evaluate(
    stack: StackedAutoencoder,
    x: Any,
    *,
    noise: Any = None,
    seed: int = 0,
    batch_size: int = 1024,
) -> dict[str, float]:
    """Reconstruction error on clean inputs and, with ``noise``, on a fixed noisy copy.

    Returns:
        ``mse_clean`` (mean over all values) and ``sse_clean`` (summed squared error per
        sample, averaged over samples: Hinton & Salakhutdinov's unit), and with ``noise`` the
        same for noisy -> clean (``mse_noisy``, ``sse_noisy``), the noisy copy drawn with
        ``seed``.

    Example:
        >>> import numpy as np
        >>> import stackae
        >>> stack = stackae.build("4-2:relu", seed=0)
        >>> sorted(stack.evaluate(np.ones((8, 4), dtype="float32"), noise="masking:0.5"))
        ['mse_clean', 'mse_noisy', 'sse_clean', 'sse_noisy']
    """
    clean = check_data(x, stack.spec.resolved_input_shape)
    results = reconstruction_errors(clean, stack.reconstruct(clean, batch_size=batch_size), "clean")
    parsed = parse_noise(noise)
    if parsed is not None:
        noisy = parsed.apply(clean, seed=seed)
        results.update(
            reconstruction_errors(clean, stack.reconstruct(noisy, batch_size=batch_size), "noisy")
        )
    return results
