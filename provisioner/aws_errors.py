"""AWS error handling shared by the emulators, teardown and connectors: botocore ClientError codes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError ('' for anything else)."""
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def is_not_found(exc: BaseException, *codes: str) -> bool:
    """Whether ``exc`` is an AWS 'not found' error (one of ``codes``, or any code that says so)."""
    code = error_code(exc)
    if not code:
        return False
    return code in codes or "NotFound" in code or code.startswith("NoSuch")


def ignore_not_found(call: Callable[..., Any], **params: Any) -> None:
    """Run a delete-like call; a resource already gone is fine, any other error raises."""
    try:
        call(**params)
    except Exception as exc:
        if not is_not_found(exc):
            raise
