"""Parsing of KEY=VALUE arguments given on the command line."""

import json
from collections.abc import Iterable
from typing import Any

from provisioner.errors import InputError


def parse_pairs(pairs: Iterable[str], what: str, *, json_values: bool = True) -> dict[str, Any]:
    """Turn ``["a=1", "b=[1,2]"]`` into a dict; JSON lists and objects are decoded."""
    result: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"{what} must be KEY=VALUE (got {pair!r})")
        result[key.strip()] = _decode(value) if json_values else value
    return result


def _decode(value: str) -> Any:
    from provisioner.secrets import parse_reference

    if value[:1] in ("[", "{") and parse_reference(value) is None:
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON value {value!r}: {exc.msg}") from None
    return value
