"""Sealing, unsealing and owning secret values inside a unit of work (no permission checks here).

The services call this after they passed the gate. Values reach a backend only through ``seal``,
and leave one only after the commit (``discard``), so a rollback never strands a row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from provisioner.errors import ConflictError, InputError, NotFoundError
from provisioner.registry.models import SECRET_NAME_PATTERN, SecretInfo
from provisioner.secrets import (
    SECRET_KEY_PATTERN,
    SecretBackend,
    lookup_key,
    make_reference,
    parse_reference,
    references_in,
    resolve_references,
)

if TYPE_CHECKING:
    from provisioner.registry.flavors.base import FlavorConfig
    from provisioner.registry.store import Transaction


class MissingSecretError(NotFoundError):
    """A config references a secret (or a key of one) that does not exist."""

    def __init__(self, referrer: str, missing: list[tuple[str, str, bool]]) -> None:
        self.referrer = referrer
        self.missing = missing  # (secret, key, whether the secret itself exists)
        super().__init__(
            "; ".join(
                f"{referrer} references key {key!r} that secret {secret!r} does not have"
                if exists
                else f"{referrer} references secret {secret!r}, which does not exist"
                for secret, key, exists in missing
            )
        )


def owner_of(kind: str, name: str) -> str:
    """The owner tag of secrets created automatically for a component or connector."""
    return f"{kind}:{name}"


def owned_secret_name(kind: str, name: str) -> str:
    """The name of the secret that holds a component's or connector's plain secret values."""
    return f"{kind}-{name}"


def check_secret_name(name: str) -> None:
    if not re.fullmatch(SECRET_NAME_PATTERN, name):
        raise InputError(f"invalid secret name {name!r}: use lowercase letters, digits, _ and -")


def check_secret_key(key: str) -> None:
    if not re.fullmatch(SECRET_KEY_PATTERN, key):
        raise InputError(f"invalid secret key {key!r}: use letters, digits, _ and -, not starting with a digit")


class SecretVault:
    """Writes, reads and discards secret values through the backend each was written with."""

    def __init__(self, backend: SecretBackend) -> None:
        self.backend = backend
        self._backends: dict[str, SecretBackend] = {backend.name: backend}

    def use_backend(self, backend: SecretBackend) -> None:
        """Write new values with ``backend`` from now on (older ones stay readable)."""
        self.backend = backend
        self._backends[backend.name] = backend

    def backend_for(self, name: str) -> SecretBackend:
        """The backend a secret was written with (the local one is always available)."""
        if name not in self._backends:
            if name != "local":
                raise InputError(f"a secret is stored in the {name!r} backend, which this registry is not configured for")
            from provisioner.secrets import default_backend

            self._backends[name] = default_backend()
        return self._backends[name]

    def read(self, tx: Transaction, name: str) -> tuple[SecretInfo, dict[str, str]]:
        found = tx.get_secret(name)
        if found is None:
            raise NotFoundError(f"secret {name!r} does not exist")
        info, payload = found
        return info, self.backend_for(info.backend).unseal(name, payload)

    def resolve(self, tx: Transaction, config: Mapping[str, Any]) -> dict[str, Any]:
        """``config`` with every ``{{secret:NAME.KEY}}`` replaced by its value."""
        cache: dict[str, dict[str, str]] = {}

        def lookup(secret_name: str, key: str) -> str:
            if secret_name not in cache:
                cache[secret_name] = self.read(tx, secret_name)[1]
            return lookup_key(cache[secret_name], secret_name, key)

        return resolve_references(config, lookup)

    def write(
        self, tx: Transaction, name: str, values: dict[str, str], *, owner: str | None, labels: dict[str, str], merge: bool
    ) -> SecretInfo:
        existing = tx.get_secret(name)
        if existing is not None:
            info, payload = existing
            if owner is not None and info.owner != owner:
                raise ConflictError(f"secret {name!r} already exists and is not managed by {owner}")
            if merge:
                values = {**self.backend_for(info.backend).unseal(name, payload), **values}
            labels = {**info.labels, **labels}
            owner = info.owner if owner is None else owner
        payload = self.backend.seal(name, values)
        return tx.save_secret(name, backend=self.backend.name, payload=payload, keys=list(values), owner=owner, labels=labels)

    def adopt(self, tx: Transaction, name: str, owner: str | None) -> None:
        """Give a secret to ``owner`` (None: to nobody), values untouched (the backend is not called)."""
        found = tx.get_secret(name)
        if found is None:
            raise NotFoundError(f"secret {name!r} does not exist")
        info, payload = found
        tx.save_secret(name, backend=info.backend, payload=payload, keys=info.keys, owner=owner, labels=info.labels)

    def delete(self, tx: Transaction, name: str) -> None:
        """Delete a secret's row now and its value once the deletion has committed."""
        found = tx.get_secret(name)
        if found is None:
            raise NotFoundError(f"secret {name!r} does not exist")
        tx.delete_secret(name)
        backend = self.backend_for(found[0].backend)
        payload = found[1]
        tx.after_commit(lambda: backend.discard(name, payload))

    def users_of(self, tx: Transaction, secret_name: str) -> list[str]:
        """The components and connectors whose configs reference ``secret_name``."""
        users = [f"component {c.name!r}" for c in tx.list_components() if any(r[0] == secret_name for r in references_in(c.config))]
        users += [
            f"connector {c.name!r}" for c in tx.list_connectors() if any(r[0] == secret_name for r in references_in(c.configuration))
        ]
        return users

    def externalize(
        self, tx: Transaction, kind: str, name: str, schema: type[FlavorConfig], config: dict[str, Any], labels: dict[str, str]
    ) -> dict[str, Any]:
        """Move plain values of secret fields into the owned secret; check every reference exists.

        Raises:
            MissingSecretError: a referenced secret or key does not exist.
        """
        secret_name = owned_secret_name(kind, name)
        plain = {
            field: str(value)
            for field, value in config.items()
            if field in schema.secret_fields() and value not in ("", None) and parse_reference(value) is None
        }
        stored = dict(config)
        if plain:
            self.write(tx, secret_name, plain, owner=owner_of(kind, name), labels=labels, merge=True)
            stored.update({field: make_reference(secret_name, field) for field in plain})
        missing: list[tuple[str, str, bool]] = []
        for ref_name, key in sorted(references_in(stored)):
            found = tx.get_secret(ref_name)
            if found is None or key not in found[0].keys:
                missing.append((ref_name, key, found is not None))
        if missing:
            raise MissingSecretError(f"{kind} {name!r}", missing)
        return stored

    def drop_owned(self, tx: Transaction, kind: str, name: str, keep: Iterable[str] = ()) -> list[str]:
        """Delete the secrets a component or connector owns, except those others still reference.

        A stack imported under a new name references the original's owned secrets; deleting the original
        must not take the copy's values with it. Such a secret is kept with no owner. Returns their names.
        """
        kept: list[str] = []
        for secret_name in tx.secrets_owned_by(owner_of(kind, name)):
            if secret_name in keep:
                continue
            if self.users_of(tx, secret_name):
                self.adopt(tx, secret_name, None)
                kept.append(secret_name)
                continue
            self.delete(tx, secret_name)
        return kept
