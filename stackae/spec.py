"""The declarative spec of a stacked autoencoder: plain, validated data that builds nothing.

A :class:`StackSpec` names the input, the encoder layers (the last one is the code) and how the
decoder is made. By default the decoder mirrors the encoder; ``decoder_activations`` overrides its
activations so that a published architecture whose decoder is not a mirror image can be rebuilt
exactly. The spec is the builder's configuration: ``build(spec)`` needs nothing else.

Three ways to write one, all giving equal specs:

* Python: ``StackSpec(input_dim=784, encoder=[LayerSpec(units=128, activation="relu"), ...])``
* a dict, JSON or YAML file: ``StackSpec.from_dict(...)``, ``StackSpec.from_yaml(path)``
* the one-line shorthand: ``StackSpec.parse("784-128:relu-64:tanh-32:relu")``

Example:
    >>> from stackae import StackSpec
    >>> spec = StackSpec.parse("784-128:relu-64:tanh-32:relu|sigmoid")
    >>> [(layer.units, layer.activation) for layer in spec.decoder_layers]
    [(64, 'tanh'), (128, 'relu'), (784, 'sigmoid')]
    >>> StackSpec.from_yaml_text(spec.to_yaml()) == spec
    True
"""

from __future__ import annotations

import difflib
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import ValidationError, ValidationInfo, field_validator, model_validator

from stackae.errors import SpecError, ValidatedModel, format_validation_error
from stackae.kinds import Shape, get_layer_kind

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "PRESETS",
    "LayerSpec",
    "StackSpec",
    "read_spec_source",
]

# Activation names Keras 3 resolves with `keras.activations.get` and that need no extra argument
# (`threshold` does, so it is left out). Kept static so validating a spec never imports Keras;
# tests/test_spec.py checks the list against the installed Keras.
ACTIVATIONS: tuple[str, ...] = (
    "celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu",
    "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish",
    "relu", "relu6", "selu", "sigmoid", "silu", "soft_shrink", "softmax", "softplus", "softsign",
    "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh", "tanh_shrink",
)  # fmt: skip

INITIALIZERS: tuple[str, ...] = (
    "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal",
    "lecun_uniform", "orthogonal", "random_normal", "random_uniform", "truncated_normal",
    "variance_scaling", "zeros", "ones",
)  # fmt: skip


def _check_name(value: Any, field: str, allowed: tuple[str, ...], what: str) -> str:
    if isinstance(value, str) and value in allowed:
        return value
    hint = ""
    if isinstance(value, str):
        close = difflib.get_close_matches(value.lower(), allowed, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"Unknown {what} for `{field}`.{hint} Allowed: {', '.join(allowed)}. "
        f"Received: {field}={value!r}"
    )


def check_activation(value: Any, field: str = "activation") -> str:
    """Return ``value`` if Keras knows it as an activation name, else raise ``ValueError``."""
    return _check_name(value, field, ACTIVATIONS, "activation")


def _positive_int(value: Any, field: str) -> int:
    # bool is an int in Python, and 3.0 would silently pass pydantic's lax mode: refuse both.
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"`{field}` must be a positive integer. Received: {field}={value!r}")
    if value <= 0:
        raise ValueError(f"`{field}` must be a positive integer. Received: {field}={value!r}")
    return int(value)


class LayerSpec(ValidatedModel):
    """One encoder layer; its decoder mirror is derived from it.

    Attributes:
        units: Positive integer, width of the layer's output: units of a ``dense`` layer, output
            channels (filters) of a ``conv2d`` one.
        activation: Name of a Keras activation (``"relu"``, ``"tanh"``, ``"linear"``, ...).
        kind: Registered layer kind (``"dense"``, ``"conv2d"`` or one added with
            :func:`stackae.register_layer_kind`).
        use_bias: Whether the layer (and its mirror) has a bias vector.
        dropout: Fraction of the layer's *input* dropped during training, in ``[0, 1)``.
        kernel_initializer: Name of a Keras initializer for the kernel (and its mirror's).
        kernel_l1: L1 penalty on the kernel (and its mirror's), ``>= 0``.
        kernel_l2: L2 penalty on the kernel (and its mirror's), ``>= 0``.
        activity_l1: L1 penalty on this layer's output (sparse autoencoders), ``>= 0``.
        activity_l2: L2 penalty on this layer's output, ``>= 0``.
        options: The kind's own options (``kernel_size``, ``strides``, ``padding`` for
            ``conv2d``), checked against the kind's options model.

    Example:
        >>> from stackae import LayerSpec
        >>> LayerSpec(units=32, activation="tanh", dropout=0.1).units
        32
    """

    units: int
    activation: str = "relu"
    kind: str = "dense"
    use_bias: bool = True
    dropout: float = 0.0
    kernel_initializer: str = "glorot_uniform"
    kernel_l1: float = 0.0
    kernel_l2: float = 0.0
    activity_l1: float = 0.0
    activity_l2: float = 0.0
    options: dict[str, Any] = {}

    @field_validator("units", mode="before")
    @classmethod
    def _units(cls, value: Any) -> int:
        return _positive_int(value, "units")

    @field_validator("activation")
    @classmethod
    def _activation(cls, value: str) -> str:
        return check_activation(value)

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        get_layer_kind(value)
        return value

    @field_validator("kernel_initializer")
    @classmethod
    def _initializer(cls, value: str) -> str:
        return _check_name(value, "kernel_initializer", INITIALIZERS, "initializer")

    @field_validator("dropout")
    @classmethod
    def _dropout(cls, value: float) -> float:
        if not 0.0 <= value < 1.0:
            raise ValueError(f"`dropout` must be a fraction in [0, 1). Received: dropout={value!r}")
        return value

    @field_validator("kernel_l1", "kernel_l2", "activity_l1", "activity_l2")
    @classmethod
    def _penalty(cls, value: float, info: ValidationInfo) -> float:
        if not (math.isfinite(value) and value >= 0.0):
            name = info.field_name
            raise ValueError(f"`{name}` must be a finite number >= 0. Received: {name}={value!r}")
        return value

    @field_validator("options")
    @classmethod
    def _options(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        kind_name = info.data.get("kind")
        if kind_name is None:  # the kind itself was invalid and is reported already
            return value
        kind = get_layer_kind(kind_name)
        try:
            options = kind.options.model_validate(value)
        except ValidationError as error:
            # A SpecError is a ValueError: pydantic keeps it, and its lines get flattened.
            raise format_validation_error(error, f"`options` of layer kind `{kind_name}`") from None
        # Defaults dropped so equal layers compare and serialize equal.
        return options.model_dump(mode="json", exclude_defaults=True)


# One stage of the stack: shape entering the stage, whether it is flattened first, shape the
# layer sees, and shape it produces.
_Stage = tuple[Shape, bool, Shape, Shape]


class StackSpec(ValidatedModel):
    """A stacked autoencoder: input, encoder layers, and how the decoder mirrors them.

    Attributes:
        input_dim: Width of a flat input (``784`` for MNIST as vectors). Give this or
            ``input_shape``.
        input_shape: Per-sample shape of a multi-dimensional input, e.g. ``(28, 28, 1)`` for
            ``conv2d`` stacks.
        encoder: Non-empty list of :class:`LayerSpec`; the last layer's output is the code.
        output_activation: Activation of the decoder's last layer (default ``"linear"``).
        decoder_activations: One activation per decoder layer, from the code outwards, output
            included. Overrides the mirrored activations (and ``output_activation``).
        tied_weights: Each decoder kernel is the transpose of its mirror encoder kernel.

    Mirroring: decoder layer ``j`` (from the code) mirrors encoder layer ``n - j``, maps back to
    the shape that layer received, and by default uses the activation the encoder used to
    produce that shape; the last decoder layer uses ``output_activation``. ``use_bias``,
    ``kernel_initializer`` and kernel penalties are mirrored; dropout and activity penalties are
    not. ``conv2d`` is mirrored by ``Conv2DTranspose``; before the first rank-1 (dense) layer
    that follows a multi-dimensional shape the encoder flattens and the decoder reshapes back.
    """

    input_dim: int | None = None
    input_shape: tuple[int, ...] | None = None
    encoder: tuple[LayerSpec, ...]
    output_activation: str | None = None
    decoder_activations: tuple[str, ...] | None = None
    tied_weights: bool = False

    # === Validation ===

    @model_validator(mode="before")
    @classmethod
    def _from_shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return _parse_shorthand(data)
        if isinstance(data, dict):
            encoder, override = data.get("encoder"), data.get("decoder_activations")
            # With one layer the decoder is just its output: store one canonical form.
            if (
                isinstance(encoder, list | tuple)
                and len(encoder) == 1
                and isinstance(override, list | tuple)
                and len(override) == 1
                and data.get("output_activation") in (None, override[0])
            ):
                data = {**data, "output_activation": override[0], "decoder_activations": None}
        return data

    @field_validator("input_dim", mode="before")
    @classmethod
    def _input_dim(cls, value: Any) -> int | None:
        return None if value is None else _positive_int(value, "input_dim")

    @field_validator("input_shape", mode="before")
    @classmethod
    def _input_shape(cls, value: Any) -> tuple[int, ...] | None:
        if value is None:
            return None
        if isinstance(value, str | bytes) or not hasattr(value, "__len__") or len(value) == 0:
            raise ValueError(
                "`input_shape` must be a non-empty list of positive integers (one sample's "
                f"shape, without the batch axis). Received: input_shape={value!r}"
            )
        try:
            return tuple(_positive_int(v, "input_shape") for v in value)
        except ValueError:
            raise ValueError(
                "`input_shape` must be a non-empty list of positive integers. "
                f"Received: input_shape={value!r}"
            ) from None

    @field_validator("encoder")
    @classmethod
    def _encoder(cls, value: tuple[LayerSpec, ...]) -> tuple[LayerSpec, ...]:
        if not value:
            raise ValueError(
                "`encoder` needs at least one layer (the last one is the code). "
                "Received: encoder=[]"
            )
        return value

    @field_validator("output_activation")
    @classmethod
    def _output_activation(cls, value: str | None) -> str | None:
        return None if value is None else check_activation(value, "output_activation")

    @field_validator("decoder_activations")
    @classmethod
    def _decoder_activations(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        for name in value:
            check_activation(name, "decoder_activations")
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> StackSpec:
        if (self.input_dim is None) == (self.input_shape is None):
            raise ValueError(
                "Give exactly one of `input_dim` (flat inputs) and `input_shape` (e.g. images). "
                f"Received: input_dim={self.input_dim!r}, input_shape={self.input_shape!r}"
            )
        override = self.decoder_activations
        if override is not None:
            if len(override) != len(self.encoder):
                raise ValueError(
                    "`decoder_activations` needs one activation per decoder layer, from the code "
                    f"outwards, output included: {len(self.encoder)} for this encoder. "
                    f"Received: decoder_activations={list(override)!r} ({len(override)} items)"
                )
            if self.output_activation not in (None, override[-1]):
                raise ValueError(
                    "`output_activation` contradicts the last of `decoder_activations`; give only "
                    f"one. Received: output_activation={self.output_activation!r}, "
                    f"decoder_activations={list(override)!r}"
                )
        if self.tied_weights:
            for index, layer in enumerate(self.encoder):
                if not get_layer_kind(layer.kind).supports_tied_weights:
                    raise ValueError(
                        f"`tied_weights=True` needs every layer kind to support tied weights; "
                        f"`{layer.kind}` (encoder[{index}]) does not. Received: tied_weights=True"
                    )
        self._stages()  # shape errors surface now, not at build time
        return self

    # === Resolved structure ===

    @property
    def resolved_input_shape(self) -> Shape:
        """Per-sample input shape: ``(input_dim,)`` or ``input_shape``."""
        return (self.input_dim,) if self.input_dim is not None else tuple(self.input_shape or ())

    def _stages(self) -> list[_Stage]:
        stages: list[_Stage] = []
        shape = self.resolved_input_shape
        for index, layer in enumerate(self.encoder):
            kind = get_layer_kind(layer.kind)
            flatten = kind.input_rank == 1 and len(shape) > 1
            seen = (math.prod(shape),) if flatten else shape
            if len(seen) != kind.input_rank:
                raise ValueError(
                    f"encoder[{index}] of kind `{layer.kind}` needs a per-sample input of rank "
                    f"{kind.input_rank}, but receives shape {seen}. (A `conv2d` layer cannot "
                    f"follow a dense one, and needs `input_shape=(height, width, channels)`.) "
                    f"Received: kind={layer.kind!r}"
                )
            try:
                output = tuple(kind.output_shape(seen, layer))
            except ValueError as error:
                raise ValueError(f"encoder[{index}]: {error}") from None
            stages.append((shape, flatten, seen, output))
            shape = output
        return stages

    @property
    def layer_shapes(self) -> list[Shape]:
        """Per-sample shapes from the input through each encoder layer to the code."""
        stages = self._stages()
        return [self.resolved_input_shape] + [stage[3] for stage in stages]

    @property
    def code_shape(self) -> Shape:
        """Per-sample shape of the code (the last encoder layer's output)."""
        return self.layer_shapes[-1]

    @property
    def resolved_output_activation(self) -> str:
        """The decoder's output activation after overrides and defaults."""
        if self.decoder_activations is not None:
            return self.decoder_activations[-1]
        return self.output_activation or "linear"

    @property
    def decoder_layers(self) -> tuple[LayerSpec, ...]:
        """The decoder exactly as it will be built, from the code outwards.

        Each entry has the kind of the encoder layer it mirrors, the width it maps back to, its
        resolved activation and the mirrored bias, initializer and kernel penalties.

        Example:
            >>> from stackae import StackSpec
            >>> book = StackSpec.from_preset("skansi_book")
            >>> [(d.units, d.activation) for d in book.decoder_layers]
            [(64, 'relu'), (128, 'sigmoid'), (784, 'relu')]
        """
        stages = self._stages()
        count = len(self.encoder)
        layers = []
        for j in range(count):
            i = count - 1 - j
            mirror = self.encoder[i]
            if self.decoder_activations is not None:
                activation = self.decoder_activations[j]
            elif i == 0:
                activation = self.resolved_output_activation
            else:
                activation = self.encoder[i - 1].activation
            layers.append(
                mirror.model_copy(
                    update={
                        "units": stages[i][2][-1],
                        "activation": activation,
                        "dropout": 0.0,
                        "activity_l1": 0.0,
                        "activity_l2": 0.0,
                    }
                )
            )
        return tuple(layers)

    def stage_plan(self) -> list[dict[str, Any]]:
        """Per encoder layer: the shape it receives, whether it is flattened first, its output.

        The builder follows this plan; it is public so tools can show it.
        """
        return [
            {"input_shape": s[0], "flatten": s[1], "layer_input_shape": s[2], "output_shape": s[3]}
            for s in self._stages()
        ]

    # === Serialization ===

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-ready dict without defaults (but every layer names its activation)."""
        data = self.model_dump(mode="json", exclude_defaults=True)
        data["encoder"] = [
            {
                "units": layer.units,
                "activation": layer.activation,
                **layer.model_dump(mode="json", exclude_defaults=True, exclude={"units"}),
            }
            for layer in self.encoder
        ]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StackSpec:
        """Validate a dict (as read from JSON or YAML)."""
        return cls.model_validate(data)

    def to_json(self, *, indent: int | None = 2) -> str:
        """The spec as JSON text."""
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, text: str) -> StackSpec:
        """Validate JSON text."""
        return cls.from_dict(_load_text(text, "JSON"))

    def to_yaml(self, path: str | Path | None = None) -> str:
        """The spec as YAML text; also written to ``path`` when given."""
        text = yaml.safe_dump(self.to_dict(), sort_keys=False)
        if path is not None:
            from stackae.io import atomic_write_text

            atomic_write_text(path, text)
        return text

    @classmethod
    def from_yaml_text(cls, text: str) -> StackSpec:
        """Validate YAML text (read with a safe loader: no tags, no code)."""
        return cls.from_dict(_load_text(text, "YAML"))

    @classmethod
    def from_yaml(cls, path: str | Path) -> StackSpec:
        """Read and validate a YAML (or JSON) spec file."""
        return cls.from_dict(read_spec_source(path))

    @classmethod
    def parse(cls, text: str) -> StackSpec:
        """Parse the one-line shorthand ``INPUT-UNITS[:ACT]-...[|DECODER_ACTS]``.

        ``INPUT`` is a width (``784``) or a shape (``28x28x1``). ``ACT`` defaults to ``relu``.
        After ``|`` come either one activation (the output's) or one per decoder layer from the
        code outwards (an override).

        Example:
            >>> from stackae import StackSpec
            >>> StackSpec.parse("784-128:relu-64:tanh-32:relu|relu-sigmoid-relu") == (
            ...     StackSpec.from_preset("skansi_book"))
            True
        """
        return cls.model_validate(text)

    def to_shorthand(self) -> str:
        """Format as the one-line shorthand; :class:`SpecError` if it cannot express the spec."""
        lost = []
        if self.tied_weights:
            lost.append("tied_weights")
        for index, layer in enumerate(self.encoder):
            extra = set(layer.model_dump(exclude_defaults=True)) - {"units", "activation"}
            if extra:
                lost.append(f"encoder[{index}].{'/'.join(sorted(extra))}")
        if lost:
            raise SpecError(
                "The shorthand only writes dense widths and activations; this spec also sets "
                f"{', '.join(lost)}. Use `to_yaml()` instead. Received: {self.to_dict()!r}"
            )
        head = "x".join(str(v) for v in self.resolved_input_shape)
        text = head + "".join(f"-{layer.units}:{layer.activation}" for layer in self.encoder)
        if self.decoder_activations is not None:
            text += "|" + "-".join(self.decoder_activations)
        elif self.output_activation is not None:
            text += f"|{self.output_activation}"
        return text

    @classmethod
    def from_preset(cls, name: str) -> StackSpec:
        """A named spec from :data:`PRESETS`.

        Raises:
            SpecError: Naming the known presets, if ``name`` is unknown.
        """
        try:
            return cls.from_dict(PRESETS[name])
        except KeyError:
            raise SpecError(
                f"Unknown preset; known presets are: {', '.join(sorted(PRESETS))}. "
                f"Received: name={name!r}"
            ) from None


_SHORTHAND = re.compile(
    r"^\s*(?P<input>\d+(?:\s*x\s*\d+)*)\s*(?P<layers>(?:-\s*[^-|]+)+)"
    r"(?:\|(?P<decoder>.*))?$"
)
_LAYER = re.compile(r"^\s*(?P<units>\d+)\s*(?::\s*(?P<activation>[A-Za-z0-9_]+))?\s*$")


def _parse_shorthand(text: str) -> dict[str, Any]:
    match = _SHORTHAND.match(text)
    usage = (
        "Expected the shorthand INPUT-UNITS[:ACTIVATION]-...[|DECODER_ACTIVATIONS], e.g. "
        "'784-128:relu-64:tanh-32:relu' or '28x28x1-64:relu|sigmoid'."
    )
    if not match:
        raise ValueError(f"Cannot read the spec shorthand. {usage} Received: spec={text!r}")
    layers = []
    for part in match["layers"].split("-")[1:]:
        layer = _LAYER.match(part)
        if not layer:
            raise ValueError(
                f"Cannot read the shorthand layer {part.strip()!r}; write UNITS or "
                f"UNITS:ACTIVATION. {usage} Received: spec={text!r}"
            )
        entry: dict[str, Any] = {"units": int(layer["units"])}
        if layer["activation"]:
            entry["activation"] = layer["activation"]
        layers.append(entry)
    dims = [int(v) for v in match["input"].split("x")]
    data: dict[str, Any] = {"encoder": layers}
    if len(dims) == 1:
        data["input_dim"] = dims[0]
    else:
        data["input_shape"] = dims
    if match["decoder"] is not None:
        names = [name.strip() for name in match["decoder"].split("-")]
        if len(names) == 1:
            data["output_activation"] = names[0]
        else:
            data["decoder_activations"] = names
    return data


def _load_text(text: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text) if what == "JSON" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as error:
        raise SpecError(f"The spec is not valid {what}: {error}") from None
    if not isinstance(data, dict):
        raise SpecError(
            f"A spec file must hold a mapping (keys such as `input_dim` and `encoder`). "
            f"Received: a {type(data).__name__}"
        )
    return data


def read_spec_source(path: str | Path) -> dict[str, Any]:
    """Read a YAML or JSON spec file into a dict (safe loader), with clear errors.

    Raises:
        SpecError: If the file is missing, unreadable, not YAML/JSON or not a mapping.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"No spec file at this path. Received: path='{path}'") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(f"Cannot read the spec file: {error}. Received: path='{path}'") from None
    return _load_text(text, "JSON" if path.suffix.lower() == ".json" else "YAML")


PRESETS: dict[str, dict[str, Any]] = {
    # Skansi, Introduction to Deep Learning (2018), section 8.3: a decoder that is *not* the
    # mirror image of the encoder (relu, sigmoid, relu), reproduced with an override.
    "skansi_book": {
        "input_dim": 784,
        "encoder": [
            {"units": 128, "activation": "relu"},
            {"units": 64, "activation": "tanh"},
            {"units": 32, "activation": "relu"},
        ],
        "decoder_activations": ["relu", "sigmoid", "relu"],
    },
    # Hinton & Salakhutdinov (Science, 2006), MNIST: 784-1000-500-250-30 with a linear code.
    "hinton2006_mnist": {
        "input_dim": 784,
        "encoder": [
            {"units": 1000, "activation": "sigmoid"},
            {"units": 500, "activation": "sigmoid"},
            {"units": 250, "activation": "sigmoid"},
            {"units": 30, "activation": "linear"},
        ],
        "output_activation": "sigmoid",
    },
}
