"""What the pages show, read through the registry facade as the signed-in user (the same gate as the API).

Pages make no cloud or emulator call; only the explicit "verify" action does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from provisioner.errors import NotFoundError
from provisioner.recipe_api import LABEL_ENV, LABEL_RECIPE, STANDARD_ENVS
from provisioner.registry.access import AuditEntry
from provisioner.registry.audit_chain import ChainReport
from provisioner.registry.history import DeploymentRun
from provisioner.registry.models import StackDetail
from provisioner.registry.service import Registry

OTHER_ENV = "other"


@dataclass
class StackSummary:
    """One stack on the stacks page: registered, or destroyed with its history kept."""

    name: str
    env: str
    recipe: str | None
    region: str | None
    components: int
    last: DeploymentRun | None
    destroyed: bool
    drift: DeploymentRun | None = None  # the newest drift check, if any

    @property
    def monthly_cost(self) -> float | None:
        return self.last.monthly_cost_usd if self.last is not None and self.last.kind == "deploy" else None


@dataclass
class StacksPage:
    by_env: dict[str, list[StackSummary]]
    destroyed: list[StackSummary]
    env_filter: str | None


def stacks_page(registry: Registry, env_filter: str | None) -> StacksPage:
    """The stacks the user may see, by env, then the destroyed ones (history only)."""
    latest = registry.latest_runs()
    drift_checks = registry.latest_runs(("drift",))
    rows: list[StackSummary] = []
    for stack in registry.list_stacks():
        last = latest.pop(stack.name, None)
        env = stack.labels.get(LABEL_ENV) or (last.env if last else None) or OTHER_ENV
        rows.append(StackSummary(
            name=stack.name, env=env, recipe=stack.labels.get(LABEL_RECIPE) or (last.recipe if last else None),
            region=last.region if last else None, components=len(stack.components), last=last, destroyed=False,
            drift=drift_checks.get(stack.name),
        ))
    destroyed = [
        StackSummary(name=name, env=run.env, recipe=run.recipe, region=run.region, components=0, last=run, destroyed=True)
        for name, run in sorted(latest.items())
    ]
    envs = [*STANDARD_ENVS, OTHER_ENV]
    by_env: dict[str, list[StackSummary]] = {env: [] for env in envs}
    for row in rows:
        by_env.setdefault(row.env if row.env in by_env else OTHER_ENV, []).append(row)
    if env_filter:
        by_env = {env: items for env, items in by_env.items() if env == env_filter}
        destroyed = [row for row in destroyed if row.env == env_filter]
    return StacksPage(by_env=by_env, destroyed=destroyed, env_filter=env_filter)


@dataclass
class StackPage:
    name: str
    detail: StackDetail | None  # None: destroyed, only its history is left
    runs: list[DeploymentRun]
    last_teardown: DeploymentRun | None
    zenml_push: dict[str, Any] | None
    connectors: list[Any] = field(default_factory=list)


def stack_page(registry: Registry, name: str) -> StackPage:
    """A stack's components, connectors, history, last teardown and ZenML push (refused as the API refuses).

    Raises:
        NotFoundError: no such stack and no history of one.
        PermissionDeniedError: the stack is restricted to others (audited).
    """
    try:
        detail: StackDetail | None = registry.describe_stack(name)
    except NotFoundError:
        detail = None
    runs = registry.runs(name)
    if detail is None and not runs:
        raise NotFoundError(f"stack {name!r} is not registered and has no history")
    connectors: dict[str, Any] = {}
    if detail is not None:
        for component in detail.components.values():
            if component.connector is not None:
                connectors.setdefault(component.connector.name, component.connector)
    teardown = next((run for run in runs if run.kind == "destroy"), None)
    pushed = registry.zenml_push(name) if detail is not None else None
    return StackPage(name=name, detail=detail, runs=runs, last_teardown=teardown, zenml_push=pushed,
                     connectors=list(connectors.values()))


@dataclass
class AuditPage:
    entries: list[AuditEntry]
    chain: ChainReport
    filters: dict[str, str]


def audit_page(registry: Registry, *, user: str | None, action: str | None, result: str | None,
               since: datetime | None, until: datetime | None) -> AuditPage:
    """The audit log, newest first, filtered; and the hash chain's verdict."""
    entries = registry.audit_log(since=since, user=user or None)
    if action:
        entries = [e for e in entries if e.action == action]
    if result:
        entries = [e for e in entries if e.result == result]
    if until is not None:
        entries = [e for e in entries if e.at <= until]
    filters = {"user": user or "", "action": action or "", "result": result or "",
               "since": since.isoformat(timespec="minutes") if since else "", "until": until.isoformat(timespec="minutes") if until else ""}
    return AuditPage(entries=list(reversed(entries)), chain=registry.verify_audit(), filters=filters)
