"""The Registry facade: one unit of work per call, delegated to the small services.

Each public method opens one unit of work (one transaction), in which the service passes the
permission gate (``provisioner.registry.access.AccessGate``) and then reads or writes; a success is
audited in that same transaction, a refusal or error after its rollback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from provisioner.errors import PermissionDeniedError, ProvisionerError
from provisioner.recipe_api import RecipeContext, RegistrationPlan
from provisioner.registry.access import (
    AccessGate,
    AuditEntry,
    Need,
    Permission,
    Role,
    UserInfo,
    current_user,
)
from provisioner.registry.audit import AuditService
from provisioner.registry.audit_chain import ChainReport
from provisioner.registry.catalog import UNSET, ActiveStackFile, CatalogService
from provisioner.registry.catalog_rules import CatalogRules
from provisioner.registry.deployments import DeploymentRecord, DeploymentService
from provisioner.registry.flavors import FlavorRegistry
from provisioner.registry.history import DeploymentRun, medians
from provisioner.registry.models import (
    Component,
    ComponentDetail,
    ComponentSpec,
    ComponentType,
    Connector,
    ConnectorSpec,
    LockInfo,
    SecretDetail,
    SecretInfo,
    Stack,
    StackDetail,
    TokenInfo,
)
from provisioner.registry.secret_service import SECRET_BACKEND_SETTING, SecretService
from provisioner.registry.store import Store
from provisioner.registry.tokens import IssuedToken, TokenService
from provisioner.registry.unit_of_work import UnitOfWork, unit_of_work
from provisioner.registry.users import UserService
from provisioner.registry.vault import SecretVault
from provisioner.secrets import SecretBackend

if TYPE_CHECKING:
    from provisioner.registry.locks import StackLocks

__all__ = ["DeploymentRecord", "Registry"]

T = TypeVar("T")


class Registry:
    """Registers, reads and removes components, connectors, stacks and secrets."""

    def __init__(
        self,
        store: Store,
        flavors: FlavorRegistry,
        backend: SecretBackend,
        active_file: Path,
        user: str | None = None,
        gate: AccessGate | None = None,
        *,
        bootstrap: bool = True,
    ) -> None:
        self.store = store
        self.flavors = flavors
        self.user = user or current_user()
        self.gate = gate or AccessGate()
        self.vault = SecretVault(backend)
        active = ActiveStackFile(active_file)
        self.rules = CatalogRules(flavors, self.vault)
        self.audit = AuditService(store, self.user)
        self.users_service = UserService()
        self.secrets = SecretService(self.vault)
        self.catalog = CatalogService(self.rules, active)
        self.deployments = DeploymentService(self.rules, active)
        self.tokens = TokenService()
        if bootstrap:
            self._bootstrap()

    def _bootstrap(self) -> None:
        """Embedded mode: the first user of a new registry is its admin.

        "New" means no user and no audit row yet: emptying the users table of a used registry does
        not make the next caller an admin.
        """
        from sqlalchemy.exc import IntegrityError

        try:
            with self.store.transaction() as tx:
                if not tx.users() and not tx.audit_count():
                    tx.save_user(self.user, Role.ADMIN.value)
                    tx.add_audit(user=self.user, action="user.bootstrap", target=self.user, result="ok", detail="first user: admin")
        except IntegrityError:
            pass  # another process bootstrapped the same new registry at the same moment

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

            registry.vault.use_backend(make_backend(chosen["name"], chosen.get("options", {}), home=home()))
        return registry

    @property
    def backend(self) -> SecretBackend:
        """Where new secret values go."""
        return self.vault.backend

    @property
    def locks(self) -> StackLocks:
        """Per-stack operation locks."""
        from provisioner.registry.locks import StackLocks

        return StackLocks(self.store, self.user)

    # ----- units of work ----------------------------------------------------------------------

    @contextmanager
    def unit(self) -> Iterator[UnitOfWork]:
        """A new unit of work for the current user."""
        with unit_of_work(self.store, self.user, self.gate) as uow:
            yield uow

    def run(self, action: str | None, target: str, operation: Callable[[UnitOfWork], T]) -> T:
        """Run ``operation`` in one unit of work; audit it as ``action`` (ok inside it, else after)."""
        if action is None:
            with self.unit() as uow:
                return operation(uow)
        try:
            with self.unit() as uow:
                result = operation(uow)
                self.audit.ok(uow, action, target)
        except ProvisionerError as exc:
            self.audit.failed(action, target, exc)
            raise
        return result

    def read(self, action: str, target: str, operation: Callable[[UnitOfWork], T]) -> T:
        """Run a read in one unit of work: not audited when allowed, a refusal audited as ``action``."""
        try:
            with self.unit() as uow:
                return operation(uow)
        except PermissionDeniedError as exc:
            self.audit.failed(action, target, exc)
            raise

    @contextmanager
    def audited(self, action: str, target: str) -> Iterator[None]:
        """Record the outcome of a block of several calls (ok, denied or error) in its own transaction."""
        with self.audit.audited(action, target):
            yield

    def record_outcome(self, action: str, target: str, result: str, detail: str = "") -> None:
        """Audit the outcome of work done outside the registry (a client's deploy or destroy)."""

        def record(uow: UnitOfWork) -> None:
            uow.require(Need.ANYONE, target, "reporting an outcome")
            uow.tx.add_audit(user=uow.user, action=action, target=target, result=result, detail=" ".join(detail.split()))

        self.run(None, target, record)

    def record_run(self, run: DeploymentRun) -> int:
        """Keep a deploy or destroy in the stack's history, as run by the acting user; its id."""

        def record(uow: UnitOfWork) -> int:
            uow.require(Need.STACK, run.stack, "recording a deployment")
            return uow.tx.add_run(run.model_copy(update={"user": uow.user}))

        return self.run(None, run.stack, record)

    def runs(self, stack_name: str, limit: int = 50) -> list[DeploymentRun]:
        """The stack's deploys and destroys, newest first (kept after the stack is destroyed)."""

        def read(uow: UnitOfWork) -> list[DeploymentRun]:
            uow.require(Need.STACK, stack_name, "reading the deployment history")
            return uow.tx.runs(stack_name, limit=limit)

        return self.read("stack.history", stack_name, read)

    def latest_runs(self, kinds: tuple[str, ...] = ("deploy", "destroy")) -> dict[str, DeploymentRun]:
        """Each stack's newest run of these kinds, destroyed stacks included: only stacks the user may see."""

        def read(uow: UnitOfWork) -> dict[str, DeploymentRun]:
            found = uow.tx.latest_runs(kinds)
            names = sorted(found)
            permissions = [Permission(Need.STACK, name, "reading the deployment history") for name in names]
            allowed = uow.gate.allows_each(uow.tx, uow.user, permissions)
            return {name: found[name] for name, ok in zip(names, allowed) if ok}

        return self.run(None, "stacks", read)

    def duration_medians(self) -> dict[str, float]:
        """Median real seconds per ``type#op`` over this registry's recent real runs (no stack names)."""

        def read(uow: UnitOfWork) -> dict[str, float]:
            uow.require(Need.ANYONE, "", "reading typical durations")
            return medians(uow.tx.runs(limit=200, real_only=True))

        return self.run(None, "", read)

    def zenml_push(self, stack_name: str) -> dict[str, Any] | None:
        """What `stack push` created in ZenML for this stack (url, project, objects), or None."""

        def read(uow: UnitOfWork) -> dict[str, Any] | None:
            uow.require(Need.STACK, stack_name, "reading the ZenML push record")
            return uow.tx.zenml_push(stack_name)

        return self.run(None, stack_name, read)

    def record_zenml_push(self, stack_name: str, url: str, project: str, push_id: str, objects: list[dict[str, Any]]) -> None:
        """Record what a push created in ZenML (admins only: a push creates service connectors); audited."""

        def record(uow: UnitOfWork) -> None:
            uow.require(Need.ADMIN, stack_name, "pushing stacks to ZenML")
            uow.tx.save_zenml_push(stack_name, url=url, project=project, push_id=push_id, pushed_by=uow.user, objects=objects)

        self.run("stack.push", stack_name, record)

    def forget_zenml_push(self, stack_name: str) -> bool:
        """Drop the push record once what it lists is gone from ZenML (admins only); audited."""

        def forget(uow: UnitOfWork) -> bool:
            uow.require(Need.ADMIN, stack_name, "removing stacks from ZenML")
            return uow.tx.delete_zenml_push(stack_name)

        return self.run("stack.unpush", stack_name, forget)

    def clear_lock(self, stack_name: str, *, force: bool = False) -> LockInfo | None:
        """Remove a stale lock (or any, with ``force``) for a user who may use the stack; audited."""

        def clear(uow: UnitOfWork) -> LockInfo | None:
            uow.require(Need.STACK, stack_name, "clearing the lock")
            return None

        self.run(None, stack_name, clear)
        with self.audited("unlock", stack_name):
            return self.locks.clear(stack_name, force=force)

    # ----- identity, access and audit ---------------------------------------------------------

    def role(self) -> Role:
        """The current user's role; users nobody added are members."""
        return self.run(None, self.user, self.users_service.role)

    def require_stack_access(self, stack_name: str, what: str) -> None:
        """Refuse if the stack is restricted to named users and the current user is not one (admins pass)."""
        self.run(None, stack_name, lambda uow: uow.require(Need.STACK, stack_name, what))

    def require_connector_access(self, connector_name: str, what: str) -> None:
        """A connector used by restricted stacks is usable only by users granted one of those stacks."""
        self.run(None, connector_name, lambda uow: uow.require(Need.CONNECTOR, connector_name, what))

    def users(self) -> list[UserInfo]:
        return self.run(None, "users", self.users_service.users)

    def set_user(self, name: str, role: Role) -> UserInfo:
        """Add a user or change a role (admins only); the last admin cannot be demoted."""
        return self.run("user.set", f"{name}={role.value}", lambda uow: self.users_service.set_user(uow, name, role))

    def remove_user(self, name: str) -> None:
        """Remove a user and revoke their tokens (admins only)."""

        def remove(uow: UnitOfWork) -> None:
            self.users_service.remove_user(uow, name)
            uow.tx.revoke_tokens(user=name)

        self.run("user.remove", name, remove)

    def add_user(self, name: str, role: Role, *, lifetime: timedelta | None = None) -> IssuedToken:
        """Add a user and issue their first API token, shown once (admins only)."""

        def add(uow: UnitOfWork) -> IssuedToken:
            self.users_service.add_user(uow, name, role)
            return self.tokens.issue(uow, name, **({"lifetime": lifetime} if lifetime else {}))

        return self.run("user.add", f"{name}={role.value}", add)

    def set_user_disabled(self, name: str, disabled: bool) -> UserInfo:
        """Disable a user (their tokens stop working on the next request) or enable them again."""
        return self.run(
            "user.disable" if disabled else "user.enable", name,
            lambda uow: self.users_service.set_disabled(uow, name, disabled),
        )

    def issue_token(self, user: str, *, lifetime: timedelta | None = None, revoke_others: bool = False) -> IssuedToken:
        """A new API token for ``user``; with ``revoke_others`` their older tokens stop working (rotation)."""

        def issue(uow: UnitOfWork) -> IssuedToken:
            issued = self.tokens.issue(uow, user, **({"lifetime": lifetime} if lifetime else {}))
            if revoke_others:
                for old in uow.tx.tokens(user):
                    if old.id != issued.info.id and old.revoked_at is None:
                        uow.tx.revoke_tokens(token_id=old.id)
            return issued

        return self.run("token.rotate" if revoke_others else "token.issue", user, issue)

    def list_tokens(self, user: str | None = None) -> list[TokenInfo]:
        return self.run(None, user or "tokens", lambda uow: self.tokens.list(uow, user))

    def revoke_tokens(self, *, user: str | None = None, token_id: int | None = None) -> list[TokenInfo]:
        """Revoke a user's tokens, or one token by id (admins only)."""
        target = user if user is not None else f"token {token_id}"
        return self.run("token.revoke", target, lambda uow: self.tokens.revoke(uow, user=user, token_id=token_id))

    def grant(self, stack_name: str, user: str) -> list[str]:
        """Restrict a stack to named users, adding ``user`` (admins only)."""
        return self.run("stack.grant", f"{stack_name}:{user}", lambda uow: self.users_service.grant(uow, stack_name, user))

    def revoke(self, stack_name: str, user: str) -> list[str]:
        """Remove ``user`` from a stack's allowed users (admins only); no users left means unrestricted."""
        return self.run("stack.revoke", f"{stack_name}:{user}", lambda uow: self.users_service.revoke(uow, stack_name, user))

    def stack_grants(self, stack_name: str) -> list[str]:
        return self.run(None, stack_name, lambda uow: self.users_service.stack_grants(uow, stack_name))

    def audit_log(self, *, since: datetime | None = None, user: str | None = None) -> list[AuditEntry]:
        return self.run(None, "audit", lambda uow: self.audit.entries(uow, since=since, user=user))

    def verify_audit(self) -> ChainReport:
        """Check the audit log's hash chain and head; the report names the first broken row."""
        return self.run(None, "audit", self.audit.verify)

    # ----- secrets ------------------------------------------------------------------------------

    def set_secret_backend(self, name: str, options: Mapping[str, str]) -> None:
        """Choose where this registry keeps new secret values (admins only)."""
        self.run("secret-backend.set", name, lambda uow: self.secrets.set_secret_backend(uow, name, options))

    def secret_backend(self) -> dict[str, Any]:
        return self.run(None, SECRET_BACKEND_SETTING, self.secrets.secret_backend)

    def set_secret(self, name: str, values: Mapping[str, str], *, labels: Mapping[str, str] | None = None) -> SecretInfo:
        """Create a secret, or add/replace keys of an existing one."""
        return self.run("secret.set", name, lambda uow: self.secrets.set_secret(uow, name, values, labels=labels))

    def list_secrets(self) -> list[SecretInfo]:
        return self.run(None, "secrets", self.secrets.list_secrets)

    def describe_secret(self, name: str, *, show_values: bool = False) -> SecretDetail:
        return self.run(
            "secret.read" if show_values else None, name,
            lambda uow: self.secrets.describe_secret(uow, name, show_values=show_values),
        )

    def delete_secret(self, name: str) -> None:
        """Delete a secret; refused while a component or connector references it."""
        self.run("secret.delete", name, lambda uow: self.secrets.delete_secret(uow, name))

    def resolve(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """``config`` with every ``{{secret:NAME.KEY}}`` replaced by its value (each secret read is gated)."""
        return self.run(None, "config", lambda uow: self.secrets.resolve(uow, config))

    # ----- connectors ---------------------------------------------------------------------------

    def register_connector(self, spec: ConnectorSpec, *, replace: bool = False) -> Connector:
        """Register a service connector (admins only); plain secret values go to the secret store."""
        return self.run("connector.register", spec.name, lambda uow: self.catalog.register_connector(uow, spec, replace=replace))

    def get_connector(self, name: str) -> Connector:
        return self.run(None, name, lambda uow: self.catalog.get_connector(uow, name))

    def list_connectors(self) -> list[Connector]:
        return self.run(None, "connectors", self.catalog.list_connectors)

    def describe_connector(self, name: str, *, show_secrets: bool = False) -> Connector:
        """The connector; with ``show_secrets`` its configuration resolved (audited, needs access to it)."""
        return self.run(
            "connector.read-secrets" if show_secrets else None, name,
            lambda uow: self.catalog.describe_connector(uow, name, show_secrets=show_secrets),
        )

    def use_connector(self, name: str) -> tuple[Connector, dict[str, Any]]:
        """The connector and its resolved configuration, to authenticate with it (audited as connector.use)."""
        return self.run("connector.use", name, lambda uow: self.catalog.use_connector(uow, name))

    def set_connector_disabled(self, name: str, disabled: bool) -> Connector:
        """Disable a connector (it verifies and issues nothing from the next request on) or enable it."""
        return self.run(
            "connector.disable" if disabled else "connector.enable", name,
            lambda uow: self.catalog.set_connector_disabled(uow, name, disabled),
        )

    def delete_connector(self, name: str) -> None:
        """Delete a connector and its owned secret (admins only); refused while components link to it."""
        self.run("connector.delete", name, lambda uow: self.catalog.delete_connector(uow, name))

    # ----- components ---------------------------------------------------------------------------

    def register_component(self, spec: ComponentSpec, *, replace: bool = False) -> Component:
        """Register a component after validating its flavor, config and connector."""
        return self.run("component.register", spec.name, lambda uow: self.catalog.register_component(uow, spec, replace=replace))

    def update_component(
        self,
        name: str,
        *,
        config: Mapping[str, Any] | None = None,
        labels: Mapping[str, str] | None = None,
        connector: str | None = UNSET,
    ) -> Component:
        """Merge new config values and labels into a component; ``connector=None`` unlinks it."""
        return self.run(
            "component.update", name,
            lambda uow: self.catalog.update_component(uow, name, config=config, labels=labels, connector=connector),
        )

    def get_component(self, name: str) -> Component:
        return self.run(None, name, lambda uow: self.catalog.get_component(uow, name))

    def list_components(self, component_type: ComponentType | None = None) -> list[Component]:
        return self.run(None, "components", lambda uow: self.catalog.list_components(uow, component_type))

    def describe_component(self, name: str, *, show_secrets: bool = False) -> ComponentDetail:
        return self.run(
            "component.read-secrets" if show_secrets else None, name,
            lambda uow: self.catalog.describe_component(uow, name, show_secrets=show_secrets),
        )

    def delete_component(self, name: str) -> None:
        """Delete a component and its owned secret; refused while a stack uses it."""
        self.run("component.delete", name, lambda uow: self.catalog.delete_component(uow, name))

    # ----- stacks -------------------------------------------------------------------------------

    def register_stack(
        self, name: str, component_names: Iterable[str], *, labels: Mapping[str, str] | None = None, replace: bool = False
    ) -> Stack:
        """Group components into a stack: one per type, with an orchestrator and an artifact store."""
        names = list(component_names)
        return self.run(
            "stack.register", name, lambda uow: self.catalog.register_stack(uow, name, names, labels=labels, replace=replace)
        )

    def get_stack(self, name: str) -> Stack:
        return self.read("stack.read", name, lambda uow: self.catalog.get_stack(uow, name))

    def list_stacks(self) -> list[Stack]:
        return self.run(None, "stacks", self.catalog.list_stacks)

    def describe_stack(self, name: str, *, show_secrets: bool = False) -> StackDetail:
        """The stack with each component and its connector; secrets stay references unless asked."""
        operation = lambda uow: self.catalog.describe_stack(uow, name, show_secrets=show_secrets)  # noqa: E731
        return self.run("stack.read-secrets", name, operation) if show_secrets else self.read("stack.read", name, operation)

    def delete_stack(self, name: str) -> None:
        """Delete a stack; its components stay registered."""
        self.run("stack.delete", name, lambda uow: self.catalog.delete_stack(uow, name))

    def set_active_stack(self, name: str) -> None:
        """Remember ``name`` as this user's active stack."""
        self.run("stack.set-active", name, lambda uow: self.catalog.set_active_stack(uow, name))

    def active_stack(self) -> str | None:
        """This user's active stack, if one is set (a file of this user's, not registry data)."""
        return self.catalog.active.get()

    # ----- deployments --------------------------------------------------------------------------

    def apply_deployment(
        self, plan: RegistrationPlan, context: RecipeContext, *, held_lock: str | None = None
    ) -> DeploymentRecord:
        """Register a deployment's connectors, components and stack in one unit of work, under the stack's lock.

        ``held_lock``: the token of the lock a client took for its deploy (a server registers under it);
        without it, or when the stack's lock no longer carries it, the lock is taken here.
        """
        def register(uow: UnitOfWork) -> DeploymentRecord:
            return self.deployments.apply_deployment(uow, plan, context)

        with self.audit.audited("deployment.register", context.stack_name):
            holder = self.locks.holder(context.stack_name) if held_lock else None
            if holder is not None and holder.token == held_lock and holder.user == self.user:
                return self.run(None, context.stack_name, register)
            with self.locks.hold(context.stack_name, "register"):
                return self.run(None, context.stack_name, register)

    def check_deployment_rights(self, plan: RegistrationPlan, context: RecipeContext) -> None:
        """Raise PermissionDeniedError unless the user may register ``plan`` (deploy-stack audits the denial)."""
        self.run(None, context.stack_name, lambda uow: self.deployments.check_rights(uow, plan, context))

    def deployment(self, stack_name: str) -> DeploymentRecord:
        """What deploy-stack registered for ``stack_name`` (empty if nothing)."""
        return self.run(None, stack_name, lambda uow: self.deployments.deployment(uow, stack_name))

    def deployment_id(self, stack_name: str) -> str | None:
        """The deployment id deploy-stack registered for ``stack_name``, if any."""
        return self.run(None, stack_name, lambda uow: self.deployments.deployment_id(uow, stack_name))

    def unregister_deployment(self, stack_name: str) -> DeploymentRecord:
        """Remove, in one unit of work, everything deploy-stack registered for ``stack_name``."""
        return self.run(
            "deployment.unregister", stack_name, lambda uow: self.deployments.unregister_deployment(uow, stack_name)
        )
