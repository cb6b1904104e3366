"""The registry's rules: validation, secret handling and every write, each in one transaction."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from provisioner.registry.locks import StackLocks

from provisioner.errors import ConflictError, InputError, InUseError, NotFoundError, PermissionDeniedError, ProvisionerError
from provisioner.registry.access import AuditEntry, Role, UserInfo, current_user
from provisioner.recipe_api import (
    LABEL_DEPLOYMENT,
    LABEL_ENV,
    LABEL_MANAGED_BY,
    LABEL_RECIPE,
    LABEL_STACK,
    MANAGED_BY,
    RecipeContext,
    RegistrationPlan,
)
from provisioner.registry.connector_schemas import check_resource_types, config_class_for, offered_resource_types
from provisioner.registry.flavors import FlavorRegistry
from provisioner.registry.flavors.base import FlavorConfig
from provisioner.registry.models import (
    REQUIRED_STACK_TYPES,
    SECRET_NAME_PATTERN,
    Component,
    ComponentDetail,
    ComponentSpec,
    ComponentType,
    Connector,
    ConnectorSpec,
    SecretDetail,
    SecretInfo,
    Stack,
    StackDetail,
    StackSpec,
)
from provisioner.registry.store import Store, Transaction
from provisioner.registry.validation import validate_or_raise
from provisioner.secrets import (
    MASK,
    SECRET_KEY_PATTERN,
    SecretBackend,
    lookup_key,
    make_reference,
    parse_reference,
    references_in,
    resolve_references,
)

_UNSET: Any = object()
SECRET_BACKEND_SETTING = "secret_backend"


def owner_of(kind: str, name: str) -> str:
    """The owner tag of secrets created automatically for a component or connector."""
    return f"{kind}:{name}"


def owned_secret_name(kind: str, name: str) -> str:
    """The name of the secret that holds a component's or connector's plain secret values."""
    return f"{kind}-{name}"


class Registry:
    """Registers, reads and removes components, connectors, stacks and secrets."""

    def __init__(
        self, store: Store, flavors: FlavorRegistry, backend: SecretBackend, active_file: Path, user: str | None = None
    ) -> None:
        self.store = store
        self.flavors = flavors
        self.backend = backend
        self._active_file = active_file
        self.user = user or current_user()
        self._backends: dict[str, SecretBackend] = {backend.name: backend}
        from sqlalchemy.exc import IntegrityError

        try:
            with self.store.transaction() as tx:
                if not tx.users():  # the first user of a new registry is its admin
                    tx.save_user(self.user, Role.ADMIN.value)
                    tx.add_audit(user=self.user, action="user.bootstrap", target=self.user, result="ok", detail="first user: admin")
        except IntegrityError:
            pass  # another process bootstrapped the same new registry at the same moment

    @property
    def locks(self) -> StackLocks:
        """Per-stack operation locks."""
        from provisioner.registry.locks import StackLocks

        return StackLocks(self.store, self.user)

    @classmethod
    def open(cls) -> Registry:
        """The registry of this machine (or of PROVISIONER_STORE_URL)."""
        from provisioner.paths import home, store_url
        from provisioner.secrets import default_backend

        registry = cls(Store(store_url()), FlavorRegistry.load(), default_backend(), home() / "active-stack")
        with registry.store.transaction() as tx:
            chosen = tx.setting(SECRET_BACKEND_SETTING)
        if chosen and chosen.get("name") != registry.backend.name:
            from provisioner.secret_backends import make_backend

            registry.backend = make_backend(chosen["name"], chosen.get("options", {}), home=home())
            registry._backends[registry.backend.name] = registry.backend
        return registry

    # ----- identity, access and audit -----------------------------------------------------

    @contextmanager
    def audited(self, action: str, target: str) -> Iterator[None]:
        """Record the operation's outcome (ok, denied or error) in its own transaction."""
        try:
            yield
        except PermissionDeniedError as exc:
            self._record(action, target, "denied", str(exc))
            raise
        except ProvisionerError as exc:
            self._record(action, target, "error", str(exc))
            raise
        self._record(action, target, "ok", "")

    def _record(self, action: str, target: str, result: str, detail: str) -> None:
        with self.store.transaction() as tx:
            tx.add_audit(user=self.user, action=action, target=target, result=result, detail=" ".join(detail.split()))

    def role(self) -> Role:
        """The current user's role; users nobody added are members."""
        with self.store.transaction() as tx:
            return Role(tx.users().get(self.user, Role.MEMBER.value))

    def _require_admin(self, what: str) -> None:
        if self.role() is not Role.ADMIN:
            raise PermissionDeniedError(f"{what} needs the admin role; {self.user!r} is a member (ask an admin)")

    def require_stack_access(self, stack_name: str, what: str) -> None:
        """Refuse if the stack is restricted to named users and the current user is not one (admins pass)."""
        with self.store.transaction() as tx:
            grants = tx.stack_grants(stack_name)
            role = tx.users().get(self.user, Role.MEMBER.value)
        if grants and self.user not in grants and role != Role.ADMIN.value:
            raise PermissionDeniedError(f"{what}: stack {stack_name!r} is restricted to {', '.join(grants)}; {self.user!r} may not use it")

    def require_connector_access(self, connector_name: str, what: str) -> None:
        """A connector used by restricted stacks is usable only by users granted one of those stacks."""
        with self.store.transaction() as tx:
            role = tx.users().get(self.user, Role.MEMBER.value)
            restricted: dict[str, list[str]] = {}
            for stack in tx.list_stacks():
                grants = tx.stack_grants(stack.name)
                if not grants:
                    continue
                for component_name in stack.components.values():
                    component = tx.get_component(component_name)
                    if component is not None and component.connector == connector_name:
                        restricted[stack.name] = grants
        if restricted and role != Role.ADMIN.value and not any(self.user in grants for grants in restricted.values()):
            raise PermissionDeniedError(
                f"{what}: connector {connector_name!r} serves restricted stack(s) {', '.join(sorted(restricted))}; "
                f"{self.user!r} is not granted any of them"
            )

    def users(self) -> list[UserInfo]:
        with self.store.transaction() as tx:
            return [UserInfo(name=name, role=Role(role)) for name, role in tx.users().items()]

    def set_user(self, name: str, role: Role) -> UserInfo:
        """Add a user or change a role (admins only); the last admin cannot be demoted."""
        with self.audited("user.set", f"{name}={role.value}"):
            self._require_admin("adding users or changing roles")
            with self.store.transaction() as tx:
                users = tx.users()
                if role is Role.MEMBER and users.get(name) == Role.ADMIN.value and list(users.values()).count(Role.ADMIN.value) == 1:
                    raise ConflictError(f"{name!r} is the last admin: make someone else admin first")
                tx.save_user(name, role.value)
        return UserInfo(name=name, role=role)

    def remove_user(self, name: str) -> None:
        with self.audited("user.remove", name):
            self._require_admin("removing users")
            with self.store.transaction() as tx:
                users = tx.users()
                if name not in users:
                    raise NotFoundError(f"user {name!r} does not exist")
                if users[name] == Role.ADMIN.value and list(users.values()).count(Role.ADMIN.value) == 1:
                    raise ConflictError(f"{name!r} is the last admin and cannot be removed")
                tx.delete_user(name)

    def grant(self, stack_name: str, user: str) -> list[str]:
        """Restrict a stack to named users, adding ``user`` (admins only)."""
        with self.audited("stack.grant", f"{stack_name}:{user}"):
            self._require_admin("restricting stacks")
            with self.store.transaction() as tx:
                _require(tx.get_stack(stack_name), "stack", stack_name)
                tx.grant(stack_name, user)
                return tx.stack_grants(stack_name)

    def revoke(self, stack_name: str, user: str) -> list[str]:
        """Remove ``user`` from a stack's allowed users (admins only); no users left means unrestricted."""
        with self.audited("stack.revoke", f"{stack_name}:{user}"):
            self._require_admin("restricting stacks")
            with self.store.transaction() as tx:
                _require(tx.get_stack(stack_name), "stack", stack_name)
                tx.revoke(stack_name, user)
                return tx.stack_grants(stack_name)

    def stack_grants(self, stack_name: str) -> list[str]:
        with self.store.transaction() as tx:
            return tx.stack_grants(stack_name)

    def audit_log(self, *, since: datetime | None = None, user: str | None = None) -> list[AuditEntry]:
        with self.store.transaction() as tx:
            return [AuditEntry.model_validate(entry) for entry in tx.audit(since=since, user=user)]

    def set_secret_backend(self, name: str, options: Mapping[str, str]) -> None:
        """Choose where this registry keeps new secret values (admins only)."""
        from provisioner.paths import home
        from provisioner.secret_backends import make_backend

        with self.audited("secret-backend.set", name):
            self._require_admin("choosing the secret backend")
            backend = make_backend(name, dict(options), home=home())
            with self.store.transaction() as tx:
                tx.save_setting(SECRET_BACKEND_SETTING, {"name": name, "options": dict(options)})
            self.backend = backend
            self._backends[backend.name] = backend

    def secret_backend(self) -> dict[str, Any]:
        with self.store.transaction() as tx:
            return tx.setting(SECRET_BACKEND_SETTING) or {"name": "local", "options": {}}

    # ----- secrets -------------------------------------------------------------------------

    def set_secret(
        self, name: str, values: Mapping[str, str], *, labels: Mapping[str, str] | None = None
    ) -> SecretInfo:
        """Create a secret, or add/replace keys of an existing one."""
        with self.audited("secret.set", name):
            self._require_admin("storing secrets")
            _check_secret_name(name)
            if not values:
                raise InputError("a secret needs at least one KEY=VALUE")
            for key in values:
                _check_secret_key(key)
            with self.store.transaction() as tx:
                return self._write_secret(tx, name, dict(values), owner=None, labels=dict(labels or {}), merge=True)

    def list_secrets(self) -> list[SecretInfo]:
        with self.store.transaction() as tx:
            return tx.list_secrets()

    def describe_secret(self, name: str, *, show_values: bool = False) -> SecretDetail:
        if show_values:
            with self.audited("secret.read", name):
                self._require_admin_or_owner_access(name)
        with self.store.transaction() as tx:
            info, values = self._read_secret(tx, name)
        shown = values if show_values else {key: MASK for key in values}
        return SecretDetail(name=info.name, backend=info.backend, owner=info.owner, labels=info.labels, values=shown)

    def delete_secret(self, name: str) -> None:
        """Delete a secret; refused while a component or connector references it."""
        with self.audited("secret.delete", name):
            self._require_admin("deleting secrets")
            self._delete_secret(name)

    def _delete_secret(self, name: str) -> None:
        with self.store.transaction() as tx:
            found = tx.get_secret(name)
            if found is None:
                raise NotFoundError(f"secret {name!r} does not exist")
            users = self._secret_users(tx, name)
            if users:
                raise InUseError(f"secret {name!r} is referenced by {', '.join(users)}: update or delete them first")
            tx.delete_secret(name)
            self._discard_after_commit(tx, name, found[0], found[1])

    def _require_admin_or_owner_access(self, secret_name: str) -> None:
        """Secret values: admins, or users who may use the component or connector that owns the secret."""
        if self.role() is Role.ADMIN:
            return
        with self.store.transaction() as tx:
            found = tx.get_secret(secret_name)
        owner = found[0].owner if found else None
        if owner and owner.startswith("component:"):
            for stack in self.list_stacks():
                if owner.split(":", 1)[1] in stack.components.values():
                    self.require_stack_access(stack.name, f"reading secret {secret_name!r}")
            return
        if owner and owner.startswith("connector:"):
            self.require_connector_access(owner.split(":", 1)[1], f"reading secret {secret_name!r}")
            return
        raise PermissionDeniedError(f"reading secret values needs the admin role; {self.user!r} is a member")

    def resolve(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """``config`` with every ``{{secret:NAME.KEY}}`` replaced by its value."""
        with self.store.transaction() as tx:
            cache: dict[str, dict[str, str]] = {}

            def lookup(secret_name: str, key: str) -> str:
                if secret_name not in cache:
                    cache[secret_name] = self._read_secret(tx, secret_name)[1]
                return lookup_key(cache[secret_name], secret_name, key)

            return resolve_references(config, lookup)

    def _read_secret(self, tx: Transaction, name: str) -> tuple[SecretInfo, dict[str, str]]:
        found = tx.get_secret(name)
        if found is None:
            raise NotFoundError(f"secret {name!r} does not exist")
        info, payload = found
        return info, self._backend_for(info.backend).unseal(name, payload)

    def _backend_for(self, name: str) -> SecretBackend:
        """The backend a secret was written with (the local one is always available)."""
        if name not in self._backends:
            if name != "local":
                raise InputError(f"a secret is stored in the {name!r} backend, which this registry is not configured for")
            from provisioner.secrets import default_backend

            self._backends[name] = default_backend()
        return self._backends[name]

    def _write_secret(
        self,
        tx: Transaction,
        name: str,
        values: dict[str, str],
        *,
        owner: str | None,
        labels: dict[str, str],
        merge: bool,
    ) -> SecretInfo:
        existing = tx.get_secret(name)
        if existing is not None:
            info, payload = existing
            if owner is not None and info.owner != owner:
                raise ConflictError(f"secret {name!r} already exists and is not managed by {owner}")
            if merge:
                values = {**self._backend_for(info.backend).unseal(name, payload), **values}
            labels = {**info.labels, **labels}
            owner = info.owner if owner is None else owner
        payload = self.backend.seal(name, values)
        return tx.save_secret(name, backend=self.backend.name, payload=payload, keys=list(values), owner=owner, labels=labels)

    def _secret_users(self, tx: Transaction, secret_name: str) -> list[str]:
        users = [
            f"component {c.name!r}"
            for c in tx.list_components()
            if any(ref[0] == secret_name for ref in references_in(c.config))
        ]
        users += [
            f"connector {c.name!r}"
            for c in tx.list_connectors()
            if any(ref[0] == secret_name for ref in references_in(c.configuration))
        ]
        return users

    def _externalize(
        self,
        tx: Transaction,
        kind: str,
        name: str,
        schema: type[FlavorConfig],
        config: dict[str, Any],
        labels: dict[str, str],
    ) -> dict[str, Any]:
        """Move plain values of secret fields into the owned secret; check every reference exists."""
        secret_name = owned_secret_name(kind, name)
        plain = {
            field: str(value)
            for field, value in config.items()
            if field in schema.secret_fields() and value not in ("", None) and parse_reference(value) is None
        }
        stored = dict(config)
        if plain:
            self._write_secret(tx, secret_name, plain, owner=owner_of(kind, name), labels=labels, merge=True)
            stored.update({field: make_reference(secret_name, field) for field in plain})
        for ref_name, key in references_in(stored):
            found = tx.get_secret(ref_name)
            if found is None:
                raise NotFoundError(f"{kind} {name!r} references secret {ref_name!r}, which does not exist")
            if key not in found[0].keys:
                raise NotFoundError(f"{kind} {name!r} references key {key!r} that secret {ref_name!r} does not have")
        return stored

    def _drop_owned_secrets(self, tx: Transaction, kind: str, name: str, keep: Iterable[str] = ()) -> None:
        for secret_name in tx.secrets_owned_by(owner_of(kind, name)):
            if secret_name not in keep:
                found = tx.get_secret(secret_name)
                tx.delete_secret(secret_name)
                if found:
                    self._discard_after_commit(tx, secret_name, found[0], found[1])

    def _discard_after_commit(self, tx: Transaction, secret_name: str, info: SecretInfo, payload: str) -> None:
        """Delete the value from the backend that wrote it, once the row's deletion has committed."""
        backend = self._backend_for(info.backend)
        tx.after_commit(lambda: backend.discard(secret_name, payload))

    # ----- connectors ----------------------------------------------------------------------

    def register_connector(self, spec: ConnectorSpec, *, replace: bool = False) -> Connector:
        """Register a service connector (admins only); plain secret values go to the secret store."""
        with self.audited("connector.register", spec.name):
            self._require_admin("registering connectors")
            with self.store.transaction() as tx:
                return self._register_connector(tx, spec, replace=replace)

    def _register_connector(self, tx: Transaction, spec: ConnectorSpec, *, replace: bool) -> Connector:
        schema = config_class_for(spec.type, spec.auth_method)
        resource_types = spec.resource_types or offered_resource_types(spec.type)
        check_resource_types(spec.type, resource_types)
        if not replace and tx.get_connector(spec.name) is not None:
            raise ConflictError(f"connector {spec.name!r} already exists")
        context = f"invalid configuration for {spec.type} connector ({spec.auth_method})"
        validated = validate_or_raise(schema, spec.configuration, context).model_dump(mode="json")
        stored = self._externalize(tx, "connector", spec.name, schema, validated, spec.labels)
        return tx.save_connector(spec.model_copy(update={"configuration": stored, "resource_types": resource_types}))

    def get_connector(self, name: str) -> Connector:
        with self.store.transaction() as tx:
            return _require(tx.get_connector(name), "connector", name)

    def list_connectors(self) -> list[Connector]:
        with self.store.transaction() as tx:
            return tx.list_connectors()

    def delete_connector(self, name: str) -> None:
        """Delete a connector and its owned secret (admins only); refused while components link to it."""
        with self.audited("connector.delete", name):
            self._require_admin("deleting connectors")
            self._delete_connector(name)

    def _delete_connector(self, name: str) -> None:
        with self.store.transaction() as tx:
            _require(tx.get_connector(name), "connector", name)
            users = tx.components_using_connector(name)
            if users:
                raise InUseError(f"connector {name!r} is used by component(s) {', '.join(users)}: unlink them first")
            tx.delete_connector(name)
            self._drop_owned_secrets(tx, "connector", name)

    # ----- components ----------------------------------------------------------------------

    def register_component(self, spec: ComponentSpec, *, replace: bool = False) -> Component:
        """Register a component after validating its flavor, config and connector."""
        with self.audited("component.register", spec.name):
            if spec.connector:
                self.require_connector_access(spec.connector, f"linking component {spec.name!r}")
            with self.store.transaction() as tx:
                return self._register_component(tx, spec, replace=replace)

    def _register_component(self, tx: Transaction, spec: ComponentSpec, *, replace: bool) -> Component:
        flavor = self.flavors.get(spec.type, spec.flavor)
        if not replace and tx.get_component(spec.name) is not None:
            raise ConflictError(f"component {spec.name!r} already exists")
        if spec.connector is not None:
            connector = tx.get_connector(spec.connector)
            if connector is None:
                raise NotFoundError(f"connector {spec.connector!r} does not exist")
            needed = flavor.connector_resource_type
            if needed is None:
                raise InputError(f"flavor {flavor.name!r} ({flavor.type.value}) cannot use a service connector")
            if needed not in connector.resource_types:
                raise InputError(
                    f"connector {connector.name!r} does not offer {needed.value!r}, "
                    f"which flavor {flavor.name!r} needs"
                )
            component_env = spec.labels.get(LABEL_ENV)
            if connector.env and component_env and connector.env != component_env:
                raise InputError(
                    f"component {spec.name!r} (env {component_env}) cannot use connector {connector.name!r} (env {connector.env})"
                )
        context = f"invalid config for flavor {flavor.name!r} ({flavor.type.value})"
        validated = validate_or_raise(flavor.config_class, spec.config, context).model_dump(mode="json")
        stored = self._externalize(tx, "component", spec.name, flavor.config_class, validated, spec.labels)
        return tx.save_component(spec.model_copy(update={"config": stored}))

    def update_component(
        self,
        name: str,
        *,
        config: Mapping[str, Any] | None = None,
        labels: Mapping[str, str] | None = None,
        connector: str | None = _UNSET,
    ) -> Component:
        """Merge new config values and labels into a component; ``connector=None`` unlinks it."""
        with self.audited("component.update", name), self.store.transaction() as tx:
            current = _require(tx.get_component(name), "component", name)
            spec = ComponentSpec(
                name=current.name,
                type=current.type,
                flavor=current.flavor,
                config={**current.config, **(config or {})},
                labels={**current.labels, **(labels or {})},
                connector=current.connector if connector is _UNSET else connector,
            )
            return self._register_component(tx, spec, replace=True)

    def get_component(self, name: str) -> Component:
        with self.store.transaction() as tx:
            return _require(tx.get_component(name), "component", name)

    def list_components(self, component_type: ComponentType | None = None) -> list[Component]:
        with self.store.transaction() as tx:
            return tx.list_components(component_type)

    def describe_component(self, name: str, *, show_secrets: bool = False) -> ComponentDetail:
        with self.store.transaction() as tx:
            component = _require(tx.get_component(name), "component", name)
            detail = self._component_detail(tx, component)
        return self._with_secrets(detail) if show_secrets else detail

    def delete_component(self, name: str) -> None:
        """Delete a component and its owned secret; refused while a stack uses it."""
        with self.audited("component.delete", name), self.store.transaction() as tx:
            _require(tx.get_component(name), "component", name)
            stacks = tx.stacks_using_component(name)
            if stacks:
                raise InUseError(f"component {name!r} is used by stack(s) {', '.join(stacks)}: delete or change them first")
            tx.delete_component(name)
            self._drop_owned_secrets(tx, "component", name)

    def _component_detail(self, tx: Transaction, component: Component) -> ComponentDetail:
        connector = tx.get_connector(component.connector) if component.connector else None
        return ComponentDetail(
            name=component.name,
            type=component.type,
            flavor=component.flavor,
            config=component.config,
            labels=component.labels,
            connector=connector,
        )

    def _with_secrets(self, detail: ComponentDetail) -> ComponentDetail:
        connector = detail.connector
        if connector is not None:
            connector = connector.model_copy(update={"configuration": self.resolve(connector.configuration)})
        return detail.model_copy(update={"config": self.resolve(detail.config), "connector": connector})

    # ----- stacks --------------------------------------------------------------------------

    def register_stack(
        self, name: str, component_names: Iterable[str], *, labels: Mapping[str, str] | None = None, replace: bool = False
    ) -> Stack:
        """Group components into a stack: one per type, with an orchestrator and an artifact store."""
        with self.audited("stack.register", name), self.store.transaction() as tx:
            return self._register_stack(tx, name, list(component_names), dict(labels or {}), replace=replace)

    def _register_stack(
        self, tx: Transaction, name: str, component_names: list[str], labels: dict[str, str], *, replace: bool
    ) -> Stack:
        if not replace and tx.get_stack(name) is not None:
            raise ConflictError(f"stack {name!r} already exists")
        by_type: dict[ComponentType, str] = {}
        for component_name in component_names:
            component = tx.get_component(component_name)
            if component is None:
                raise NotFoundError(f"component {component_name!r} does not exist")
            if component.type in by_type and by_type[component.type] != component_name:
                raise ConflictError(
                    f"a stack holds one {component.type.value}, got two: {by_type[component.type]!r} and {component_name!r}"
                )
            by_type[component.type] = component_name
        missing = [t.value for t in REQUIRED_STACK_TYPES if t not in by_type]
        if missing:
            raise InputError(f"stack {name!r} needs a component of type {' and '.join(missing)}")
        self._check_environments(tx, name, labels, by_type)
        spec = validate_or_raise(StackSpec, {"name": name, "components": by_type, "labels": labels}, "invalid stack")
        return tx.save_stack(spec)

    def _check_environments(
        self, tx: Transaction, name: str, labels: dict[str, str], by_type: dict[ComponentType, str]
    ) -> None:
        """Everything in a stack belongs to one env: a prod connector in a staging stack is refused."""
        owners: list[tuple[str, str]] = [(f"stack {name!r}", labels[LABEL_ENV])] if labels.get(LABEL_ENV) else []
        for component_name in by_type.values():
            component = tx.get_component(component_name)
            if component is None:
                continue
            if component.labels.get(LABEL_ENV):
                owners.append((f"component {component_name!r}", component.labels[LABEL_ENV]))
            connector = tx.get_connector(component.connector) if component.connector else None
            if connector is not None and connector.env:
                owners.append((f"connector {connector.name!r}", connector.env))
        envs = {env for _, env in owners}
        if len(envs) > 1:
            first = owners[0]
            other = next(owner for owner in owners if owner[1] != first[1])
            raise InputError(
                f"stack {name!r} mixes environments: {first[0]} is {first[1]} but {other[0]} is {other[1]}"
            )

    def get_stack(self, name: str) -> Stack:
        with self.store.transaction() as tx:
            return _require(tx.get_stack(name), "stack", name)

    def list_stacks(self) -> list[Stack]:
        with self.store.transaction() as tx:
            return tx.list_stacks()

    def describe_stack(self, name: str, *, show_secrets: bool = False) -> StackDetail:
        """The stack with each component and its connector; secrets stay references unless asked."""
        if show_secrets:
            with self.audited("stack.read-secrets", name):
                self.require_stack_access(name, "showing secrets")
        with self.store.transaction() as tx:
            stack = _require(tx.get_stack(name), "stack", name)
            components = {
                component_type: self._component_detail(tx, _require(tx.get_component(cname), "component", cname))
                for component_type, cname in stack.components.items()
            }
        if show_secrets:
            components = {t: self._with_secrets(d) for t, d in components.items()}
        return StackDetail(
            name=stack.name,
            active=self.active_stack() == stack.name,
            labels=stack.labels,
            components=components,
            created_at=stack.created_at,
            updated_at=stack.updated_at,
        )

    def delete_stack(self, name: str) -> None:
        """Delete a stack; its components stay registered."""
        with self.audited("stack.delete", name):
            self.require_stack_access(name, "deleting the stack")
            self._delete_stack(name)

    def _delete_stack(self, name: str) -> None:
        with self.store.transaction() as tx:
            _require(tx.get_stack(name), "stack", name)
            tx.delete_stack(name)
        if self.active_stack() == name:
            self._active_file.unlink(missing_ok=True)

    def set_active_stack(self, name: str) -> None:
        """Remember ``name`` as this user's active stack."""
        self.get_stack(name)
        with self.audited("stack.set-active", name):
            self.require_stack_access(name, "using the stack")
        from provisioner.paths import write_private_file

        write_private_file(self._active_file, (name + "\n").encode())

    # ----- deployments ---------------------------------------------------------------------

    def apply_deployment(self, plan: RegistrationPlan, context: RecipeContext) -> DeploymentRecord:
        """Register a deployment's connectors, components and stack in one transaction.

        Re-running updates everything in place; objects a previous run registered for this
        stack and the plan no longer has are removed. Objects of the same name that this stack
        does not manage are never taken over.
        """
        labels = {
            LABEL_STACK: context.stack_name,
            LABEL_ENV: context.env,
            LABEL_RECIPE: context.recipe,
            LABEL_MANAGED_BY: MANAGED_BY,
        }
        if context.deployment_id:
            labels[LABEL_DEPLOYMENT] = context.deployment_id
        with self.audited("deployment.register", context.stack_name):
            self.require_stack_access(context.stack_name, "registering the deployment")
            with self.locks.hold(context.stack_name, "register"):
                return self._apply_deployment(plan, context, labels)

    def _apply_deployment(self, plan: RegistrationPlan, context: RecipeContext, labels: dict[str, str]) -> DeploymentRecord:
        with self.store.transaction() as tx:
            self._refuse_takeover(tx, plan, context.stack_name)
            for entry in plan.connectors:
                spec = validate_or_raise(
                    ConnectorSpec,
                    {
                        "name": entry.name,
                        "type": entry.type,
                        "auth_method": entry.auth_method,
                        "configuration": entry.configuration,
                        "resource_types": entry.resource_types,
                        "env": context.env,
                        "labels": labels,
                    },
                    f"recipe output for connector {entry.name!r}",
                )
                self._register_connector(tx, spec, replace=True)
            for component_entry in plan.components:
                component_spec = validate_or_raise(
                    ComponentSpec,
                    {
                        "name": component_entry.name,
                        "type": component_entry.type,
                        "flavor": component_entry.flavor,
                        "config": component_entry.config,
                        "labels": labels,
                        "connector": component_entry.connector,
                    },
                    f"recipe output for component {component_entry.name!r}",
                )
                self._register_component(tx, component_spec, replace=True)
            names = [c.name for c in plan.components]
            self._register_stack(tx, context.stack_name, names, labels, replace=True)
            for stale in tx.list_components():
                if _managed_by(stale.labels, context.stack_name) and stale.name not in names:
                    tx.delete_component(stale.name)
                    self._drop_owned_secrets(tx, "component", stale.name)
            connector_names = [c.name for c in plan.connectors]
            for stale_connector in tx.list_connectors():
                if _managed_by(stale_connector.labels, context.stack_name) and stale_connector.name not in connector_names:
                    tx.delete_connector(stale_connector.name)
                    self._drop_owned_secrets(tx, "connector", stale_connector.name)
        return DeploymentRecord(stack=context.stack_name, components=names, connectors=connector_names)

    def _refuse_takeover(self, tx: Transaction, plan: RegistrationPlan, stack_name: str) -> None:
        existing_stack = tx.get_stack(stack_name)
        if existing_stack is not None and not _managed_by(existing_stack.labels, stack_name):
            raise ConflictError(f"stack {stack_name!r} exists and was not registered by deploy-stack: choose another --name")
        for entry in plan.components:
            component = tx.get_component(entry.name)
            if component is not None and not _managed_by(component.labels, stack_name):
                raise ConflictError(f"component {entry.name!r} exists and does not belong to stack {stack_name!r}")
        for connector_entry in plan.connectors:
            connector = tx.get_connector(connector_entry.name)
            if connector is not None and not _managed_by(connector.labels, stack_name):
                raise ConflictError(f"connector {connector_entry.name!r} exists and does not belong to stack {stack_name!r}")

    def deployment(self, stack_name: str) -> DeploymentRecord:
        """What deploy-stack registered for ``stack_name`` (empty if nothing)."""
        with self.store.transaction() as tx:
            stack = tx.get_stack(stack_name)
            return DeploymentRecord(
                stack=stack_name if stack is not None and _managed_by(stack.labels, stack_name) else None,
                components=[c.name for c in tx.list_components() if _managed_by(c.labels, stack_name)],
                connectors=[c.name for c in tx.list_connectors() if _managed_by(c.labels, stack_name)],
            )

    def deployment_id(self, stack_name: str) -> str | None:
        """The deployment id deploy-stack registered for ``stack_name``, if any."""
        with self.store.transaction() as tx:
            stack = tx.get_stack(stack_name)
            if stack is None or not _managed_by(stack.labels, stack_name):
                return None
            return stack.labels.get(LABEL_DEPLOYMENT)

    def unregister_deployment(self, stack_name: str) -> DeploymentRecord:
        """Remove, in one transaction, everything deploy-stack registered for ``stack_name``."""
        with self.audited("deployment.unregister", stack_name):
            return self._unregister_deployment(stack_name)

    def _unregister_deployment(self, stack_name: str) -> DeploymentRecord:
        with self.store.transaction() as tx:
            stack = tx.get_stack(stack_name)
            removed = DeploymentRecord()
            if stack is not None and _managed_by(stack.labels, stack_name):
                tx.delete_stack(stack_name)
                removed.stack = stack_name
            for component in tx.list_components():
                if _managed_by(component.labels, stack_name):
                    users = tx.stacks_using_component(component.name)
                    if users:
                        raise InUseError(
                            f"component {component.name!r} of {stack_name!r} is also used by stack(s) "
                            f"{', '.join(users)}: remove it from them first"
                        )
                    tx.delete_component(component.name)
                    self._drop_owned_secrets(tx, "component", component.name)
                    removed.components.append(component.name)
            for connector in tx.list_connectors():
                if _managed_by(connector.labels, stack_name):
                    tx.delete_connector(connector.name)
                    self._drop_owned_secrets(tx, "connector", connector.name)
                    removed.connectors.append(connector.name)
        if removed.stack and self.active_stack() == stack_name:
            self._active_file.unlink(missing_ok=True)
        return removed

    def active_stack(self) -> str | None:
        """This user's active stack, if one is set."""
        if self._active_file.exists():
            return self._active_file.read_text().strip() or None
        return None


class DeploymentRecord(BaseModel):
    """What a deployment registered (or unregistered)."""

    stack: str | None = None
    components: list[str] = Field(default_factory=list)
    connectors: list[str] = Field(default_factory=list)


def _managed_by(labels: Mapping[str, str], stack_name: str) -> bool:
    return labels.get(LABEL_MANAGED_BY) == MANAGED_BY and labels.get(LABEL_STACK) == stack_name


def _require(value: Any, kind: str, name: str) -> Any:
    if value is None:
        raise NotFoundError(f"{kind} {name!r} does not exist")
    return value


def _check_secret_name(name: str) -> None:
    if not re.match(SECRET_NAME_PATTERN, name):
        raise InputError(f"invalid secret name {name!r}: use lowercase letters, digits, _ and -")


def _check_secret_key(key: str) -> None:
    if not re.fullmatch(SECRET_KEY_PATTERN, key):
        raise InputError(f"invalid secret key {key!r}: use letters, digits, _ and -, not starting with a digit")
