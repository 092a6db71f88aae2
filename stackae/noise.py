"""Input corruption for denoising autoencoders: Gaussian, masking and salt-and-pepper noise.

Each noise is a small, serializable pydantic object that can be written in a YAML/JSON config
(``{kind: gaussian, stddev: 0.05}``) or in Python. ``corrupt`` draws with ``keras.random`` from
a seed generator, so the same code runs inside a compiled train step on every backend, with fresh
noise for each batch. Importing this module does not import Keras.

Example:
    >>> import numpy as np
    >>> from stackae.noise import GaussianNoise, parse_noise
    >>> noise = parse_noise({"kind": "gaussian", "stddev": 0.05})
    >>> noisy = noise.apply(np.full((2, 3), 0.5, dtype="float32"), seed=0)
    >>> noisy.shape, bool((noisy >= 0).all() and (noisy <= 1).all())
    ((2, 3), True)
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, TypeAdapter, ValidationError, field_validator, model_validator

from stackae.errors import SpecError, ValidatedModel, format_validation_error

__all__ = [
    "GaussianNoise",
    "MaskingNoise",
    "SaltAndPepperNoise",
    "Noise",
    "parse_noise",
]


class _BaseNoise(ValidatedModel):
    def corrupt(self, x: Any, seed: Any) -> Any:  # pragma: no cover - abstract
        """Return a corrupted copy of the tensor ``x``, drawing from ``seed``."""
        raise NotImplementedError

    def apply(self, x: np.ndarray, seed: int | None = None, batch_size: int = 8192) -> np.ndarray:
        """Corrupt a numpy array eagerly (for evaluation on a fixed noisy copy).

        Args:
            x: Clean data.
            seed: Seed of the draw; the same seed gives the same noisy copy.
            batch_size: Rows corrupted at a time, to bound memory.
        """
        import keras

        generator = keras.random.SeedGenerator(seed)
        x = np.asarray(x, dtype="float32")
        parts = [
            keras.ops.convert_to_numpy(self.corrupt(keras.ops.convert_to_tensor(chunk), generator))
            for chunk in np.array_split(x, max(1, math.ceil(len(x) / batch_size)))
        ]
        return np.concatenate(parts) if parts else x.copy()


class GaussianNoise(_BaseNoise):
    """Add ``N(0, stddev^2)`` noise, then clip (the book's ``noise_rate`` is ``stddev``).

    Attributes:
        stddev: Standard deviation of the added noise, ``>= 0``.
        clip: ``(low, high)`` range the result is clipped to, or ``None`` for no clipping.
    """

    kind: Literal["gaussian"] = "gaussian"
    stddev: float = 0.05
    clip: tuple[float, float] | None = (0.0, 1.0)

    @field_validator("stddev")
    @classmethod
    def _stddev(cls, value: float) -> float:
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"`stddev` must be a finite number >= 0. Received: stddev={value!r}")
        return value

    @field_validator("clip")
    @classmethod
    def _clip(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not value[0] < value[1]:
            raise ValueError(
                f"`clip` must be (low, high) with low < high. Received: clip={value!r}"
            )
        return value

    def corrupt(self, x: Any, seed: Any) -> Any:
        from keras import ops, random

        noisy = x + random.normal(ops.shape(x), stddev=self.stddev, dtype=x.dtype, seed=seed)
        return noisy if self.clip is None else ops.clip(noisy, self.clip[0], self.clip[1])


class _RateNoise(_BaseNoise):
    """A noise that corrupts a fraction ``rate`` of the inputs."""

    rate: float

    @field_validator("rate")
    @classmethod
    def _rate(cls, value: float) -> float:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"`rate` must be a fraction in [0, 1]. Received: rate={value!r}")
        return value


class MaskingNoise(_RateNoise):
    """Set a random fraction ``rate`` of the inputs to ``value`` (zero by default).

    Attributes:
        rate: Fraction of inputs masked, in ``[0, 1]``.
        value: What a masked input becomes.
    """

    kind: Literal["masking"] = "masking"
    rate: float = 0.25
    value: float = 0.0

    def corrupt(self, x: Any, seed: Any) -> Any:
        from keras import ops, random

        keep = random.uniform(ops.shape(x), dtype=x.dtype, seed=seed) >= self.rate
        return ops.where(keep, x, ops.cast(self.value, x.dtype))


class SaltAndPepperNoise(_RateNoise):
    """Set a fraction ``rate`` of the inputs to ``low`` or ``high``, with equal chance.

    Attributes:
        rate: Fraction of inputs replaced, in ``[0, 1]``.
        low: The "pepper" value.
        high: The "salt" value.
    """

    kind: Literal["salt_and_pepper"] = "salt_and_pepper"
    rate: float = 0.1
    low: float = 0.0
    high: float = 1.0

    @model_validator(mode="after")
    def _range(self) -> SaltAndPepperNoise:
        if not self.low < self.high:
            raise ValueError(
                f"`low` must be below `high`. Received: low={self.low!r}, high={self.high!r}"
            )
        return self

    def corrupt(self, x: Any, seed: Any) -> Any:
        from keras import ops, random

        draw = random.uniform(ops.shape(x), dtype=x.dtype, seed=seed)
        salted = ops.where(draw < self.rate / 2, ops.cast(self.high, x.dtype), x)
        peppered = ops.logical_and(draw >= self.rate / 2, draw < self.rate)
        return ops.where(peppered, ops.cast(self.low, x.dtype), salted)


Noise = Annotated[GaussianNoise | MaskingNoise | SaltAndPepperNoise, Field(discriminator="kind")]
_NOISE_ADAPTER: TypeAdapter[Any] = TypeAdapter(Noise)
_KINDS = ("gaussian", "masking", "salt_and_pepper")


def parse_noise(value: Any) -> GaussianNoise | MaskingNoise | SaltAndPepperNoise | None:
    """Read a noise from ``None``, a noise object, a dict, or ``"kind"``/``"kind:amount"``.

    ``"gaussian:0.05"`` sets ``stddev``; ``"masking:0.3"`` and ``"salt_and_pepper:0.1"`` set
    ``rate``.

    Raises:
        SpecError: With the allowed kinds, if the value cannot be read.
    """
    if value is None or isinstance(value, GaussianNoise | MaskingNoise | SaltAndPepperNoise):
        return value
    if isinstance(value, str):
        kind, _, amount = value.partition(":")
        value = {"kind": kind.strip()}
        if amount:
            key = "stddev" if value["kind"] == "gaussian" else "rate"
            try:
                value[key] = float(amount)
            except ValueError:
                raise SpecError(
                    f"The noise amount after ':' must be a number. Received: noise={amount!r}"
                ) from None
    if isinstance(value, dict) and value.get("kind") not in _KINDS:
        raise SpecError(
            f"Unknown noise `kind`; allowed: {', '.join(_KINDS)}. "
            f"Received: kind={value.get('kind')!r}"
        )
    try:
        return _NOISE_ADAPTER.validate_python(value)  # type: ignore[no-any-return]
    except ValidationError as error:
        raise format_validation_error(error, "noise") from None
