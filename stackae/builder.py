"""Spec -> Keras models: ``build(spec)`` returns encoder, decoder and autoencoder sharing layers.

The builder reads only the spec: it knows nothing of files, data or training. Layers are made by
the kind registry (:mod:`stackae.kinds`), so a user's own kind builds like ``dense``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from stackae.kinds import get_layer_kind
from stackae.spec import LayerSpec, StackSpec

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["build", "StackedAutoencoder", "Stage"]


@dataclass(frozen=True)
class Stage:
    """One encoder layer with everything around it, and its decoder mirror.

    Attributes:
        encoder_layers: In call order: an optional ``Flatten``, an optional ``Dropout``, then the
            encoder layer itself (last).
        decoder_layers: In call order: the mirror layer itself (first), then an optional
            ``Reshape`` back to the shape the stage received.
    """

    encoder_layers: tuple[keras.layers.Layer, ...]
    decoder_layers: tuple[keras.layers.Layer, ...]

    @property
    def encoder_layer(self) -> keras.layers.Layer:
        """The stage's encoder layer (``encoder_k``)."""
        return self.encoder_layers[-1]

    @property
    def decoder_layer(self) -> keras.layers.Layer:
        """The stage's decoder mirror (``decoder_{n-k+1}``)."""
        return self.decoder_layers[0]


class StackedAutoencoder:
    """Three Keras models built from one spec, sharing their layer objects.

    Attributes:
        spec: The :class:`StackSpec` it was built from.
        encoder: ``keras.Model`` from the input to the code.
        decoder: ``keras.Model`` from the code back to the input's shape.
        autoencoder: ``keras.Model`` from the input to its reconstruction, made of the same
            layers: training it changes what ``encoder`` and ``decoder`` compute.
        stages: One :class:`Stage` per encoder layer, used by layer-wise pretraining.
        history: The ``keras.callbacks.History`` of the last :meth:`fit`, or ``None``.

    Example:
        >>> import numpy as np
        >>> import stackae
        >>> stack = stackae.build("8-4:relu-2:tanh|sigmoid", seed=0)
        >>> [layer.name for layer in stack.autoencoder.layers[1:]]
        ['encoder_1', 'encoder_2', 'decoder_1', 'decoder_2']
        >>> stack.encode(np.zeros((3, 8), dtype="float32")).shape
        (3, 2)
    """

    def __init__(
        self,
        spec: StackSpec,
        encoder: keras.Model,
        decoder: keras.Model,
        autoencoder: keras.Model,
        stages: Sequence[Stage],
        seed: int | None = None,
    ) -> None:
        self.spec = spec
        self.encoder = encoder
        self.decoder = decoder
        self.autoencoder = autoencoder
        self.stages = tuple(stages)
        self.seed = seed
        self.history: keras.callbacks.History | None = None

    @property
    def encoder_layers(self) -> list[keras.layers.Layer]:
        """The encoder's weight layers, input side first."""
        return [stage.encoder_layer for stage in self.stages]

    @property
    def decoder_layers(self) -> list[keras.layers.Layer]:
        """The decoder's weight layers, code side first."""
        return [stage.decoder_layer for stage in reversed(self.stages)]

    def count_params(self) -> int:
        """Number of weights in the autoencoder (a tied kernel counts once)."""
        return int(self.autoencoder.count_params())

    # === Inference ===

    def encode(self, x: Any, batch_size: int = 1024) -> np.ndarray:
        """Codes of ``x``, computed in batches of ``batch_size``."""
        return _predict(self.encoder, x, batch_size)

    def decode(self, codes: Any, batch_size: int = 1024) -> np.ndarray:
        """Reconstructions from codes, in batches."""
        return _predict(self.decoder, codes, batch_size)

    def reconstruct(self, x: Any, batch_size: int = 1024) -> np.ndarray:
        """``decode(encode(x))`` in one pass of the autoencoder, in batches."""
        return _predict(self.autoencoder, x, batch_size)

    # === Training, evaluation and files (see stackae.training and stackae.io) ===

    def fit(self, x: Any, **kwargs: Any) -> keras.callbacks.History:
        """Train noisy -> clean; see :func:`stackae.training.fit` for the arguments."""
        from stackae import training

        return training.fit(self, x, **kwargs)

    def pretrain(self, x: Any, **kwargs: Any) -> dict[str, Any]:
        """Layer-wise pretraining, then fine-tuning; see :func:`stackae.training.pretrain`."""
        from stackae import training

        return training.pretrain(self, x, **kwargs)

    def evaluate(self, x: Any, **kwargs: Any) -> dict[str, float]:
        """Reconstruction metrics; see :func:`stackae.training.evaluate`."""
        from stackae import training

        return training.evaluate(self, x, **kwargs)

    def save(self, path: str | Path) -> Path:
        """Save spec and weights to a directory; see :func:`stackae.io.save`."""
        from stackae import io

        return io.save(self, path)

    def __repr__(self) -> str:
        shape = "x".join(str(v) for v in self.spec.resolved_input_shape)
        widths = "-".join(str(layer.units) for layer in self.spec.encoder)
        tied = ", tied" if self.spec.tied_weights else ""
        return f"StackedAutoencoder({shape}-{widths}{tied}, params={self.count_params():,})"


def _predict(model: keras.Model, x: Any, batch_size: int) -> np.ndarray:
    from stackae.training import check_data

    x = check_data(x, model.input_shape[1:], name="x")
    if isinstance(x, np.memmap):  # read a batch at a time, not the whole file
        from stackae.training import ArrayBatches

        return np.asarray(model.predict(ArrayBatches(x, batch_size, shuffle=False), verbose=0))
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0))


def _initializer(name: str, seed: int | None) -> Any:
    initializer = keras.initializers.get(name)
    config = initializer.get_config()
    if seed is not None and "seed" in config:
        initializer = initializer.__class__.from_config({**config, "seed": seed})
    return initializer


def _regularizer(l1: float, l2: float) -> keras.regularizers.Regularizer | None:
    return keras.regularizers.L1L2(l1=l1, l2=l2) if (l1 or l2) else None


def _keras_kwargs(layer: LayerSpec, name: str, seed: int | None) -> dict[str, Any]:
    return {
        "activation": layer.activation,
        "use_bias": layer.use_bias,
        "kernel_initializer": _initializer(layer.kernel_initializer, seed),
        "kernel_regularizer": _regularizer(layer.kernel_l1, layer.kernel_l2),
        "activity_regularizer": _regularizer(layer.activity_l1, layer.activity_l2),
        "name": name,
    }


def _offset(seed: int | None, offset: int) -> int | None:
    return None if seed is None else seed + offset


def _apply(tensor: Any, layers: Sequence[keras.layers.Layer]) -> Any:
    for layer in layers:
        tensor = layer(tensor)
    return tensor


def build(spec: StackSpec | dict[str, Any] | str, *, seed: int | None = None) -> StackedAutoencoder:
    """Build the encoder, decoder and autoencoder described by ``spec``.

    Args:
        spec: A :class:`StackSpec`, its dict form, or the one-line shorthand.
        seed: Seed of every initializer and dropout layer; the same seed builds the same
            weights. ``None`` draws from Keras' global generator.

    Returns:
        A :class:`StackedAutoencoder`. Layers are named ``encoder_1`` ... ``encoder_n`` from the
        input and ``decoder_1`` ... ``decoder_n`` from the code.

    Raises:
        SpecError: If ``spec`` is not a valid spec (raised before any layer is made).

    Example:
        >>> import stackae
        >>> stack = stackae.build(stackae.StackSpec.from_preset("skansi_book"))
        >>> stack.count_params()
        222384
        >>> stack.encoder.output_shape, stack.decoder.output_shape
        ((None, 32), (None, 784))
    """
    if not isinstance(spec, StackSpec):
        spec = StackSpec.model_validate(spec)
    plan = spec.stage_plan()
    mirrors = spec.decoder_layers
    count = len(spec.encoder)

    # === Layers ===
    stages = []
    for i, (layer, step) in enumerate(zip(spec.encoder, plan)):
        kind = get_layer_kind(layer.kind)
        position, mirror_position = i + 1, count - i
        encoder_layers: list[keras.layers.Layer] = []
        if step["flatten"]:
            encoder_layers.append(keras.layers.Flatten(name=f"encoder_{position}_flatten"))
        if layer.dropout:
            encoder_layers.append(
                keras.layers.Dropout(
                    layer.dropout,
                    seed=_offset(seed, 2 * count + i),
                    name=f"encoder_{position}_dropout",
                )
            )
        encoder_layer = kind.build_encoder(
            layer, **_keras_kwargs(layer, f"encoder_{position}", _offset(seed, i))
        )
        encoder_layers.append(encoder_layer)

        mirror = mirrors[count - 1 - i]
        mirror_kwargs = _keras_kwargs(
            mirror, f"decoder_{mirror_position}", _offset(seed, count + i)
        )
        target_shape = step["layer_input_shape"]
        if spec.tied_weights:
            assert kind.build_tied_decoder is not None  # checked by the spec
            decoder_layer = kind.build_tied_decoder(
                encoder_layer, mirror, target_shape, **mirror_kwargs
            )
        else:
            decoder_layer = kind.build_decoder(mirror, target_shape, **mirror_kwargs)
        decoder_layers = [decoder_layer]
        if step["flatten"]:
            decoder_layers.append(
                keras.layers.Reshape(step["input_shape"], name=f"decoder_{mirror_position}_reshape")
            )
        stages.append(Stage(tuple(encoder_layers), tuple(decoder_layers)))

    # === Functional models ===
    encoder_sequence = [layer for stage in stages for layer in stage.encoder_layers]
    decoder_sequence = [layer for stage in reversed(stages) for layer in stage.decoder_layers]
    inputs = keras.Input(shape=spec.resolved_input_shape, name="input")
    code = _apply(inputs, encoder_sequence)
    encoder = keras.Model(inputs, code, name="encoder")
    autoencoder = keras.Model(inputs, _apply(code, decoder_sequence), name="autoencoder")
    code_input = keras.Input(shape=spec.code_shape, name="code")
    decoder = keras.Model(code_input, _apply(code_input, decoder_sequence), name="decoder")

    return StackedAutoencoder(spec, encoder, decoder, autoencoder, stages, seed=seed)
