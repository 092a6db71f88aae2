"""The exceptions stackae raises for bad input."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from typing_extensions import Self

__all__ = ["SpecError", "DataError", "TrainingDivergedError", "ModelFileError"]


class SpecError(ValueError):
    """A stack spec (or a layer, noise or training setting) is invalid.

    Every message names the field, says what is allowed and shows what was received, in the
    Keras form ``Received: units=-3``. ``errors`` keeps pydantic's structured error list when the
    error came from validation, so tools can read the location of each problem.

    Example:
        >>> import stackae
        >>> try:
        ...     stackae.StackSpec(input_dim=4, encoder=[{"units": -3}])
        ... except stackae.SpecError as error:
        ...     print(error)
        Invalid StackSpec (1 problem):
          - encoder[0].units: `units` must be a positive integer. Received: units=-3
    """

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class DataError(ValueError):
    """Training or evaluation data cannot be used (NaN, wrong width, wrong dtype, ...)."""


class TrainingDivergedError(RuntimeError):
    """The loss became NaN or infinite; training stopped before saving anything bad."""


def _format_location(location: tuple[Any, ...]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _flatten(errors: list[Any], prefix: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    flat = []
    for item in errors:
        nested = (item.get("ctx") or {}).get("error")
        location = prefix + tuple(item["loc"])
        if isinstance(nested, SpecError) and nested.errors:
            # A nested model (a LayerSpec inside a StackSpec) already explained itself.
            flat.extend(_flatten(nested.errors, location))
        else:
            flat.append({**item, "loc": location, "ctx": None})
    return flat


def format_validation_error(error: Any, title: str) -> SpecError:
    """Turn a pydantic ``ValidationError`` into a :class:`SpecError` in the Keras message form.

    Each problem becomes one line: where it is (``encoder[0].units``), what is wrong and allowed,
    and ``Received: field=value``.
    """
    lines = []
    errors = _flatten(error.errors(include_url=False))
    for item in errors:
        message = str(item["msg"])
        for prefix in ("Value error, ", "Assertion failed, "):
            message = message.removeprefix(prefix)
        if "Received:" not in message:
            field = next((p for p in reversed(item["loc"]) if isinstance(p, str)), "value")
            message = f"{message}. Received: {field}={_short_repr(item.get('input'))}"
        item["msg"] = message
        where = _format_location(item["loc"])
        lines.append(f"  - {where}: {message}" if where else f"  - {message}")
    count = f"{len(lines)} problem" + ("s" if len(lines) != 1 else "")
    return SpecError(f"Invalid {title} ({count}):\n" + "\n".join(lines), errors=errors)


class ValidatedModel(BaseModel):
    """A frozen pydantic model whose validation failures raise :class:`SpecError`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise format_validation_error(error, type(self).__name__) from None

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:  # type: ignore[override]
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as error:
            raise format_validation_error(error, cls.__name__) from None

    @classmethod
    def model_validate_json(cls, json_data: Any, *args: Any, **kwargs: Any) -> Self:  # type: ignore[override]
        try:
            return super().model_validate_json(json_data, *args, **kwargs)
        except ValidationError as error:
            raise format_validation_error(error, cls.__name__) from None


class ModelFileError(ValueError):
    """A saved model directory or file is missing, truncated or corrupted."""
