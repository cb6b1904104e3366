"""The registry's layers: one permission gate on every read and write, in the same transaction as the write,
and no SQLAlchemy row outside the store."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_type_hints

import pytest

from provisioner.errors import PermissionDeniedError
from provisioner.recipe_api import ComponentEntry, RecipeContext, RegistrationPlan
from provisioner.registry.access import AccessGate, Permission, Role
from provisioner.registry.audit import AuditService
from provisioner.registry.catalog import CatalogService
from provisioner.registry.deployments import DeploymentService
from provisioner.registry.flavors import FlavorRegistry
from provisioner.registry.models import ComponentSpec, ComponentType, ConnectorSpec
from provisioner.registry.secret_service import SecretService
from provisioner.registry.service import Registry
from provisioner.registry.store import Store, Transaction
from provisioner.registry.unit_of_work import UnitOfWork
from provisioner.registry.tokens import TokenService
from provisioner.registry.users import UserService
from provisioner.secrets import default_backend
from tests.helpers import raw_rows

ADMIN, MEMBER = "alice", "bob"
SERVICES = (UserService, SecretService, CatalogService, DeploymentService, AuditService, TokenService)
# Public methods that are not registry operations, and so pass no gate themselves.
NOT_OPERATIONS = {
    "Registry.open": "opens the registry (reads the configured secret backend)",
    "Registry.unit": "opens a unit of work; the operations run in it pass the gate",
    "Registry.run": "runs an operation in a unit of work; the operation passes the gate",
    "Registry.read": "runs a read in a unit of work; the read passes the gate",
    "Registry.audited": "records the outcome of a block of gated calls",
    "Registry.active_stack": "reads this user's own active-stack file, not registry data",
    "AuditService.ok": "records the success of an operation that passed the gate, in its unit of work",
    "AuditService.failed": "records a refusal or error after the operation's rollback",
    "AuditService.audited": "records the outcome of a block of gated calls",
}


def _registry(url: str, home: Path, user: str, gate: AccessGate | None = None) -> Registry:
    return Registry(Store(url), FlavorRegistry.load(), default_backend(), home / "active-stack", user=user, gate=gate)


@pytest.fixture()
def team(store_url: str, isolated_environ: Path) -> str:
    """alice (admin) registers a prod setup restricted to herself; bob is a member."""
    admin = _registry(store_url, isolated_environ, ADMIN)
    admin.set_user(MEMBER, Role.MEMBER)
    admin.register_connector(
        ConnectorSpec.model_validate({"name": "aws-prod", "type": "aws", "auth_method": "implicit",
                                      "configuration": {"region": "eu-west-1"}, "env": "prod"})
    )
    admin.register_component(ComponentSpec(name="prod-orch", type=ComponentType.ORCHESTRATOR, flavor="local"))
    admin.register_component(
        ComponentSpec(name="prod-bucket", type=ComponentType.ARTIFACT_STORE, flavor="s3", connector="aws-prod",
                      config={"path": "s3://prod", "aws_access_key_id": "AKIA0", "aws_secret_access_key": "not-real"})
    )
    admin.register_stack("prod", ["prod-orch", "prod-bucket"])
    admin.set_secret("slack", {"token": "xoxb-1"})
    admin.grant("prod", ADMIN)
    return store_url


def _plan(stack_name: str = "prod") -> tuple[RegistrationPlan, RecipeContext]:
    plan = RegistrationPlan(
        components=[ComponentEntry(f"{stack_name}-orch", "orchestrator", "local", {}),
                    ComponentEntry(f"{stack_name}-store", "artifact_store", "local", {"path": "/tmp/prod"})]
    )
    return plan, RecipeContext(recipe="demo", env="prod", stack_name=stack_name)


# ----- every path passes the gate ---------------------------------------------------------------


class DenyAll(AccessGate):
    """A gate that refuses everything, admins included: whatever still works did not ask it."""

    def refusal(self, tx: Transaction, user: str, permission: Permission) -> str | None:
        return f"refused by the test gate: {permission.need.value} {permission.target!r}"


def _refused(need: str, target: str) -> str:
    return f"^refused by the test gate: {need} '{re.escape(target)}'$"


ComponentSpecX = ComponentSpec(name="x", type=ComponentType.ORCHESTRATOR, flavor="local")
ConnectorSpecX = ConnectorSpec.model_validate({"name": "c2", "type": "aws", "auth_method": "implicit", "configuration": {"region": "eu-west-1"}})

# Facade method -> (call, expected: a refusal pattern, or [] for a list the gate filtered empty).
FACADE_CALLS: dict[str, tuple[Callable[[Registry], Any], Any]] = {
    "role": (lambda r: r.role(), _refused("anyone", ADMIN)),
    "require_stack_access": (lambda r: r.require_stack_access("prod", "using"), _refused("stack", "prod")),
    "require_connector_access": (lambda r: r.require_connector_access("aws-prod", "using"), _refused("connector", "aws-prod")),
    "users": (lambda r: r.users(), _refused("anyone", "users")),
    "set_user": (lambda r: r.set_user("carol", Role.MEMBER), _refused("admin", "carol")),
    "remove_user": (lambda r: r.remove_user(MEMBER), _refused("admin", MEMBER)),
    "grant": (lambda r: r.grant("prod", MEMBER), _refused("admin", "prod")),
    "revoke": (lambda r: r.revoke("prod", ADMIN), _refused("admin", "prod")),
    "stack_grants": (lambda r: r.stack_grants("prod"), _refused("anyone", "prod")),
    "audit_log": (lambda r: r.audit_log(), _refused("anyone", "audit")),
    "verify_audit": (lambda r: r.verify_audit(), _refused("anyone", "audit")),
    "set_secret_backend": (lambda r: r.set_secret_backend("local", {}), _refused("admin", "local")),
    "secret_backend": (lambda r: r.secret_backend(), _refused("anyone", "secret_backend")),
    "set_secret": (lambda r: r.set_secret("db", {"password": "x"}), _refused("admin", "db")),
    "list_secrets": (lambda r: r.list_secrets(), []),
    "describe_secret": (lambda r: r.describe_secret("slack"), _refused("anyone", "slack")),
    "delete_secret": (lambda r: r.delete_secret("slack"), _refused("admin", "slack")),
    "resolve": (lambda r: r.resolve({"token": "{{secret:slack.token}}"}), _refused("secret", "slack")),
    "register_connector": (lambda r: r.register_connector(ConnectorSpecX), _refused("admin", "c2")),
    "get_connector": (lambda r: r.get_connector("aws-prod"), _refused("anyone", "aws-prod")),
    "list_connectors": (lambda r: r.list_connectors(), []),
    "describe_connector": (lambda r: r.describe_connector("aws-prod", show_secrets=True), _refused("admin", "aws-prod")),
    "use_connector": (lambda r: r.use_connector("aws-prod"), _refused("connector", "aws-prod")),
    "delete_connector": (lambda r: r.delete_connector("aws-prod"), _refused("admin", "aws-prod")),
    "register_component": (lambda r: r.register_component(ComponentSpecX), _refused("anyone", "x")),
    "update_component": (lambda r: r.update_component("prod-orch", labels={"a": "b"}), _refused("component", "prod-orch")),
    "get_component": (lambda r: r.get_component("prod-orch"), _refused("anyone", "prod-orch")),
    "list_components": (lambda r: r.list_components(), []),
    "describe_component": (lambda r: r.describe_component("prod-orch"), _refused("anyone", "prod-orch")),
    "delete_component": (lambda r: r.delete_component("prod-orch"), _refused("component", "prod-orch")),
    "register_stack": (lambda r: r.register_stack("mine", ["prod-orch", "prod-bucket"]), _refused("anyone", "mine")),
    "get_stack": (lambda r: r.get_stack("prod"), _refused("stack", "prod")),
    "list_stacks": (lambda r: r.list_stacks(), []),
    "describe_stack": (lambda r: r.describe_stack("prod"), _refused("stack", "prod")),
    "delete_stack": (lambda r: r.delete_stack("prod"), _refused("stack", "prod")),
    "set_active_stack": (lambda r: r.set_active_stack("prod"), _refused("stack", "prod")),
    "apply_deployment": (lambda r: r.apply_deployment(*_plan()), _refused("stack", "prod")),
    "deployment": (lambda r: r.deployment("prod"), _refused("anyone", "prod")),
    "deployment_id": (lambda r: r.deployment_id("prod"), _refused("anyone", "prod")),
    "check_deployment_rights": (lambda r: r.check_deployment_rights(*_plan()), _refused("stack", "prod")),
    "unregister_deployment": (lambda r: r.unregister_deployment("prod"), _refused("stack", "prod")),
    "add_user": (lambda r: r.add_user("eve", Role.MEMBER), _refused("admin", "eve")),
    "set_user_disabled": (lambda r: r.set_user_disabled(MEMBER, True), _refused("admin", MEMBER)),
    "issue_token": (lambda r: r.issue_token(MEMBER), _refused("admin", MEMBER)),
    "list_tokens": (lambda r: r.list_tokens(), _refused("admin", "tokens")),
    "revoke_tokens": (lambda r: r.revoke_tokens(user=MEMBER), _refused("admin", MEMBER)),
    "set_connector_disabled": (lambda r: r.set_connector_disabled("aws-prod", True), _refused("admin", "aws-prod")),
    "record_outcome": (lambda r: r.record_outcome("deploy", "prod", "ok"), _refused("anyone", "prod")),
    "clear_lock": (lambda r: r.clear_lock("prod"), _refused("stack", "prod")),
    "zenml_push": (lambda r: r.zenml_push("prod"), _refused("stack", "prod")),
    "record_zenml_push": (lambda r: r.record_zenml_push("prod", "http://z", "default", "id", []), _refused("admin", "prod")),
    "forget_zenml_push": (lambda r: r.forget_zenml_push("prod"), _refused("admin", "prod")),
    "record_run": (lambda r: r.record_run(_history_run()), _refused("stack", "prod")),
    "runs": (lambda r: r.runs("prod"), _refused("stack", "prod")),
    "latest_runs": (lambda r: r.latest_runs(), {}),
    "duration_medians": (lambda r: r.duration_medians(), _refused("anyone", "")),
}


def _history_run() -> Any:
    from datetime import datetime, timezone

    from provisioner.registry.history import DeploymentRun

    moment = datetime(2026, 12, 1, tzinfo=timezone.utc)
    return DeploymentRun(stack="prod", kind="deploy", recipe="demo", env="prod", engine="pulumi", simulated=False,
                         started_at=moment, finished_at=moment, result="succeeded")


def _public_methods(cls: type) -> list[str]:
    return sorted(
        name for name, member in inspect.getmembers(cls)
        if not name.startswith("_") and inspect.isfunction(member) and f"{cls.__name__}.{name}" not in NOT_OPERATIONS
    )


def test_the_table_names_every_public_method_of_the_facade() -> None:
    assert _public_methods(Registry) == sorted(FACADE_CALLS)


def _new_rows(url: str, before: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    after = raw_rows(url, include_audit=True)
    seen = {row["id"] for row in before["audit_log"]}
    after["audit_log"] = [row for row in after["audit_log"] if row["id"] not in seen]
    before = {**before, "audit_log": []}
    return {table: rows for table, rows in after.items() if rows != before.get(table)}


@pytest.mark.parametrize("method", sorted(FACADE_CALLS))
def test_every_facade_method_asks_the_gate_and_a_refusal_writes_nothing(team: str, isolated_environ: Path, method: str) -> None:
    call, expected = FACADE_CALLS[method]
    registry = _registry(team, isolated_environ, ADMIN, gate=DenyAll())
    before = raw_rows(team, include_audit=True)

    if expected in ([], {}):
        if method == "latest_runs":  # the team has no history yet: give it some, which the real gate shows the admin
            _registry(team, isolated_environ, ADMIN).record_run(_history_run())
            before = raw_rows(team, include_audit=True)
        assert call(registry) == expected
        assert call(_registry(team, isolated_environ, ADMIN)) != expected  # the real gate lets the admin see them
    else:
        with pytest.raises(PermissionDeniedError, match=expected):
            call(registry)

    changed = _new_rows(team, before)
    assert set(changed) <= {"audit_log", "audit_head"}  # no row written, changed or removed (but the audit trail's)
    assert [row["result"] for row in changed.get("audit_log", [])] in ([], ["denied"])  # never an "ok"
    assert not (isolated_environ / "active-stack").exists()


# Service method -> a call with a unit of work; every public method of every service is listed.
SERVICE_CALLS: dict[str, Callable[[Registry, UnitOfWork], Any]] = {
    "UserService.role": lambda r, u: r.users_service.role(u),
    "UserService.users": lambda r, u: r.users_service.users(u),
    "UserService.set_user": lambda r, u: r.users_service.set_user(u, "carol", Role.MEMBER),
    "UserService.remove_user": lambda r, u: r.users_service.remove_user(u, MEMBER),
    "UserService.grant": lambda r, u: r.users_service.grant(u, "prod", MEMBER),
    "UserService.revoke": lambda r, u: r.users_service.revoke(u, "prod", ADMIN),
    "UserService.stack_grants": lambda r, u: r.users_service.stack_grants(u, "prod"),
    "SecretService.set_secret": lambda r, u: r.secrets.set_secret(u, "db", {"password": "x"}),
    "SecretService.list_secrets": lambda r, u: r.secrets.list_secrets(u),
    "SecretService.describe_secret": lambda r, u: r.secrets.describe_secret(u, "slack", show_values=True),
    "SecretService.delete_secret": lambda r, u: r.secrets.delete_secret(u, "slack"),
    "SecretService.resolve": lambda r, u: r.secrets.resolve(u, {"token": "{{secret:slack.token}}"}),
    "SecretService.set_secret_backend": lambda r, u: r.secrets.set_secret_backend(u, "local", {}),
    "SecretService.secret_backend": lambda r, u: r.secrets.secret_backend(u),
    "CatalogService.register_connector": lambda r, u: r.catalog.register_connector(u, ConnectorSpecX),
    "CatalogService.get_connector": lambda r, u: r.catalog.get_connector(u, "aws-prod"),
    "CatalogService.list_connectors": lambda r, u: r.catalog.list_connectors(u),
    "CatalogService.describe_connector": lambda r, u: r.catalog.describe_connector(u, "aws-prod"),
    "CatalogService.use_connector": lambda r, u: r.catalog.use_connector(u, "aws-prod"),
    "CatalogService.delete_connector": lambda r, u: r.catalog.delete_connector(u, "aws-prod"),
    "CatalogService.register_component": lambda r, u: r.catalog.register_component(u, ComponentSpecX),
    "CatalogService.update_component": lambda r, u: r.catalog.update_component(u, "prod-orch", labels={"a": "b"}),
    "CatalogService.get_component": lambda r, u: r.catalog.get_component(u, "prod-orch"),
    "CatalogService.list_components": lambda r, u: r.catalog.list_components(u),
    "CatalogService.describe_component": lambda r, u: r.catalog.describe_component(u, "prod-orch", show_secrets=True),
    "CatalogService.delete_component": lambda r, u: r.catalog.delete_component(u, "prod-orch"),
    "CatalogService.register_stack": lambda r, u: r.catalog.register_stack(u, "mine", ["prod-orch"]),
    "CatalogService.check_stack_name_free": lambda r, u: r.catalog.check_stack_name_free(u, "prod"),
    "CatalogService.get_stack": lambda r, u: r.catalog.get_stack(u, "prod"),
    "CatalogService.list_stacks": lambda r, u: r.catalog.list_stacks(u),
    "CatalogService.describe_stack": lambda r, u: r.catalog.describe_stack(u, "prod", show_secrets=True),
    "CatalogService.delete_stack": lambda r, u: r.catalog.delete_stack(u, "prod"),
    "CatalogService.set_active_stack": lambda r, u: r.catalog.set_active_stack(u, "prod"),
    "DeploymentService.apply_deployment": lambda r, u: r.deployments.apply_deployment(u, *_plan()),
    "DeploymentService.deployment": lambda r, u: r.deployments.deployment(u, "prod"),
    "DeploymentService.deployment_id": lambda r, u: r.deployments.deployment_id(u, "prod"),
    "DeploymentService.check_rights": lambda r, u: r.deployments.check_rights(u, *_plan()),
    "DeploymentService.unregister_deployment": lambda r, u: r.deployments.unregister_deployment(u, "prod"),
    "AuditService.entries": lambda r, u: r.audit.entries(u),
    "AuditService.verify": lambda r, u: r.audit.verify(u),
    "UserService.add_user": lambda r, u: r.users_service.add_user(u, "eve", Role.MEMBER),
    "UserService.set_disabled": lambda r, u: r.users_service.set_disabled(u, MEMBER, True),
    "CatalogService.set_connector_disabled": lambda r, u: r.catalog.set_connector_disabled(u, "aws-prod", True),
    "TokenService.issue": lambda r, u: r.tokens.issue(u, MEMBER),
    "TokenService.list": lambda r, u: r.tokens.list(u),
    "TokenService.revoke": lambda r, u: r.tokens.revoke(u, user=MEMBER),
}


def test_the_table_names_every_public_method_of_every_service() -> None:
    listed = sorted(f"{cls.__name__}.{name}" for cls in SERVICES for name in _public_methods(cls))
    assert listed == sorted(SERVICE_CALLS)


class Recorder(DenyAll):
    """Refuses everything and remembers each request."""

    def __init__(self) -> None:
        self.asked: list[Permission] = []

    def refusal(self, tx: Transaction, user: str, permission: Permission) -> str | None:
        self.asked.append(permission)
        return super().refusal(tx, user, permission)


@pytest.mark.parametrize("method", sorted(SERVICE_CALLS))
def test_every_service_method_asks_the_gate_before_it_reads_or_writes(team: str, isolated_environ: Path, method: str) -> None:
    gate = Recorder()
    registry = _registry(team, isolated_environ, ADMIN, gate=gate)
    before = raw_rows(team, include_audit=True)

    with registry.unit() as uow:
        try:
            outcome: Any = SERVICE_CALLS[method](registry, uow)
        except PermissionDeniedError as exc:
            outcome = exc

    assert gate.asked, "the gate was never asked"
    assert outcome == [] or isinstance(outcome, PermissionDeniedError)
    assert raw_rows(team, include_audit=True) == before


# ----- the real rules: a member without access is refused, exactly, and nothing is written -----------

RESTRICTED = "stack 'prod' is restricted to alice; 'bob' may not use it"
CONNECTOR = "connector 'aws-prod' serves restricted stack(s) prod; 'bob' is not granted any of them"
ADMIN_ONLY = "needs the admin role; 'bob' is a member (ask an admin)"
SPEC_LINKED = ComponentSpec(name="mine", type=ComponentType.ARTIFACT_STORE, flavor="s3", config={"path": "s3://x"}, connector="aws-prod")

MEMBER_REFUSED = [
    # reads that reveal secrets
    pytest.param(lambda r: r.describe_stack("prod", show_secrets=True), f"showing secrets: {RESTRICTED}", id="describe-stack"),
    pytest.param(lambda r: r.describe_component("prod-bucket", show_secrets=True), f"showing secrets: {RESTRICTED}", id="describe-component"),
    pytest.param(lambda r: r.describe_connector("aws-prod", show_secrets=True), f"showing a connector's secrets {ADMIN_ONLY}", id="describe-connector"),
    pytest.param(lambda r: r.use_connector("aws-prod"), f"using the connector: {CONNECTOR}", id="use-connector"),
    pytest.param(lambda r: r.describe_secret("component-prod-bucket", show_values=True),
                 f"reading secret 'component-prod-bucket': {RESTRICTED}", id="owned-secret-values"),
    pytest.param(lambda r: r.describe_secret("slack", show_values=True),
                 "reading secret values needs the admin role; 'bob' is a member", id="plain-secret-values"),
    pytest.param(lambda r: r.resolve({"token": "{{secret:slack.token}}"}),
                 "reading secret values needs the admin role; 'bob' is a member", id="resolve"),
    # writes
    pytest.param(lambda r: r.register_component(SPEC_LINKED), f"linking component 'mine': {CONNECTOR}", id="register-component"),
    pytest.param(lambda r: r.update_component("prod-bucket", labels={"team": "x"}), f"updating component 'prod-bucket': {RESTRICTED}", id="update-component"),
    pytest.param(lambda r: r.delete_component("prod-orch"), f"deleting component 'prod-orch': {RESTRICTED}", id="delete-component"),
    pytest.param(lambda r: r.register_stack("mine", ["prod-orch", "prod-bucket"]),
                 f"adding component 'prod-orch' to stack 'mine': {RESTRICTED}", id="register-stack"),
    pytest.param(lambda r: r.delete_stack("prod"), f"deleting the stack: {RESTRICTED}", id="delete-stack"),
    pytest.param(lambda r: r.set_active_stack("prod"), f"using the stack: {RESTRICTED}", id="set-active"),
    pytest.param(lambda r: r.apply_deployment(*_plan()), f"registering the deployment: {RESTRICTED}", id="apply-deployment"),
    pytest.param(lambda r: r.unregister_deployment("prod"), f"unregistering the deployment: {RESTRICTED}", id="unregister"),
    pytest.param(lambda r: r.register_connector(ConnectorSpecX), f"registering connectors {ADMIN_ONLY}", id="register-connector"),
    pytest.param(lambda r: r.delete_connector("aws-prod"), f"deleting connectors {ADMIN_ONLY}", id="delete-connector"),
    pytest.param(lambda r: r.set_secret("db", {"password": "x"}), f"storing secrets {ADMIN_ONLY}", id="set-secret"),
    pytest.param(lambda r: r.delete_secret("slack"), f"deleting secrets {ADMIN_ONLY}", id="delete-secret"),
    pytest.param(lambda r: r.set_user("carol", Role.ADMIN), f"adding users or changing roles {ADMIN_ONLY}", id="set-user"),
    pytest.param(lambda r: r.remove_user(ADMIN), f"removing users {ADMIN_ONLY}", id="remove-user"),
    pytest.param(lambda r: r.grant("prod", MEMBER), f"restricting stacks {ADMIN_ONLY}", id="grant"),
    pytest.param(lambda r: r.revoke("prod", ADMIN), f"restricting stacks {ADMIN_ONLY}", id="revoke"),
    pytest.param(lambda r: r.set_secret_backend("local", {}), f"choosing the secret backend {ADMIN_ONLY}", id="secret-backend"),
]


@pytest.mark.parametrize(("call", "message"), MEMBER_REFUSED)
def test_a_member_without_access_is_refused_exactly_and_nothing_is_written(
    team: str, isolated_environ: Path, call: Callable[[Registry], Any], message: str
) -> None:
    member = _registry(team, isolated_environ, MEMBER)
    before = raw_rows(team, include_audit=True)

    with pytest.raises(PermissionDeniedError) as refused:
        call(member)

    assert str(refused.value) == message
    changed = _new_rows(team, before)
    assert set(changed) <= {"audit_log", "audit_head"}
    assert [(row["user"], row["result"], row["detail"]) for row in changed.get("audit_log", [])] in (
        [], [(MEMBER, "denied", message)]
    )
    assert not (isolated_environ / "active-stack").exists()


def test_members_neither_list_nor_read_stacks_restricted_to_others(team: str, isolated_environ: Path) -> None:
    member = _registry(team, isolated_environ, MEMBER)
    admin = _registry(team, isolated_environ, ADMIN)

    assert [s.name for s in member.list_stacks()] == []
    with pytest.raises(PermissionDeniedError, match=f"^reading stacks: {RESTRICTED}$"):
        member.describe_stack("prod")
    assert admin.describe_stack("prod").components[ComponentType.ARTIFACT_STORE].config["aws_secret_access_key"] == (
        "{{secret:component-prod-bucket.aws_secret_access_key}}"
    )


# ----- a check and the write it guards share one transaction ------------------------------------


class Witness(AccessGate):
    """The real gate, noting the transaction of every check."""

    def __init__(self) -> None:
        self.checked_in: list[Transaction] = []

    def refusal(self, tx: Transaction, user: str, permission: Permission) -> str | None:
        self.checked_in.append(tx)
        return super().refusal(tx, user, permission)


@pytest.fixture()
def written_in(monkeypatch: pytest.MonkeyPatch) -> list[Transaction]:
    """The transaction of every write the store makes."""
    seen: list[Transaction] = []
    for name in ("save_component", "delete_component", "save_connector", "delete_connector", "save_stack",
                 "delete_stack", "save_secret", "delete_secret", "save_user", "delete_user", "grant", "revoke"):
        original = getattr(Transaction, name)

        def write(self: Transaction, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            seen.append(self)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Transaction, name, write)
    return seen


WRITES = [
    pytest.param(lambda r: r.update_component("prod-bucket", labels={"team": "x"}), id="update-component"),
    pytest.param(lambda r: r.register_stack("mine", ["prod-orch", "prod-bucket"]), id="register-stack"),
    pytest.param(lambda r: r.set_secret("db", {"password": "x"}), id="set-secret"),
    pytest.param(lambda r: r.apply_deployment(*_plan("fresh")), id="apply-deployment"),
    pytest.param(lambda r: r.unregister_deployment("prod"), id="unregister"),
    pytest.param(lambda r: r.delete_stack("prod"), id="delete-stack"),
    pytest.param(lambda r: r.revoke("prod", ADMIN), id="revoke"),
]


@pytest.mark.parametrize("call", WRITES)
def test_each_check_runs_in_the_transaction_of_the_write_it_guards(
    team: str, isolated_environ: Path, written_in: list[Transaction], call: Callable[[Registry], Any]
) -> None:
    gate = Witness()
    registry = _registry(team, isolated_environ, ADMIN, gate=gate)
    written_in.clear()

    call(registry)

    assert gate.checked_in, "no check"
    assert all(tx is gate.checked_in[0] for tx in gate.checked_in)
    assert all(tx is gate.checked_in[0] for tx in written_in)


def test_a_grant_revoked_before_the_write_refuses_it(team: str, isolated_environ: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A check cannot go stale: revoking bob between his call and its write is seen by the write's check."""
    admin = _registry(team, isolated_environ, ADMIN)
    admin.grant("prod", MEMBER)
    member = _registry(team, isolated_environ, MEMBER)
    original = AccessGate.refusal

    def revoke_first(self: AccessGate, tx: Transaction, user: str, permission: Permission) -> str | None:
        tx.revoke("prod", MEMBER)  # what a concurrent admin's revoke commits before this check reads
        return original(self, tx, user, permission)

    monkeypatch.setattr(AccessGate, "refusal", revoke_first)
    with pytest.raises(PermissionDeniedError, match=r"^deleting the stack: stack 'prod' is restricted to alice; 'bob' may not use it$"):
        member.delete_stack("prod")
    monkeypatch.undo()
    assert [s.name for s in admin.list_stacks()] == ["prod"]
    assert admin.stack_grants("prod") == [ADMIN, MEMBER]  # the check's transaction rolled back with the refused write


# ----- rows stay in the store -------------------------------------------------------------------


def test_no_sqlalchemy_row_leaves_the_store() -> None:
    for name, member in inspect.getmembers(Transaction, inspect.isfunction):
        if not name.startswith("_"):
            returned = get_type_hints(member, globalns=vars(inspect.getmodule(Transaction))).get("return")
            assert "Row" not in repr(returned), (name, returned)
    root = Path(__file__).resolve().parents[1] / "provisioner"
    leaks = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "store.py" and re.search(r"\b_\w+Row\b", path.read_text())
    ]
    assert leaks == []
