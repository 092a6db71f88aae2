"""The registry of layer kinds: what a ``LayerSpec.kind`` name means to the spec and the builder.

A kind bundles everything stackae needs to know about one sort of layer:

* its own options, as a pydantic model (checked when the spec is validated);
* the rank of the per-sample input it works on (1 for dense, 3 for conv2d), so the builder knows
  where to flatten and reshape;
* how it changes the per-sample shape, so a spec can be checked without building anything;
* how to build the encoder layer, its mirror in the decoder and, optionally, a tied mirror.

This module never imports Keras at import time: the build functions import it when they run.

Example:
    >>> import stackae
    >>> sorted(stackae.layer_kinds())[:2]
    ['conv2d', 'dense']
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

if TYPE_CHECKING:
    from stackae.spec import LayerSpec

__all__ = [
    "LayerKind",
    "register_layer_kind",
    "get_layer_kind",
    "layer_kinds",
    "DenseOptions",
    "Conv2DOptions",
]

Shape = tuple[int, ...]
# build_encoder(layer, **keras_kwargs) -> keras layer
EncoderBuilder = Callable[..., Any]
# build_decoder(layer, output_shape, **keras_kwargs) -> keras layer
DecoderBuilder = Callable[..., Any]
# build_tied_decoder(encoder_layer, layer, output_shape, **keras_kwargs) -> keras layer
TiedDecoderBuilder = Callable[..., Any]


@dataclass(frozen=True)
class LayerKind:
    """What the spec and the builder need to know about one kind of layer.

    Args:
        name: The name used in specs (``kind: dense``).
        options: A pydantic model of the kind's own options (``LayerSpec.options``).
        input_rank: Rank of the per-sample input the layer works on; the builder flattens a
            higher-rank input before a rank-1 kind and refuses a lower-rank one.
        output_shape: ``(input_shape, layer) -> output_shape`` for one sample; raises
            ``ValueError`` with a clear message when the layer cannot be mirrored exactly.
        build_encoder: ``(layer, **keras_kwargs) -> keras.layers.Layer``.
        build_decoder: ``(layer, output_shape, **keras_kwargs) -> keras.layers.Layer``: the
            mirror that maps the layer's output shape back to ``output_shape``.
        build_tied_decoder: Optional ``(encoder_layer, layer, output_shape, **keras_kwargs)``
            returning a mirror that reuses the encoder layer's kernel. ``None`` means the kind
            cannot be used with ``tied_weights=True``.
    """

    name: str
    options: type[BaseModel]
    input_rank: int
    output_shape: Callable[[Shape, LayerSpec], Shape]
    build_encoder: EncoderBuilder
    build_decoder: DecoderBuilder
    build_tied_decoder: TiedDecoderBuilder | None = None

    @property
    def supports_tied_weights(self) -> bool:
        """Whether a decoder layer of this kind can share its mirror's kernel."""
        return self.build_tied_decoder is not None


_REGISTRY: dict[str, LayerKind] = {}


def register_layer_kind(kind: LayerKind, *, overwrite: bool = False) -> LayerKind:
    """Make a layer kind usable by name in specs (Python, YAML and JSON alike).

    Args:
        kind: The kind to register.
        overwrite: Replace a kind already registered under the same name.

    Returns:
        The kind, so the call can be used as an expression.

    Raises:
        ValueError: If the name is taken and ``overwrite`` is false.

    Example:
        >>> import keras
        >>> from pydantic import BaseModel
        >>> import stackae
        >>> class NoOptions(BaseModel):
        ...     pass
        >>> kind = stackae.LayerKind(
        ...     name="biasless_dense",
        ...     options=NoOptions,
        ...     input_rank=1,
        ...     output_shape=lambda shape, layer: (layer.units,),
        ...     build_encoder=lambda layer, **kw: keras.layers.Dense(
        ...         layer.units, **{**kw, "use_bias": False}),
        ...     build_decoder=lambda layer, shape, **kw: keras.layers.Dense(
        ...         shape[-1], **{**kw, "use_bias": False}),
        ... )
        >>> _ = stackae.register_layer_kind(kind)
        >>> spec = stackae.StackSpec(input_dim=8, encoder=[{"kind": "biasless_dense", "units": 4}])
        >>> stackae.build(spec).autoencoder.count_params()
        64
    """
    if not kind.name or not kind.name.replace("_", "").isalnum():
        raise ValueError(
            "A layer kind name must be a non-empty identifier (letters, digits, `_`). "
            f"Received: name={kind.name!r}"
        )
    if kind.name in _REGISTRY and not overwrite:
        raise ValueError(
            f"A layer kind named `{kind.name}` is already registered; pass `overwrite=True` to "
            f"replace it. Received: name={kind.name!r}"
        )
    _REGISTRY[kind.name] = kind
    return kind


def get_layer_kind(name: str) -> LayerKind:
    """Look a kind up by name.

    Raises:
        ValueError: Naming the known kinds, if ``name`` is not registered.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise ValueError(
            f"Unknown layer `kind`; known kinds are: {known} (add one with "
            f"`stackae.register_layer_kind`). Received: kind={name!r}"
        ) from None


def layer_kinds() -> dict[str, LayerKind]:
    """A copy of the registry: name -> kind."""
    return dict(_REGISTRY)


# === dense ===


class DenseOptions(BaseModel):
    """``dense`` has no options beyond the common ``LayerSpec`` fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _dense_output_shape(shape: Shape, layer: LayerSpec) -> Shape:
    return (layer.units,)


def _dense_encoder(layer: LayerSpec, **kwargs: Any) -> Any:
    import keras

    return keras.layers.Dense(layer.units, **kwargs)


def _dense_decoder(layer: LayerSpec, output_shape: Shape, **kwargs: Any) -> Any:
    import keras

    return keras.layers.Dense(output_shape[-1], **kwargs)


def _dense_tied_decoder(encoder_layer: Any, layer: LayerSpec, output_shape: Shape, **kwargs: Any):
    from stackae.layers import TiedDense

    kwargs.pop("kernel_initializer", None)  # the kernel belongs to the encoder layer
    kwargs.pop("kernel_regularizer", None)  # regularized once, where it lives
    kwargs.pop("activity_regularizer", None)
    return TiedDense(encoder_layer, **kwargs)


# === conv2d ===


class Conv2DOptions(BaseModel):
    """Options of the ``conv2d`` kind (mirrored by ``Conv2DTranspose``).

    Attributes:
        kernel_size: Height and width of the window, one int for a square one.
        strides: Step of the window, one int for both axes.
        padding: ``"same"`` or ``"valid"``, as in ``keras.layers.Conv2D``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kernel_size: int | tuple[int, int] = 3
    strides: int | tuple[int, int] = 1
    padding: Literal["same", "valid"] = "same"

    @field_validator("kernel_size", "strides")
    @classmethod
    def _positive(cls, value: int | tuple[int, int], info: ValidationInfo) -> Any:
        pair = (value, value) if isinstance(value, int) else value
        if any(v <= 0 for v in pair):
            raise ValueError(
                f"`{info.field_name}` must be a positive integer or a pair of them. "
                f"Received: {info.field_name}={value!r}"
            )
        return value

    def pair(self, name: Literal["kernel_size", "strides"]) -> tuple[int, int]:
        """The option as a ``(height, width)`` pair."""
        value = getattr(self, name)
        return (value, value) if isinstance(value, int) else value


def _conv2d_output_shape(shape: Shape, layer: LayerSpec) -> Shape:
    options = Conv2DOptions.model_validate(layer.options)
    kernel, strides = options.pair("kernel_size"), options.pair("strides")
    out = []
    for axis, size, k, s in zip(("height", "width"), shape[:2], kernel, strides):
        # Conv2DTranspose can only give back `size` when the convolution dropped nothing.
        if options.padding == "same":
            if size % s:
                raise ValueError(
                    f"A `conv2d` layer with strides={s} and padding='same' cannot be mirrored "
                    f"exactly: the input {axis} {size} is not a multiple of the stride. Use an "
                    f"input whose {axis} is divisible by {s}, or other strides. "
                    f"Received: input_shape={shape}"
                )
            out.append(size // s)
        else:
            if size < k or (size - k) % s:
                raise ValueError(
                    f"A `conv2d` layer with kernel_size={k}, strides={s} and padding='valid' "
                    f"cannot be mirrored exactly: ({axis} {size} - kernel {k}) must be a "
                    f"non-negative multiple of the stride. Received: input_shape={shape}"
                )
            out.append((size - k) // s + 1)
    return (out[0], out[1], layer.units)


def _conv2d_encoder(layer: LayerSpec, **kwargs: Any) -> Any:
    import keras

    options = Conv2DOptions.model_validate(layer.options)
    return keras.layers.Conv2D(
        layer.units,
        kernel_size=options.kernel_size,
        strides=options.strides,
        padding=options.padding,
        **kwargs,
    )


def _conv2d_decoder(layer: LayerSpec, output_shape: Shape, **kwargs: Any) -> Any:
    import keras

    options = Conv2DOptions.model_validate(layer.options)
    return keras.layers.Conv2DTranspose(
        output_shape[-1],
        kernel_size=options.kernel_size,
        strides=options.strides,
        padding=options.padding,
        **kwargs,
    )


register_layer_kind(
    LayerKind(
        name="dense",
        options=DenseOptions,
        input_rank=1,
        output_shape=_dense_output_shape,
        build_encoder=_dense_encoder,
        build_decoder=_dense_decoder,
        build_tied_decoder=_dense_tied_decoder,
    )
)
register_layer_kind(
    LayerKind(
        name="conv2d",
        options=Conv2DOptions,
        input_rank=3,
        output_shape=_conv2d_output_shape,
        build_encoder=_conv2d_encoder,
        build_decoder=_conv2d_decoder,
    )
)


def flat_size(shape: Shape) -> int:
    """Number of values in one sample of ``shape``."""
    return math.prod(shape)
