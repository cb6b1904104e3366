"""The REST API: one route per registry operation, each a thin call to the Registry facade.

Every route acts as the token's user through the same facade the embedded CLI uses, so the one
permission gate and the audit log cover every path. Request bodies are pydantic models.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi import APIRouter, FastAPI, Query, Response
from pydantic import BaseModel, Field, TypeAdapter

from provisioner.connectors.models import ReachableResources, ScopedCredentials, VerifyReport
from provisioner.errors import InputError
from provisioner.exports.format import StackExport
from provisioner.recipe_api import RecipeContext, RegistrationPlan
from provisioner.registry.access import AuditEntry, Role, UserInfo
from provisioner.registry.audit_chain import ChainReport
from provisioner.registry.deployments import DeploymentRecord
from provisioner.registry.history import DeploymentRun
from provisioner.registry.models import (
    Component,
    ComponentDetail,
    ComponentSpec,
    ComponentType,
    Connector,
    ConnectorSpec,
    LockInfo,
    ResourceType,
    SecretDetail,
    SecretInfo,
    Stack,
    StackDetail,
    TokenInfo,
)
from provisioner.registry.tokens import IssuedToken
from provisioner.server.app import RegistryDep

PLAN = TypeAdapter(RegistrationPlan)
CONTEXT = TypeAdapter(RecipeContext)
# Outcomes a client reports for work it ran itself (the engine runs where the cloud credentials are).
CLIENT_ACTIONS = frozenset({"deploy", "destroy"})


class WhoAmI(BaseModel):
    user: str
    role: Role


class NewUser(BaseModel):
    name: str
    role: Role = Role.MEMBER
    lifetime_days: int | None = Field(default=None, ge=1, le=366)


class RoleChange(BaseModel):
    role: Role


class NewToken(BaseModel):
    lifetime_days: int | None = Field(default=None, ge=1, le=366)
    revoke_others: bool = False


class TokenRevocation(BaseModel):
    user: str | None = None
    token_id: int | None = None


class Grant(BaseModel):
    user: str


class ZenMLPushRecord(BaseModel):
    url: str
    project: str
    push_id: str
    objects: list[dict[str, Any]]


class ClientEvent(BaseModel):
    action: str
    target: str
    result: str = Field(pattern="^(ok|denied|error)$")
    detail: str = ""


class SecretBackendChoice(BaseModel):
    name: str
    options: dict[str, str] = Field(default_factory=dict)


class SecretValues(BaseModel):
    values: dict[str, str]
    labels: dict[str, str] | None = None


class ConnectorRegistration(BaseModel):
    spec: ConnectorSpec
    replace: bool = False


class ComponentRegistration(BaseModel):
    spec: ComponentSpec
    replace: bool = False


class ComponentChange(BaseModel):
    """Fields to change; ``connector`` absent leaves the link, null unlinks it."""

    config: dict[str, Any] | None = None
    labels: dict[str, str] | None = None
    connector: str | None = None


class StackRegistration(BaseModel):
    name: str
    components: list[str]
    labels: dict[str, str] | None = None
    replace: bool = False


class StackImport(BaseModel):
    document: StackExport
    name: str | None = None


class ImportOutcome(BaseModel):
    stack: str
    connectors: list[str]
    components: list[str]
    notes: list[str]


class ResourceRequest(BaseModel):
    resource_id: str | None = None
    resource_type: ResourceType | None = None


class DeploymentRequest(BaseModel):
    plan: dict[str, Any]
    context: dict[str, Any]
    lock_token: str | None = None  # the lock the client holds for this deploy

    def parsed(self) -> tuple[RegistrationPlan, RecipeContext]:
        try:
            return PLAN.validate_python(self.plan), CONTEXT.validate_python(self.context)
        except ValueError as exc:
            raise InputError(f"invalid registration plan: {' '.join(str(exc).split())}") from None


class LockRequest(BaseModel):
    operation: str
    host: str
    pid: int
    token: str = Field(min_length=16, max_length=64)


def _lifetime(days: int | None) -> timedelta | None:
    return timedelta(days=days) if days else None


def _identity(router: APIRouter) -> None:
    @router.get("/whoami", tags=["identity"])
    def whoami(registry: RegistryDep) -> WhoAmI:
        return WhoAmI(user=registry.user, role=registry.role())

    @router.get("/users", tags=["identity"])
    def list_users(registry: RegistryDep) -> list[UserInfo]:
        return registry.users()

    @router.post("/users", tags=["identity"], status_code=201)
    def add_user(body: NewUser, registry: RegistryDep) -> IssuedToken:
        """Add a user and issue their first token; the token is in this response only."""
        return registry.add_user(body.name, body.role, lifetime=_lifetime(body.lifetime_days))

    @router.put("/users/{name}/role", tags=["identity"])
    def set_role(name: str, body: RoleChange, registry: RegistryDep) -> UserInfo:
        return registry.set_user(name, body.role)

    @router.delete("/users/{name}", tags=["identity"], status_code=204)
    def remove_user(name: str, registry: RegistryDep) -> Response:
        registry.remove_user(name)
        return Response(status_code=204)

    @router.post("/users/{name}/disable", tags=["identity"])
    def disable_user(name: str, registry: RegistryDep) -> UserInfo:
        return registry.set_user_disabled(name, True)

    @router.post("/users/{name}/enable", tags=["identity"])
    def enable_user(name: str, registry: RegistryDep) -> UserInfo:
        return registry.set_user_disabled(name, False)

    @router.post("/users/{name}/tokens", tags=["identity"], status_code=201)
    def issue_token(name: str, body: NewToken, registry: RegistryDep) -> IssuedToken:
        return registry.issue_token(name, lifetime=_lifetime(body.lifetime_days), revoke_others=body.revoke_others)

    @router.get("/tokens", tags=["identity"])
    def list_tokens(registry: RegistryDep, user: str | None = None) -> list[TokenInfo]:
        return registry.list_tokens(user)

    @router.post("/tokens/revoke", tags=["identity"])
    def revoke_tokens(body: TokenRevocation, registry: RegistryDep) -> list[TokenInfo]:
        return registry.revoke_tokens(user=body.user, token_id=body.token_id)

    @router.get("/stacks/{name}/grants", tags=["identity"])
    def grants(name: str, registry: RegistryDep) -> list[str]:
        return registry.stack_grants(name)

    @router.post("/stacks/{name}/grants", tags=["identity"])
    def grant(name: str, body: Grant, registry: RegistryDep) -> list[str]:
        return registry.grant(name, body.user)

    @router.delete("/stacks/{name}/grants/{user}", tags=["identity"])
    def revoke(name: str, user: str, registry: RegistryDep) -> list[str]:
        return registry.revoke(name, user)

    @router.get("/stacks/{name}/runs", tags=["stacks"])
    def runs(name: str, registry: RegistryDep, limit: int = 50) -> list[DeploymentRun]:
        """The stack's deploys and destroys, newest first."""
        return registry.runs(name, limit)

    @router.post("/stacks/{name}/runs", tags=["stacks"])
    def record_run(name: str, body: DeploymentRun, registry: RegistryDep) -> dict[str, int]:
        if body.stack != name:
            raise InputError(f"the run is for stack {body.stack!r}, not {name!r}")
        return {"id": registry.record_run(body)}

    @router.get("/durations", tags=["stacks"])
    def duration_medians(registry: RegistryDep) -> dict[str, float]:
        """Median real seconds per resource type and operation, from this registry's runs."""
        return registry.duration_medians()

    @router.get("/stacks/{name}/zenml-push", tags=["stacks"])
    def zenml_push(name: str, registry: RegistryDep) -> dict[str, Any] | None:
        """What `stack push` created in ZenML for this stack, or null."""
        return registry.zenml_push(name)

    @router.put("/stacks/{name}/zenml-push", tags=["stacks"], status_code=204)
    def record_zenml_push(name: str, body: ZenMLPushRecord, registry: RegistryDep) -> Response:
        registry.record_zenml_push(name, body.url, body.project, body.push_id, body.objects)
        return Response(status_code=204)

    @router.delete("/stacks/{name}/zenml-push", tags=["stacks"])
    def forget_zenml_push(name: str, registry: RegistryDep) -> dict[str, bool]:
        return {"forgotten": registry.forget_zenml_push(name)}

    @router.get("/audit", tags=["audit"])
    def audit_log(registry: RegistryDep, since: datetime | None = None, user: str | None = None) -> list[AuditEntry]:
        return registry.audit_log(since=since, user=user)

    @router.get("/audit/verify", tags=["audit"])
    def verify_audit(registry: RegistryDep) -> ChainReport:
        """The hash chain's verdict: ok, or the first broken row."""
        return registry.verify_audit()

    @router.post("/audit/events", tags=["audit"], status_code=204)
    def client_event(body: ClientEvent, registry: RegistryDep) -> Response:
        """Record the outcome of a deploy or destroy the client ran (as the token's user)."""
        if body.action not in CLIENT_ACTIONS:
            raise InputError(f"clients report only {', '.join(sorted(CLIENT_ACTIONS))} outcomes, not {body.action!r}")
        registry.record_outcome(body.action, body.target, body.result, body.detail)
        return Response(status_code=204)


def _secrets(router: APIRouter) -> None:
    @router.get("/secret-backend", tags=["secrets"])
    def secret_backend(registry: RegistryDep) -> dict[str, Any]:
        return registry.secret_backend()

    @router.put("/secret-backend", tags=["secrets"], status_code=204)
    def set_secret_backend(body: SecretBackendChoice, registry: RegistryDep) -> Response:
        registry.set_secret_backend(body.name, body.options)
        return Response(status_code=204)

    @router.get("/secrets", tags=["secrets"])
    def list_secrets(registry: RegistryDep) -> list[SecretInfo]:
        return registry.list_secrets()

    @router.put("/secrets/{name}", tags=["secrets"])
    def set_secret(name: str, body: SecretValues, registry: RegistryDep) -> SecretInfo:
        return registry.set_secret(name, body.values, labels=body.labels)

    @router.get("/secrets/{name}", tags=["secrets"])
    def describe_secret(name: str, registry: RegistryDep, show_values: bool = False) -> SecretDetail:
        return registry.describe_secret(name, show_values=show_values)

    @router.delete("/secrets/{name}", tags=["secrets"], status_code=204)
    def delete_secret(name: str, registry: RegistryDep) -> Response:
        registry.delete_secret(name)
        return Response(status_code=204)


def _connectors(router: APIRouter) -> None:
    @router.get("/connectors", tags=["connectors"])
    def list_connectors(registry: RegistryDep) -> list[Connector]:
        return registry.list_connectors()

    @router.post("/connectors", tags=["connectors"], status_code=201)
    def register_connector(body: ConnectorRegistration, registry: RegistryDep) -> Connector:
        return registry.register_connector(body.spec, replace=body.replace)

    @router.get("/connectors/{name}", tags=["connectors"])
    def describe_connector(name: str, registry: RegistryDep, show_secrets: bool = False) -> Connector:
        return registry.describe_connector(name, show_secrets=show_secrets)

    @router.delete("/connectors/{name}", tags=["connectors"], status_code=204)
    def delete_connector(name: str, registry: RegistryDep) -> Response:
        registry.delete_connector(name)
        return Response(status_code=204)

    @router.post("/connectors/{name}/disable", tags=["connectors"])
    def disable_connector(name: str, registry: RegistryDep) -> Connector:
        return registry.set_connector_disabled(name, True)

    @router.post("/connectors/{name}/enable", tags=["connectors"])
    def enable_connector(name: str, registry: RegistryDep) -> Connector:
        return registry.set_connector_disabled(name, False)

    @router.post("/connectors/{name}/verify", tags=["connectors"])
    def verify_connector(name: str, body: ResourceRequest, registry: RegistryDep) -> VerifyReport:
        """Verified here, with the connector's credentials, which never leave the server."""
        from provisioner.connectors import use

        return use.verify(registry, name, body.resource_id, body.resource_type)

    @router.get("/connectors/{name}/resources", tags=["connectors"])
    def connector_resources(name: str, registry: RegistryDep) -> ReachableResources:
        from provisioner.connectors import use

        return use.resources(registry, name)

    @router.post("/connectors/{name}/credentials", tags=["connectors"])
    def connector_credentials(name: str, body: ResourceRequest, registry: RegistryDep) -> ScopedCredentials:
        """Short-lived credentials scoped to one resource, minted here for a user allowed to use the connector."""
        if not body.resource_id:
            raise InputError("credentials need a resource id (--resource-id)")
        from provisioner.connectors import use

        return use.credentials(registry, name, body.resource_type, body.resource_id)


def _components(router: APIRouter) -> None:
    @router.get("/components", tags=["components"])
    def list_components(registry: RegistryDep, type: ComponentType | None = Query(default=None)) -> list[Component]:  # noqa: A002
        return registry.list_components(type)

    @router.post("/components", tags=["components"], status_code=201)
    def register_component(body: ComponentRegistration, registry: RegistryDep) -> Component:
        return registry.register_component(body.spec, replace=body.replace)

    @router.get("/components/{name}", tags=["components"])
    def get_component(name: str, registry: RegistryDep) -> Component:
        return registry.get_component(name)

    @router.get("/components/{name}/detail", tags=["components"])
    def describe_component(name: str, registry: RegistryDep, show_secrets: bool = False) -> ComponentDetail:
        return registry.describe_component(name, show_secrets=show_secrets)

    @router.patch("/components/{name}", tags=["components"])
    def update_component(name: str, body: ComponentChange, registry: RegistryDep) -> Component:
        from provisioner.registry.catalog import UNSET

        connector = body.connector if "connector" in body.model_fields_set else UNSET
        return registry.update_component(name, config=body.config, labels=body.labels, connector=connector)

    @router.delete("/components/{name}", tags=["components"], status_code=204)
    def delete_component(name: str, registry: RegistryDep) -> Response:
        registry.delete_component(name)
        return Response(status_code=204)


def _stacks(router: APIRouter) -> None:
    @router.get("/stacks", tags=["stacks"])
    def list_stacks(registry: RegistryDep) -> list[Stack]:
        return registry.list_stacks()

    @router.post("/stacks", tags=["stacks"], status_code=201)
    def register_stack(body: StackRegistration, registry: RegistryDep) -> Stack:
        return registry.register_stack(body.name, body.components, labels=body.labels, replace=body.replace)

    @router.post("/stacks/import", tags=["stacks"], status_code=201)
    def import_stack(body: StackImport, registry: RegistryDep) -> ImportOutcome:
        from provisioner.exports.importing import import_stack as run_import

        result = run_import(registry, body.document, name=body.name)
        return ImportOutcome(stack=result.stack, connectors=result.connectors, components=result.components, notes=result.notes)

    @router.get("/stacks/{name}", tags=["stacks"])
    def get_stack(name: str, registry: RegistryDep) -> Stack:
        return registry.get_stack(name)

    @router.get("/stacks/{name}/detail", tags=["stacks"])
    def describe_stack(name: str, registry: RegistryDep, show_secrets: bool = False) -> StackDetail:
        return registry.describe_stack(name, show_secrets=show_secrets)

    @router.delete("/stacks/{name}", tags=["stacks"], status_code=204)
    def delete_stack(name: str, registry: RegistryDep) -> Response:
        registry.delete_stack(name)
        return Response(status_code=204)

    @router.get("/stacks/{name}/export", tags=["stacks"])
    def export_stack(name: str, registry: RegistryDep) -> StackExport:
        from provisioner.exports.format import export_stack as run_export

        return run_export(registry, name)

    @router.get("/stacks/{name}/export/zenml", tags=["stacks"])
    def zenml_export(name: str, registry: RegistryDep) -> dict[str, Any]:
        from provisioner.exports.zenml import zenml_export as run_export

        return run_export(registry, name)

    @router.get("/stacks/{name}/zenml-secrets", tags=["stacks"])
    def zenml_secrets(name: str, registry: RegistryDep, show_values: bool = False) -> dict[str, dict[str, str | None]]:
        from provisioner.exports.zenml import zenml_secrets as run_secrets

        return run_secrets(registry, name, show_values=show_values)


def _deployments(router: APIRouter) -> None:
    @router.post("/deployments/check", tags=["deployments"], status_code=204)
    def check_deployment(body: DeploymentRequest, registry: RegistryDep) -> Response:
        """Refuse (403) unless the user may register this plan; called before anything is deployed."""
        plan, context = body.parsed()
        registry.check_deployment_rights(plan, context)
        return Response(status_code=204)

    @router.post("/deployments", tags=["deployments"])
    def apply_deployment(body: DeploymentRequest, registry: RegistryDep) -> DeploymentRecord:
        plan, context = body.parsed()
        return registry.apply_deployment(plan, context, held_lock=body.lock_token)

    @router.get("/deployments/{stack}", tags=["deployments"])
    def deployment(stack: str, registry: RegistryDep) -> DeploymentRecord:
        return registry.deployment(stack)

    @router.get("/deployments/{stack}/id", tags=["deployments"])
    def deployment_id(stack: str, registry: RegistryDep) -> dict[str, str | None]:
        return {"deployment_id": registry.deployment_id(stack)}

    @router.delete("/deployments/{stack}", tags=["deployments"])
    def unregister(stack: str, registry: RegistryDep) -> DeploymentRecord:
        return registry.unregister_deployment(stack)

    @router.post("/stacks/{name}/access-check", tags=["deployments"], status_code=204)
    def stack_access(name: str, registry: RegistryDep, what: str = "using") -> Response:
        registry.require_stack_access(name, what)
        return Response(status_code=204)


def _locks(router: APIRouter) -> None:
    @router.post("/locks/{name}", tags=["locks"])
    def take_lock(name: str, body: LockRequest, registry: RegistryDep) -> dict[str, bool]:
        """Take a stack's lock for the client's run; 423 names the holder. ``taken`` false: it holds it already."""
        from provisioner.registry.locks import StackLocks

        registry.require_stack_access(name, f"locking for {body.operation}")
        lock = LockInfo(name=name, operation=body.operation, user=registry.user, host=body.host, pid=body.pid,
                        token=body.token, since=datetime.now(timezone.utc).replace(tzinfo=None))
        return {"taken": StackLocks(registry.store, registry.user).take(lock)}

    @router.delete("/locks/{name}", tags=["locks"])
    def release_lock(name: str, registry: RegistryDep, token: str | None = None, force: bool = False) -> dict[str, Any]:
        """Release the lock carrying ``token``, or clear a stale (``force``: any) lock, as `provisioner unlock`."""
        from provisioner.registry.locks import StackLocks

        locks = StackLocks(registry.store, registry.user)
        if token is not None:
            return {"released": locks.release(name, token)}
        cleared = registry.clear_lock(name, force=force)
        return {"cleared": cleared.model_dump(mode="json") if cleared else None}


def include(app: FastAPI, prefix: str) -> None:
    """Add every API route under ``prefix``."""
    router = APIRouter(prefix=prefix)
    for group in (_identity, _secrets, _connectors, _components, _stacks, _deployments, _locks):
        group(router)
    app.include_router(router)
