"""Parsing of KEY=VALUE arguments given on the command line."""

import json
from collections.abc import Callable, Iterable
from typing import Annotated, Any

import typer

from provisioner.errors import InputError
from provisioner.paths import read_value_file


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


ValueInArgsOption = Annotated[
    bool,
    typer.Option("--value-in-args", help="Take secret values as KEY=VALUE too: they are then visible to `ps` and kept in shell history."),
]


def parse_with_secrets(
    pairs: Iterable[str],
    what: str,
    *,
    is_secret: Callable[[str], bool],
    value_in_args: bool,
    json_values: bool = True,
    ask_prefix: str = "",
    flag: str = "",
) -> dict[str, Any]:
    """KEY=VALUE pairs where the value of a secret key never has to be on the command line.

    A secret key alone asks for its value without echo (or reads a line of stdin); KEY=@FILE reads the
    value from FILE (without its last newline); a ``{{secret:NAME.KEY}}`` reference is no secret. A plain
    secret value is taken only with --value-in-args. Every pair is checked before anything is asked.

    Raises:
        InputError: a malformed pair, an unreadable FILE, or a plain secret value without --value-in-args.
    """
    from provisioner.secrets import parse_reference

    result: dict[str, Any] = {}
    to_ask: list[str] = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not key or (not sep and not is_secret(key)):
            raise InputError(f"{what} must be KEY=VALUE (got {pair!r})")
        if not is_secret(key):
            result[key] = _decode(value) if json_values else value
        elif not sep:
            to_ask.append(key)
        elif value_in_args or value == "" or parse_reference(value) is not None:
            result[key] = value
        elif value.startswith("@") and len(value) > 1:
            result[key] = read_value_file(value[1:], f"the value of {key!r}")
        else:
            raise InputError(
                f"{flag}{key}=...: a secret value on the command line is visible to `ps` and kept in shell history; "
                f"give {flag}{key} alone to be asked, {flag}{key}=@FILE to read it from a file, or add --value-in-args"
            )
    from provisioner.cli._output import ask_secret

    for key in to_ask:
        result[key] = ask_secret(f"{ask_prefix}{key}")
    return result
