"""Training settings as plain, validated data (no Keras import): the ``training:`` section."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import field_validator

from stackae.errors import ValidatedModel
from stackae.noise import GaussianNoise, MaskingNoise, SaltAndPepperNoise, parse_noise

__all__ = ["TrainingConfig", "OPTIMIZERS"]

OPTIMIZERS = ("adadelta", "adafactor", "adagrad", "adam", "adamax", "adamw", "ftrl", "lion",
              "nadam", "rmsprop", "sgd")  # fmt: skip


class TrainingConfig(ValidatedModel):
    """Training settings, as written in a YAML file's ``training:`` section or in Python.

    Attributes:
        epochs: Epochs of (fine-tuning) training.
        batch_size: Samples per gradient step.
        optimizer: Name of a Keras optimizer.
        learning_rate: Learning rate, or ``None`` for the optimizer's default.
        loss: ``"mse"`` or ``"binary_crossentropy"`` (for data in [0, 1]).
        noise: Corruption applied to the input during training, or ``None``.
        validation_split: Fraction of the training data held out for validation.
        pretrain_epochs: Epochs of greedy layer-wise pretraining per layer (0: none).
        seed: Seed for initial weights, shuffling, dropout and noise.
        steps_per_execution: Train steps run per call into the compiled function (``None``:
            16 where the backend allows it, else 1).
        distribute: ``"none"`` or ``"data_parallel"`` (every device; see ``docs/distributed.md``).
    """

    epochs: int = 10
    batch_size: int = 256
    optimizer: str = "adam"
    learning_rate: float | None = None
    loss: Literal["mse", "binary_crossentropy"] = "mse"
    noise: GaussianNoise | MaskingNoise | SaltAndPepperNoise | None = None
    validation_split: float = 0.0
    pretrain_epochs: int = 0
    seed: int | None = None
    steps_per_execution: int | None = None
    distribute: Literal["none", "data_parallel"] = "none"

    @field_validator("noise", mode="before")
    @classmethod
    def _noise(cls, value: Any) -> Any:
        return parse_noise(value)

    @field_validator("epochs", "batch_size", "steps_per_execution")
    @classmethod
    def _positive(cls, value: int | None, info: Any) -> int | None:
        if value is not None and value <= 0:
            raise ValueError(
                f"`{info.field_name}` must be a positive integer. "
                f"Received: {info.field_name}={value!r}"
            )
        return value

    @field_validator("pretrain_epochs")
    @classmethod
    def _non_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError(f"`pretrain_epochs` must be >= 0. Received: pretrain_epochs={value!r}")
        return value

    @field_validator("optimizer")
    @classmethod
    def _optimizer(cls, value: str) -> str:
        if value.lower() not in OPTIMIZERS:
            raise ValueError(
                f"Unknown optimizer. Allowed: {', '.join(OPTIMIZERS)}. "
                f"Received: optimizer={value!r}"
            )
        return value.lower()

    @field_validator("learning_rate")
    @classmethod
    def _learning_rate(cls, value: float | None) -> float | None:
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ValueError(
                f"`learning_rate` must be a positive number. Received: learning_rate={value!r}"
            )
        return value

    @field_validator("validation_split")
    @classmethod
    def _split(cls, value: float) -> float:
        if not 0.0 <= value < 1.0:
            raise ValueError(
                f"`validation_split` must be in [0, 1). Received: validation_split={value!r}"
            )
        return value

    def fit_kwargs(self) -> dict[str, Any]:
        """The arguments of :func:`fit` these settings stand for."""
        return self.model_dump(exclude={"pretrain_epochs"})
