"""Secret references and secret backends. Registry rows hold only references and sealed payloads."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from provisioner.errors import InputError, NotFoundError

SECRET_KEY_PATTERN = r"[A-Za-z_][A-Za-z0-9_-]*"
SECRET_REFERENCE = re.compile(r"^\{\{secret:([a-z0-9][a-z0-9_-]{0,79})\.(" + SECRET_KEY_PATTERN + r")\}\}$")
MASK = "********"


def make_reference(secret_name: str, key: str) -> str:
    """Return the ``{{secret:NAME.KEY}}`` reference to one key of a secret."""
    return f"{{{{secret:{secret_name}.{key}}}}}"


def parse_reference(value: object) -> tuple[str, str] | None:
    """Return ``(secret_name, key)`` if ``value`` is a secret reference, else None."""
    if isinstance(value, str):
        match = SECRET_REFERENCE.fullmatch(value)
        if match:
            return match.group(1), match.group(2)
    return None


def references_in(config: Mapping[str, Any]) -> set[tuple[str, str]]:
    """Every secret reference found in the values of ``config`` (one level, plus lists)."""
    found: set[tuple[str, str]] = set()
    for value in config.values():
        items = value if isinstance(value, list) else [value]
        for item in items:
            ref = parse_reference(item)
            if ref:
                found.add(ref)
    return found


def resolve_references(
    config: Mapping[str, Any], lookup: Callable[[str, str], str]
) -> dict[str, Any]:
    """Return a copy of ``config`` with every reference replaced by ``lookup(name, key)``."""
    resolved: dict[str, Any] = {}
    for field, value in config.items():
        ref = parse_reference(value)
        resolved[field] = lookup(*ref) if ref else value
    return resolved


class SecretBackend(Protocol):
    """Turns secret values into an opaque payload that is safe to keep in the registry, and back."""

    name: str

    def seal(self, secret_name: str, values: Mapping[str, str]) -> str:
        """Store ``values`` and return the payload the registry keeps (ciphertext or a locator)."""
        ...

    def unseal(self, secret_name: str, payload: str) -> dict[str, str]:
        """Return the values behind ``payload``."""
        ...

    def discard(self, secret_name: str, payload: str) -> None:
        """Forget the values behind ``payload`` (no-op where the payload is the value)."""
        ...


class LocalFernetBackend:
    """The default backend: values are encrypted with Fernet; the key sits in a 0600 file in the home.

    The ciphertext lives in the registry database, so secrets are written in the same
    transaction as the components that reference them.
    """

    name = "local"

    def __init__(self, key_path: Path) -> None:
        self._key_path = key_path
        self._fernet: Any = None
        self._lock = threading.Lock()

    def _cipher(self) -> Any:
        with self._lock:  # the simulated engine seals from Pulumi's worker threads
            if self._fernet is None:
                from cryptography.fernet import Fernet

                from provisioner.paths import create_private_file_once

                create_private_file_once(self._key_path, Fernet.generate_key())
                self._fernet = Fernet(self._key_path.read_bytes().strip())
            return self._fernet

    def seal(self, secret_name: str, values: Mapping[str, str]) -> str:
        import json

        plain = json.dumps(dict(values), sort_keys=True).encode()
        return str(self._cipher().encrypt(plain).decode())

    def unseal(self, secret_name: str, payload: str) -> dict[str, str]:
        import json

        from cryptography.fernet import InvalidToken

        try:
            plain = self._cipher().decrypt(payload.encode())
        except InvalidToken as exc:
            raise InputError(
                f"secret {secret_name!r} cannot be decrypted with the key in {self._key_path}: "
                "it was written with another key"
            ) from exc
        values: dict[str, str] = json.loads(plain)
        return values

    def discard(self, secret_name: str, payload: str) -> None:
        return None


def default_backend() -> SecretBackend:
    """The local encrypted backend, keyed by ``<home>/secrets.key``."""
    from provisioner.paths import home

    return LocalFernetBackend(home() / "secrets.key")


def lookup_key(values: Mapping[str, str], secret_name: str, key: str) -> str:
    """Return one key of a secret's values, or a clear error naming what is missing."""
    if key not in values:
        raise NotFoundError(f"secret {secret_name!r} has no key {key!r} (keys: {', '.join(sorted(values))})")
    return values[key]


def marked_secret(field_info: Any) -> bool:
    """Whether a pydantic field is marked secret (``Field(json_schema_extra={"secret": True})``, as secret_field makes)."""
    extra = getattr(field_info, "json_schema_extra", None)
    return isinstance(extra, dict) and bool(extra.get("secret"))
