"""Keras layers stackae adds: a tied-weight dense mirror and a training-only corruption layer.

Both are registered as serializable (package ``stackae``), so models that contain them save with
``model.save`` and load with ``keras.models.load_model`` (``safe_mode`` stays on).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from stackae.noise import parse_noise

__all__ = ["TiedDense", "Corruption"]


@keras.saving.register_keras_serializable(package="stackae")
class TiedDense(keras.layers.Layer):
    """A dense layer whose kernel is the transpose of another ``Dense`` layer's kernel.

    The mirror layer owns only its bias; the kernel is read from ``tied_to`` at every call, so
    training either layer trains both. ``tied_to`` is tracked as a sublayer and serialized by
    reference: inside one saved model both names resolve to the same layer object.

    Args:
        tied_to: The built ``keras.layers.Dense`` whose kernel ``(in, out)`` this layer uses as
            ``(out, in)``.
        activation: Activation name or callable.
        use_bias: Whether to add a bias of size ``tied_to``'s input width.

    Input shape:
        ``(batch, tied_to.units)``.

    Output shape:
        ``(batch, tied_to's input width)``.

    Example:
        >>> import keras
        >>> from stackae.layers import TiedDense
        >>> dense = keras.layers.Dense(3)
        >>> dense.build((None, 5))
        >>> tuple(TiedDense(dense)(keras.ops.ones((2, 3))).shape)
        (2, 5)
    """

    def __init__(
        self,
        tied_to: keras.layers.Dense,
        activation: Any = None,
        use_bias: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(tied_to, keras.layers.Dense):
            raise ValueError(
                "`tied_to` must be a `keras.layers.Dense` layer. "
                f"Received: tied_to={type(tied_to).__name__}"
            )
        self.tied_to = tied_to
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias

    @property
    def units(self) -> int:
        """Output width: the input width of the tied layer."""
        return int(self.tied_to.kernel.shape[0])

    @property
    def effective_kernel(self) -> Any:
        """The ``(in, out)`` matrix this layer multiplies by: the tied kernel, transposed."""
        return ops.transpose(self.tied_to.kernel)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if not self.tied_to.built:
            raise ValueError(
                f"`TiedDense` {self.name!r} needs its `tied_to` layer {self.tied_to.name!r} built "
                "first (call the encoder before the decoder)."
            )
        if input_shape[-1] != self.tied_to.units:
            raise ValueError(
                f"`TiedDense` {self.name!r} expects inputs of width {self.tied_to.units} (the "
                f"output of {self.tied_to.name!r}). Received: input_shape={input_shape}"
            )
        self.bias = (
            self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
            if self.use_bias
            else None
        )

    def call(self, inputs: Any) -> Any:
        outputs = ops.matmul(inputs, ops.transpose(ops.cast(self.tied_to.kernel, inputs.dtype)))
        if self.bias is not None:
            outputs = ops.add(outputs, ops.cast(self.bias, inputs.dtype))
        return self.activation(outputs)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        return {
            **config,
            "tied_to": keras.saving.serialize_keras_object(self.tied_to),
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TiedDense:
        config = dict(config)
        # Within one model file this returns the very Dense layer the encoder uses.
        config["tied_to"] = keras.saving.deserialize_keras_object(config["tied_to"])
        return cls(**config)


@keras.saving.register_keras_serializable(package="stackae")
class Corruption(keras.layers.Layer):
    """Corrupt the input during training only; identity at inference.

    Fresh noise is drawn on every call from a ``keras.random.SeedGenerator``, so each batch of
    each epoch sees new noise, inside the compiled train step, reproducibly from ``seed``.

    Args:
        noise: A :mod:`stackae.noise` object, its dict, or a string such as ``"gaussian:0.05"``.
        seed: Seed of the generator (``None`` for a random one).

    Example:
        >>> import numpy as np
        >>> from stackae.layers import Corruption
        >>> layer = Corruption("masking:0.5", seed=1)
        >>> x = np.ones((4, 10), dtype="float32")
        >>> bool((np.asarray(layer(x)) == x).all())
        True
        >>> bool((np.asarray(layer(x, training=True)) == 0).any())
        True
    """

    def __init__(self, noise: Any, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        parsed = parse_noise(noise)
        if parsed is None:
            raise ValueError("`Corruption` needs a noise. Received: noise=None")
        self.noise = parsed
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if not training:
            return inputs
        return self.noise.corrupt(inputs, _per_replica(self.seed_generator))

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "noise": self.noise.model_dump(mode="json"),
            "seed": self.seed,
        }


class _ReplicaSeed(keras.random.SeedGenerator):
    """A generator's next seed, shifted by the tf.distribute replica id."""

    def __init__(self, inner: keras.random.SeedGenerator, replica: Any) -> None:
        # No super().__init__(): this draws from ``inner`` and owns no state variable.
        self.inner = inner
        self.replica = replica

    def next(self, ordered: bool = True) -> Any:
        seed = self.inner.next(ordered)
        return seed + keras.ops.cast(keras.ops.stack([0, self.replica]), seed.dtype)


def _per_replica(generator: keras.random.SeedGenerator) -> keras.random.SeedGenerator:
    """Under tf.distribute every replica holds a copy of the generator's state, so replicas
    would corrupt their shares of a batch identically; shifting by the replica id keeps the
    draws independent. (JAX's DataParallel draws once for the whole batch.)"""
    if keras.backend.backend() != "tensorflow":
        return generator
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return generator
    return _ReplicaSeed(generator, context.replica_id_in_sync_group)
