"""RemoteRegistry: the Registry facade's methods, answered by a registry server over httpx.

The CLI and the deploy/destroy flow call the same methods in embedded and client mode. Here the
server decides every permission as the token's user; PROVISIONER_USER means nothing. Connectors'
secrets never come back: verify, list-resources and credentials run on the server.
"""

from __future__ import annotations

import os
import secrets as random
import socket
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from provisioner.client.login import Login
from provisioner.errors import OperationFailedError, ProvisionerError
from provisioner.registry.access import AuditEntry, Role, UserInfo
from provisioner.registry.catalog import UNSET, ActiveStackFile
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

M = TypeVar("M")
TIMEOUT = httpx.Timeout(30.0, connect=5.0)
API = "/api/v1"


def _days(lifetime: timedelta | None) -> int | None:
    return max(1, round(lifetime.total_seconds() / 86400)) if lifetime else None


class RemoteLocks:
    """Stack locks taken on the server for this process (host and pid name the holder)."""

    def __init__(self, registry: RemoteRegistry) -> None:
        self._registry = registry

    @contextmanager
    def hold(self, stack_name: str, operation: str) -> Iterator[None]:
        token = random.token_hex(16)
        body = {"operation": operation, "host": socket.gethostname(), "pid": os.getpid(), "token": token}
        taken = self._registry.call("POST", f"/locks/{stack_name}", json=body)["taken"]
        if taken:
            self._registry.held_locks[stack_name] = token
        try:
            yield
        finally:
            if taken:
                self._registry.held_locks.pop(stack_name, None)
                self._registry.call("DELETE", f"/locks/{stack_name}", params={"token": token})


class RemoteRegistry:
    """The registry as a server sees it for this token's user."""

    remote = True

    def __init__(self, login: Login, *, active_file: Path | None = None, transport: httpx.BaseTransport | None = None) -> None:
        from provisioner.paths import home

        self.url = login.url
        self._client = httpx.Client(
            base_url=login.url + API, headers={"Authorization": f"Bearer {login.token}"}, timeout=TIMEOUT, transport=transport
        )
        self._active = ActiveStackFile(active_file or home() / "active-stack")
        self._whoami: dict[str, str] | None = None
        self.held_locks: dict[str, str] = {}  # stack -> token of the lock this process holds on the server

    # ----- transport ------------------------------------------------------------------------------

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request; a refusal comes back as the library error the server raised (same exit code)."""
        from provisioner.server.errors import KNOWN

        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise OperationFailedError(f"cannot reach the registry server at {self.url}: {exc or type(exc).__name__}") from None
        if response.status_code == 204:
            return None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.is_success:
            return body
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and error.get("type") in KNOWN:
            raise KNOWN[error["type"]](str(error.get("message", "")))
        detail = body.get("detail") if isinstance(body, dict) else response.text[:200]
        if response.status_code == 422:
            from provisioner.errors import InputError

            raise InputError(f"the server refused the request: {' '.join(str(detail).split())}")
        raise OperationFailedError(f"the registry server answered {response.status_code}: {' '.join(str(detail).split())}")

    def _get(self, path: str, model: Any, **params: Any) -> Any:
        query = {k: v for k, v in params.items() if v is not None}
        return TypeAdapter(model).validate_python(self.call("GET", path, params=query))

    def _send(self, method: str, path: str, model: Any, body: Any = None, **params: Any) -> Any:
        if isinstance(body, BaseModel):
            body = body.model_dump(mode="json")
        result = self.call(method, path, json=body, params={k: v for k, v in params.items() if v is not None})
        return None if model is None else TypeAdapter(model).validate_python(result)

    # ----- identity, access and audit ---------------------------------------------------------

    def _me(self) -> dict[str, str]:
        if self._whoami is None:
            self._whoami = self.call("GET", "/whoami")
        return self._whoami

    @property
    def user(self) -> str:
        """The token's user, as the server knows it."""
        return self._me()["user"]

    def role(self) -> Role:
        return Role(self._me()["role"])

    @property
    def locks(self) -> RemoteLocks:
        return RemoteLocks(self)

    def clear_lock(self, stack_name: str, *, force: bool = False) -> LockInfo | None:
        cleared = self.call("DELETE", f"/locks/{stack_name}", params={"force": force})["cleared"]
        return LockInfo.model_validate(cleared) if cleared else None

    def require_stack_access(self, stack_name: str, what: str) -> None:
        self.call("POST", f"/stacks/{stack_name}/access-check", params={"what": what})

    def users(self) -> list[UserInfo]:
        return self._get("/users", list[UserInfo])

    def set_user(self, name: str, role: Role) -> UserInfo:
        return self._send("PUT", f"/users/{name}/role", UserInfo, {"role": role.value})

    def remove_user(self, name: str) -> None:
        self.call("DELETE", f"/users/{name}")

    def add_user(self, name: str, role: Role, *, lifetime: timedelta | None = None) -> IssuedToken:
        return self._send("POST", "/users", IssuedToken, {"name": name, "role": role.value, "lifetime_days": _days(lifetime)})

    def set_user_disabled(self, name: str, disabled: bool) -> UserInfo:
        return self._send("POST", f"/users/{name}/{'disable' if disabled else 'enable'}", UserInfo)

    def issue_token(self, user: str, *, lifetime: timedelta | None = None, revoke_others: bool = False) -> IssuedToken:
        body = {"lifetime_days": _days(lifetime), "revoke_others": revoke_others}
        return self._send("POST", f"/users/{user}/tokens", IssuedToken, body)

    def list_tokens(self, user: str | None = None) -> list[TokenInfo]:
        return self._get("/tokens", list[TokenInfo], user=user)

    def revoke_tokens(self, *, user: str | None = None, token_id: int | None = None) -> list[TokenInfo]:
        return self._send("POST", "/tokens/revoke", list[TokenInfo], {"user": user, "token_id": token_id})

    def grant(self, stack_name: str, user: str) -> list[str]:
        return self._send("POST", f"/stacks/{stack_name}/grants", list[str], {"user": user})

    def revoke(self, stack_name: str, user: str) -> list[str]:
        return self._send("DELETE", f"/stacks/{stack_name}/grants/{user}", list[str])

    def stack_grants(self, stack_name: str) -> list[str]:
        return self._get(f"/stacks/{stack_name}/grants", list[str])

    def record_run(self, run: DeploymentRun) -> int:
        return int(self.call("POST", f"/stacks/{run.stack}/runs", json=run.model_dump(mode="json"))["id"])

    def runs(self, stack_name: str, limit: int = 50) -> list[DeploymentRun]:
        return self._get(f"/stacks/{stack_name}/runs", list[DeploymentRun], limit=limit)

    def duration_medians(self) -> dict[str, float]:
        return self._get("/durations", dict[str, float])

    def zenml_push(self, stack_name: str) -> dict[str, Any] | None:
        return self.call("GET", f"/stacks/{stack_name}/zenml-push")  # type: ignore[no-any-return]

    def record_zenml_push(self, stack_name: str, url: str, project: str, push_id: str, objects: list[dict[str, Any]]) -> None:
        body = {"url": url, "project": project, "push_id": push_id, "objects": objects}
        self.call("PUT", f"/stacks/{stack_name}/zenml-push", json=body)

    def forget_zenml_push(self, stack_name: str) -> bool:
        return bool(self.call("DELETE", f"/stacks/{stack_name}/zenml-push")["forgotten"])

    def audit_log(self, *, since: datetime | None = None, user: str | None = None) -> list[AuditEntry]:
        return self._get("/audit", list[AuditEntry], since=since.isoformat() if since else None, user=user)

    def verify_audit(self) -> Any:
        from provisioner.registry.audit_chain import ChainReport

        return self._get("/audit/verify", ChainReport)

    def record_outcome(self, action: str, target: str, result: str, detail: str = "") -> None:
        self.call("POST", "/audit/events", json={"action": action, "target": target, "result": result, "detail": detail})

    @contextmanager
    def audited(self, action: str, target: str) -> Iterator[None]:
        """Report the block's outcome (ok, denied or error) to the server's audit log, as this token's user."""
        from provisioner.errors import PermissionDeniedError

        try:
            yield
        except ProvisionerError as exc:
            result = "denied" if isinstance(exc, PermissionDeniedError) else "error"
            try:
                self.record_outcome(action, target, result, str(exc))
            except ProvisionerError:
                pass  # the server is unreachable: the original error is what the user must see
            raise
        self.record_outcome(action, target, "ok")

    # ----- secrets ------------------------------------------------------------------------------

    def set_secret_backend(self, name: str, options: Mapping[str, str]) -> None:
        self.call("PUT", "/secret-backend", json={"name": name, "options": dict(options)})

    def secret_backend(self) -> dict[str, Any]:
        return self._get("/secret-backend", dict[str, Any])

    def set_secret(self, name: str, values: Mapping[str, str], *, labels: Mapping[str, str] | None = None) -> SecretInfo:
        body = {"values": dict(values), "labels": dict(labels) if labels is not None else None}
        return self._send("PUT", f"/secrets/{name}", SecretInfo, body)

    def list_secrets(self) -> list[SecretInfo]:
        return self._get("/secrets", list[SecretInfo])

    def describe_secret(self, name: str, *, show_values: bool = False) -> SecretDetail:
        return self._get(f"/secrets/{name}", SecretDetail, show_values=show_values)

    def delete_secret(self, name: str) -> None:
        self.call("DELETE", f"/secrets/{name}")

    # ----- connectors ---------------------------------------------------------------------------

    def register_connector(self, spec: ConnectorSpec, *, replace: bool = False) -> Connector:
        return self._send("POST", "/connectors", Connector, {"spec": spec.model_dump(mode="json"), "replace": replace})

    def get_connector(self, name: str) -> Connector:
        return self._get(f"/connectors/{name}", Connector)

    def list_connectors(self) -> list[Connector]:
        return self._get("/connectors", list[Connector])

    def describe_connector(self, name: str, *, show_secrets: bool = False) -> Connector:
        return self._get(f"/connectors/{name}", Connector, show_secrets=show_secrets)

    def set_connector_disabled(self, name: str, disabled: bool) -> Connector:
        return self._send("POST", f"/connectors/{name}/{'disable' if disabled else 'enable'}", Connector)

    def verify_connector(self, name: str, resource_id: str | None = None, resource_type: ResourceType | None = None) -> Any:
        from provisioner.connectors.models import VerifyReport

        body = {"resource_id": resource_id, "resource_type": resource_type.value if resource_type else None}
        return self._send("POST", f"/connectors/{name}/verify", VerifyReport, body)

    def connector_resources(self, name: str) -> Any:
        from provisioner.connectors.models import ReachableResources

        return self._get(f"/connectors/{name}/resources", ReachableResources)

    def connector_credentials(self, name: str, resource_type: ResourceType | None, resource_id: str) -> Any:
        from provisioner.connectors.models import ScopedCredentials

        body = {"resource_id": resource_id, "resource_type": resource_type.value if resource_type else None}
        return self._send("POST", f"/connectors/{name}/credentials", ScopedCredentials, body)

    def delete_connector(self, name: str) -> None:
        self.call("DELETE", f"/connectors/{name}")

    # ----- components ---------------------------------------------------------------------------

    def register_component(self, spec: ComponentSpec, *, replace: bool = False) -> Component:
        return self._send("POST", "/components", Component, {"spec": spec.model_dump(mode="json"), "replace": replace})

    def update_component(
        self,
        name: str,
        *,
        config: Mapping[str, Any] | None = None,
        labels: Mapping[str, str] | None = None,
        connector: str | None = UNSET,
    ) -> Component:
        body: dict[str, Any] = {"config": dict(config) if config is not None else None,
                                "labels": dict(labels) if labels is not None else None}
        if connector is not UNSET:
            body["connector"] = connector
        return self._send("PATCH", f"/components/{name}", Component, body)

    def get_component(self, name: str) -> Component:
        return self._get(f"/components/{name}", Component)

    def list_components(self, component_type: ComponentType | None = None) -> list[Component]:
        return self._get("/components", list[Component], type=component_type.value if component_type else None)

    def describe_component(self, name: str, *, show_secrets: bool = False) -> ComponentDetail:
        return self._get(f"/components/{name}/detail", ComponentDetail, show_secrets=show_secrets)

    def delete_component(self, name: str) -> None:
        self.call("DELETE", f"/components/{name}")

    # ----- stacks -------------------------------------------------------------------------------

    def register_stack(
        self, name: str, component_names: Iterable[str], *, labels: Mapping[str, str] | None = None, replace: bool = False
    ) -> Stack:
        body = {"name": name, "components": list(component_names), "labels": dict(labels) if labels else None, "replace": replace}
        return self._send("POST", "/stacks", Stack, body)

    def get_stack(self, name: str) -> Stack:
        return self._get(f"/stacks/{name}", Stack)

    def list_stacks(self) -> list[Stack]:
        return self._get("/stacks", list[Stack])

    def describe_stack(self, name: str, *, show_secrets: bool = False) -> StackDetail:
        detail: StackDetail = self._get(f"/stacks/{name}/detail", StackDetail, show_secrets=show_secrets)
        return detail.model_copy(update={"active": self._active.get() == name})

    def delete_stack(self, name: str) -> None:
        self.call("DELETE", f"/stacks/{name}")
        self._active.forget(name)

    def set_active_stack(self, name: str) -> None:
        self.get_stack(name)
        self._active.set(name)

    def active_stack(self) -> str | None:
        return self._active.get()

    # ----- exports ------------------------------------------------------------------------------

    def export_stack(self, name: str) -> Any:
        from provisioner.exports.format import StackExport

        return self._get(f"/stacks/{name}/export", StackExport)

    def import_stack(self, document: Any, *, name: str | None = None) -> Any:
        from provisioner.exports.importing import ImportResult

        result = self._send("POST", "/stacks/import", dict[str, Any], {"document": document.model_dump(mode="json"), "name": name})
        return ImportResult(**result)

    # ----- deployments --------------------------------------------------------------------------

    @staticmethod
    def _deployment_body(plan: Any, context: Any) -> dict[str, Any]:
        return {"plan": TypeAdapter(type(plan)).dump_python(plan, mode="json"), "context": _context_dict(context)}

    def apply_deployment(self, plan: Any, context: Any) -> DeploymentRecord:
        body = {**self._deployment_body(plan, context), "lock_token": self.held_locks.get(context.stack_name)}
        return self._send("POST", "/deployments", DeploymentRecord, body)

    def check_deployment_rights(self, plan: Any, context: Any) -> None:
        self.call("POST", "/deployments/check", json=self._deployment_body(plan, context))

    def deployment(self, stack_name: str) -> DeploymentRecord:
        return self._get(f"/deployments/{stack_name}", DeploymentRecord)

    def deployment_id(self, stack_name: str) -> str | None:
        return self.call("GET", f"/deployments/{stack_name}/id")["deployment_id"]

    def unregister_deployment(self, stack_name: str) -> DeploymentRecord:
        return self._send("DELETE", f"/deployments/{stack_name}", DeploymentRecord)

    def close(self) -> None:
        self._client.close()


def _context_dict(context: Any) -> dict[str, Any]:
    plain = asdict(context)
    plain["previous_outputs"] = dict(plain.get("previous_outputs") or {})
    return plain
