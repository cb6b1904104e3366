"""Turn pydantic validation errors into one-line InputErrors that name the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from provisioner.errors import InputError

ModelT = TypeVar("ModelT", bound=BaseModel)


def describe_validation_error(error: ValidationError) -> str:
    """``field 'x': message`` for the first problem, with a count of the others."""
    problems = error.errors()
    first = problems[0]
    where = ".".join(str(part) for part in first["loc"]) or "value"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown field"
    elif first["type"] == "missing":
        message = "required field is missing"
    elif first["type"] == "enum":
        allowed = first.get("ctx", {}).get("expected", "")
        message = f"unknown value {first['input']!r} (allowed: {allowed.replace(' or ', ', ')})"
    extra = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    if not first["loc"]:  # a rule across fields: its message names them
        return f"{message}{extra}"
    return f"field {where!r}: {message}{extra}"


def validate_or_raise(model: type[ModelT], data: Any, context: str) -> ModelT:
    """Validate ``data`` against ``model`` or raise InputError prefixed with ``context``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{context}: {describe_validation_error(exc)}") from None


def call_or_raise(build: Callable[[], ModelT], context: str) -> ModelT:
    """Run a model constructor, turning a ValidationError into an InputError."""
    try:
        return build()
    except ValidationError as exc:
        raise InputError(f"{context}: {describe_validation_error(exc)}") from None
