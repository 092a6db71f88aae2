"""Find where a stacked autoencoder starts to widen, by layer, not by an index into weights.

The book takes ``autoencoder.get_weights()[len/2]`` as the first matrix whose output is wider
than its input. That index only works while every layer has exactly a kernel and a bias and the
stack is symmetric. These functions walk the layers in graph order instead, look only at 2-D
kernels (a :class:`~stackae.layers.TiedDense` counts with its transposed, effective matrix), and
skip everything else: biases, dropout, normalization, convolutions.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import keras
import numpy as np

__all__ = ["first_widening_layer", "first_widening_kernel", "weight_matrices"]


def _as_model(model: Any) -> keras.Model:
    autoencoder = getattr(model, "autoencoder", None)  # a StackedAutoencoder
    if isinstance(autoencoder, keras.Model):
        return autoencoder
    if isinstance(model, keras.Model):
        return model
    raise TypeError(
        "Expected a `keras.Model` or a `stackae.StackedAutoencoder`. "
        f"Received: model={type(model).__name__}"
    )


def _walk(model: keras.Model) -> Iterator[keras.layers.Layer]:
    for layer in model.layers:
        if isinstance(layer, keras.Model):  # nested encoder/decoder models, in graph order
            yield from _walk(layer)
        else:
            yield layer


def _matrix(layer: keras.layers.Layer) -> Any | None:
    kernel = getattr(layer, "effective_kernel", None)
    if kernel is None:
        try:
            kernel = layer.kernel
        except (AttributeError, ValueError):  # no kernel, or not built
            return None
    return kernel if kernel is not None and len(kernel.shape) == 2 else None


def weight_matrices(model: Any) -> list[tuple[keras.layers.Layer, np.ndarray]]:
    """Every 2-D weight matrix ``(in, out)`` in graph order, with the layer that applies it.

    Example:
        >>> import stackae
        >>> stack = stackae.build("6-4-2", seed=0)
        >>> [(layer.name, w.shape) for layer, w in stackae.weight_matrices(stack)]
        [('encoder_1', (6, 4)), ('encoder_2', (4, 2)), ('decoder_1', (2, 4)), ('decoder_2', (4, 6))]
    """
    found = []
    for layer in _walk(_as_model(model)):
        matrix = _matrix(layer)
        if matrix is not None:
            found.append((layer, keras.ops.convert_to_numpy(matrix)))
    return found


def first_widening_layer(model: Any) -> keras.layers.Layer:
    """The first layer, in graph order, whose 2-D kernel maps to a wider output than its input.

    Args:
        model: A ``StackedAutoencoder`` (its ``autoencoder`` is searched) or any Keras model,
            e.g. one written by hand; nested models are searched in order.

    Raises:
        ValueError: Naming the model and the matrices seen, if no kernel widens.

    Example:
        >>> import stackae
        >>> stack = stackae.build(stackae.StackSpec.from_preset("skansi_book"))
        >>> stackae.first_widening_layer(stack).name
        'decoder_1'
    """
    keras_model = _as_model(model)
    matrices = weight_matrices(keras_model)
    for layer, matrix in matrices:
        if matrix.shape[1] > matrix.shape[0]:
            return layer
    seen = ", ".join(f"{layer.name} {matrix.shape}" for layer, matrix in matrices) or "none"
    raise ValueError(
        f"No 2-D kernel in model {keras_model.name!r} widens (output wider than input); "
        f"matrices seen, as (in, out): {seen}. Received: model={keras_model.name!r}"
    )


def first_widening_kernel(model: Any) -> np.ndarray:
    """The first widening weight matrix as a numpy array of shape ``(in, out)``, ``out > in``.

    For the book's 784-128-64-32-64-128-784 model this is the ``(32, 64)`` matrix of the first
    decoder layer, however many biases or other layers there are.

    Example:
        >>> import stackae
        >>> stack = stackae.build(stackae.StackSpec.from_preset("skansi_book"))
        >>> stackae.first_widening_kernel(stack).shape
        (32, 64)
    """
    return keras.ops.convert_to_numpy(_matrix(first_widening_layer(model)))
