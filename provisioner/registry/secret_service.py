"""Secrets as users see them: set, list, describe, delete, resolve, and the backend new values go to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioner.errors import InputError, InUseError
from provisioner.registry.access import Need
from provisioner.registry.models import SecretDetail, SecretInfo
from provisioner.registry.unit_of_work import UnitOfWork
from provisioner.registry.vault import SecretVault, check_secret_key, check_secret_name
from provisioner.secrets import MASK, references_in

SECRET_BACKEND_SETTING = "secret_backend"


class SecretService:
    """Every secret operation, each gated in its unit of work; values live behind ``vault``."""

    def __init__(self, vault: SecretVault) -> None:
        self.vault = vault

    def set_secret(
        self, uow: UnitOfWork, name: str, values: Mapping[str, str], *, labels: Mapping[str, str] | None = None
    ) -> SecretInfo:
        """Create a secret, or add/replace keys of an existing one (admins only)."""
        uow.require(Need.ADMIN, name, "storing secrets")
        check_secret_name(name)
        if not values:
            raise InputError("a secret needs at least one KEY=VALUE")
        for key in values:
            check_secret_key(key)
        return self.vault.write(uow.tx, name, dict(values), owner=None, labels=dict(labels or {}), merge=True)

    def list_secrets(self, uow: UnitOfWork) -> list[SecretInfo]:
        return [s for s in uow.tx.list_secrets() if uow.allows(Need.ANYONE, s.name, "listing secrets")]

    def describe_secret(self, uow: UnitOfWork, name: str, *, show_values: bool = False) -> SecretDetail:
        """A secret with its values masked, or shown to admins and to users of the owning object."""
        uow.require(Need.SECRET if show_values else Need.ANYONE, name, "reading secret values")
        info, values = self.vault.read(uow.tx, name)
        shown = values if show_values else {key: MASK for key in values}
        return SecretDetail(name=info.name, backend=info.backend, owner=info.owner, labels=info.labels, values=shown)

    def delete_secret(self, uow: UnitOfWork, name: str) -> None:
        """Delete a secret (admins only); refused while a component or connector references it."""
        uow.require(Need.ADMIN, name, "deleting secrets")
        self.vault.read(uow.tx, name)  # NotFoundError before the in-use check
        users = self.vault.users_of(uow.tx, name)
        if users:
            raise InUseError(f"secret {name!r} is referenced by {', '.join(users)}: update or delete them first")
        self.vault.delete(uow.tx, name)

    def resolve(self, uow: UnitOfWork, config: Mapping[str, Any]) -> dict[str, Any]:
        """``config`` with every reference replaced by its value; each secret read passes the gate."""
        for secret_name, _ in sorted(references_in(config)):
            uow.require(Need.SECRET, secret_name, "reading secret values")
        return self.vault.resolve(uow.tx, config)

    def set_secret_backend(self, uow: UnitOfWork, name: str, options: Mapping[str, str]) -> None:
        """Choose where this registry keeps new secret values (admins only)."""
        from provisioner.paths import home
        from provisioner.secret_backends import make_backend

        uow.require(Need.ADMIN, name, "choosing the secret backend")
        backend = make_backend(name, dict(options), home=home())
        uow.tx.save_setting(SECRET_BACKEND_SETTING, {"name": name, "options": dict(options)})
        uow.tx.after_commit(lambda: self.vault.use_backend(backend))

    def secret_backend(self, uow: UnitOfWork) -> dict[str, Any]:
        uow.require(Need.ANYONE, SECRET_BACKEND_SETTING, "reading the secret backend")
        return uow.tx.setting(SECRET_BACKEND_SETTING) or {"name": "local", "options": {}}
