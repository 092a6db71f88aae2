"""Data-parallel training through the backend's own machinery (Keras distribution, tf.distribute).

``fit(..., distribute="data_parallel")`` replicates the model on every device the backend sees
and splits each batch between them: ``keras.distribution.DataParallel`` on JAX,
``tf.distribute.MirroredStrategy`` on TensorFlow. Any other ``tf.distribute.Strategy``
(``MultiWorkerMirroredStrategy``, ``TPUStrategy``) or ``keras.distribution.Distribution`` may be
passed instead of the name.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from stackae.errors import SpecError

if TYPE_CHECKING:
    from stackae.builder import StackedAutoencoder

__all__ = ["DISTRIBUTE_CHOICES", "resolve_distribution", "distribution_scope", "replica_count"]

#: The names ``distribute`` accepts (``None`` is the same as ``"none"``).
DISTRIBUTE_CHOICES = ("none", "data_parallel")


def resolve_distribution(distribute: Any) -> Any:
    """The strategy or distribution object that ``distribute`` stands for, or ``None``.

    Args:
        distribute: ``None``/``"none"`` (one device), ``"data_parallel"`` (every device of the
            backend), a ``tf.distribute.Strategy`` (TensorFlow) or a
            ``keras.distribution.Distribution`` (JAX).

    Raises:
        SpecError: For an unknown name, or a name the current backend cannot run.

    Example:
        >>> from stackae.distribute import resolve_distribution
        >>> resolve_distribution("none") is None
        True
        >>> resolve_distribution("model_parallel")
        Traceback (most recent call last):
        ...
        stackae.errors.SpecError: Unknown `distribute`; allowed: none, data_parallel, ...
    """
    if distribute is None or (isinstance(distribute, str) and distribute.lower() == "none"):
        return None
    if not isinstance(distribute, str):
        if not hasattr(distribute, "scope"):
            raise SpecError(
                "`distribute` must be a name, a tf.distribute.Strategy or a "
                f"keras.distribution.Distribution. Received: distribute={distribute!r}"
            )
        return distribute
    if distribute.lower() not in DISTRIBUTE_CHOICES:
        raise SpecError(
            f"Unknown `distribute`; allowed: {', '.join(DISTRIBUTE_CHOICES)}, a "
            f"tf.distribute.Strategy or a keras.distribution.Distribution. "
            f"Received: distribute={distribute!r}"
        )
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        return keras.distribution.DataParallel(devices=keras.distribution.list_devices())
    if backend == "tensorflow":
        import tensorflow as tf

        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([device.name for device in devices])
    raise SpecError(
        "`distribute='data_parallel'` needs the JAX or TensorFlow backend (Keras has no "
        f"distribution API for {backend!r}). Received: KERAS_BACKEND={backend!r}"
    )


def replica_count(distribution: Any) -> int:
    """How many copies of the model train side by side (1 without a distribution)."""
    if distribution is None:
        return 1
    if hasattr(distribution, "num_replicas_in_sync"):
        return int(distribution.num_replicas_in_sync)
    return int(distribution.device_mesh.devices.size)


@contextlib.contextmanager
def distribution_scope(stack: StackedAutoencoder, distribution: Any) -> Iterator[None]:
    """Enter ``distribution``'s scope with ``stack``'s models re-created inside it.

    Both ``tf.distribute`` and Keras' distribution place a variable when it is created, so the
    models are rebuilt in the scope from the spec and given the current weights; ``stack`` then
    holds the new models (layer objects held from before no longer belong to it).
    """
    if distribution is None:
        yield
        return
    from stackae.builder import build

    with distribution.scope():
        fresh = build(stack.spec, seed=stack.seed)
        fresh.autoencoder.set_weights(stack.autoencoder.get_weights())
        stack.encoder, stack.decoder = fresh.encoder, fresh.decoder
        stack.autoencoder, stack.stages = fresh.autoencoder, fresh.stages
        yield
