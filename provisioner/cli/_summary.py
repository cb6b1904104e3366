"""Human summaries of deploy and destroy outcomes."""

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from rich.console import Console

from provisioner.cli._output import stdout_console

from provisioner.costs import CostEstimate
from provisioner.lifecycle import DeployOutcome, DestroyOutcome

if TYPE_CHECKING:
    from provisioner.engine.base import DriftItem
    from provisioner.engine.base import ResourceRecord
    from provisioner.teardown.sweep_report import Leftover
    from provisioner.teardown.flow import TeardownReport


PLAN_ORDER = ("create", "update", "replace", "delete", "same")


def print_deploy_summary(outcome: DeployOutcome, *, show_same: bool = False) -> None:
    console = stdout_console(soft_wrap=True)
    where = f"recipe {outcome.recipe}, env {outcome.env}" + (f", region {outcome.region}" if outcome.region else "")
    if outcome.simulated:
        console.print(f"[bold yellow]Simulated[/] with {outcome.emulator}; no real cloud was touched.")
    if outcome.preview:
        console.print(f"[bold]Plan for {outcome.stack}[/] ({where}): nothing was changed.")
        counts = Counter(r.op.value for r in outcome.resources)
        console.print("Plan: " + ", ".join(f"{counts.get(op, 0)} {op}" for op in PLAN_ORDER) + ".", markup=False)
        from rich.table import Table

        shown = [r for r in outcome.resources if show_same or r.op.value != "same"]
        if shown:
            table = Table("action", "resource", "type", "why", title="Changes" if not show_same else "Resources",
                          title_justify="left")
            for record in sorted(shown, key=lambda r: (PLAN_ORDER.index(r.op.value) if r.op.value in PLAN_ORDER else 9, r.name)):
                table.add_row(record.op.value, record.name, record.type, record.message or "")
            console.print(table)
        if outcome.deploy_estimate is not None and outcome.deploy_estimate.path:
            console.print(outcome.deploy_estimate.describe(), markup=False)
        for line in outcome.data_loss:
            console.print(f"In prod this would lose data: {line} (deploying it needs --allow-data-replacement "
                          f"{outcome.stack})", markup=False)
        for line in key_settings(outcome.resources):
            console.print(line, markup=False)
        if outcome.cost_estimate is not None:
            print_cost(console, outcome.cost_estimate)
        for line in outcome.summary:
            console.print(line, markup=False)
        return
    counts = ", ".join(f"{n} {op}" for op, n in sorted(outcome.resource_counts.items())) or "no resource changes"
    console.print(f"[bold green]Deployed {outcome.stack}[/] ({where}): {counts}.")
    if outcome.registered:
        console.print(
            f"Registered stack [bold]{outcome.registered.stack}[/] with components "
            f"{', '.join(outcome.registered.components)}"
            + (f" and connectors {', '.join(outcome.registered.connectors)}" if outcome.registered.connectors else "")
            + "."
        )
        console.print(f"  provisioner stack describe {outcome.registered.stack}")
    for line in outcome.summary:
        console.print(line, markup=False)


def key_settings(records: "Iterable[ResourceRecord]") -> list[str]:
    """One line per big planned item (cluster, node pool, database) naming the settings that decide its cost."""
    lines = []
    for record in records:
        describe = _KEY_SETTINGS.get(record.type)
        if describe is not None and record.inputs is not None:
            lines.append(f"{record.name}: {describe(record.inputs)}")
    return lines


def _nodes(instance: object, desired: object, low: object, high: object, spot: bool) -> str:
    return f"{_count(desired)} x {instance} (scales {_count(low)}-{_count(high)}){', spot' if spot else ''}"


def _count(value: object) -> str:
    return str(int(value)) if isinstance(value, (int, float)) else "?"


def _get(inputs: "Mapping[str, Any]", *path: str) -> Any:
    value: Any = inputs
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


_KEY_SETTINGS: "dict[str, Callable[[Mapping[str, Any]], str]]" = {
    "aws:eks/cluster:Cluster": lambda i: f"EKS, Kubernetes {i.get('version') or 'newest in standard support'}",
    "aws:eks/nodeGroup:NodeGroup": lambda i: "node group, " + _nodes(
        ", ".join(i.get("instanceTypes") or ["?"]), _get(i, "scalingConfig", "desiredSize"),
        _get(i, "scalingConfig", "minSize"), _get(i, "scalingConfig", "maxSize"), i.get("capacityType") == "SPOT"),
    "aws:rds/instance:Instance": lambda i: (
        f"RDS {i.get('engine')} {i.get('engineVersion') or '(newest)'}, {i.get('instanceClass')}"
        f"{', multi-AZ' if i.get('multiAz') else ''}"),
    "gcp:container/cluster:Cluster": lambda i: (
        f"GKE, release channel {_get(i, 'releaseChannel', 'channel') or 'default'}, {i.get('location')}"),
    "gcp:container/nodePool:NodePool": lambda i: "node pool, " + _nodes(
        _get(i, "nodeConfig", "machineType"), i.get("nodeCount"), _get(i, "autoscaling", "minNodeCount"),
        _get(i, "autoscaling", "maxNodeCount"), bool(_get(i, "nodeConfig", "spot"))),
    "gcp:sql/databaseInstance:DatabaseInstance": lambda i: (
        f"Cloud SQL {i.get('databaseVersion')}, {_get(i, 'settings', 'edition')}, {_get(i, 'settings', 'tier')}"
        f"{', regional' if _get(i, 'settings', 'availabilityType') == 'REGIONAL' else ''}"),
}


def print_destroy_summary(outcome: DestroyOutcome, command: str) -> None:
    """Print the teardown report; ``command`` is the destroy-stack command that ran (for the next steps)."""
    from rich.table import Table

    console = stdout_console(soft_wrap=True)
    report = outcome.report
    if report.nothing_to_destroy:
        _print_nothing_here(console, report, command)
        return
    if report.adopted:
        console.print(f"Adopted deployment {report.deployment_id} of {report.stack}.", markup=False)
    for attempt in report.attempts:
        status = "ok" if attempt.ok else f"failed: {attempt.error}"
        swept = f" (then swept {attempt.swept} leftover(s))" if attempt.swept else ""
        console.print(f"Destroy attempt {attempt.number}: {status}{swept}", markup=False)
    if report.cluster:
        cluster = report.cluster
        if "skipped" in cluster:
            console.print(f"Cluster clean-up skipped: {cluster['skipped']}", markup=False)
        else:
            console.print(
                f"Cluster clean-up: deleted {len(cluster.get('deleted', []))} LoadBalancer service(s) and volume claim(s)"
                + (f"; still there: {', '.join(cluster['remaining'])}" if cluster.get("remaining") else "")
                + (f"; error: {cluster['error']}" if cluster.get("error") else ""),
                markup=False,
            )
    gone = [r for r in report.deleted_resources if r.already_gone]
    console.print(
        f"Deleted {len(report.deleted_resources) - len(gone)} stack resource(s) and swept {len(report.swept)} leftover(s) "
        f"carrying deployment id {report.deployment_id or '(none: deployed before deployment ids, state only)'}."
        + (f" {len(gone)} more were already gone (removed from the state only)." if gone else "")
    )
    if report.sweep_target and report.sweep_failure is None:
        calls = f" ({report.sweep_calls} API calls)" if report.sweep_calls is not None else ""
        console.print(
            f"Leftover sweep of {report.sweep_target}{calls}: deleted {len(report.swept)}, kept {len(report.kept_leftovers)}, "
            f"still there {len(report.remaining)}.",
            markup=False,
        )
        for item in report.swept:
            console.print(f"  swept {item.kind} {item.id} ({item.region})", markup=False)
    from provisioner.teardown.flow import DATA_TYPES

    kept = [(r.type, r.message or r.name, "kept on purpose (data)" if r.type in DATA_TYPES else "kept: the kept data needs it")
            for r in report.kept_resources]
    kept_ids = {r.message for r in report.kept_resources}
    kept += [
        (item.kind, item.id, f"kept on purpose (data), ~${item.monthly_cost or 0:.2f}/month")
        for item in report.kept_leftovers if item.id not in kept_ids
    ]
    if kept:
        table = Table("type", "id", "why", title="Kept", title_justify="left")
        for row in kept:
            table.add_row(*row)
        console.print(table)
        console.print(f"Delete them with: {command} --delete-data", markup=False)
    if report.remaining:
        table = Table("type", "id", "region", "est. USD/month", "problem", title="Still there", title_justify="left")
        for item in report.remaining:
            cost = "unknown" if item.monthly_cost is None else f"{item.monthly_cost:.2f}"
            table.add_row(item.kind, item.id, item.region, cost, report.sweep_errors.get(f"{item.kind} {item.id}", item.detail))
        console.print(table)
    else:
        console.print(f"[bold green]Nothing of {report.stack} is left[/] except what is listed as kept.")
    if outcome.unregistered:
        parts = []
        if outcome.unregistered.stack:
            parts.append(f"stack {outcome.unregistered.stack}")
        if outcome.unregistered.components:
            parts.append(f"components {', '.join(outcome.unregistered.components)}")
        if outcome.unregistered.connectors:
            parts.append(f"connectors {', '.join(outcome.unregistered.connectors)}")
        console.print(f"Unregistered {'; '.join(parts) or 'nothing'}.")
    if outcome.zenml_removed:
        console.print(f"Removed from ZenML: {', '.join(outcome.zenml_removed)}.", markup=False)
    if outcome.zenml_kept:
        console.print(f"ZenML: {outcome.zenml_kept}", markup=False)


def print_cost(console: Console, cost: "CostEstimate") -> None:
    from rich.table import Table

    table = Table("resource", "what", "USD/month", title="Estimated monthly cost", title_justify="left")
    for item in cost.items:
        table.add_row(item.name, item.description, f"{item.monthly_usd:,.2f}")
    table.add_row("total", "", f"{cost.total_monthly_usd:,.2f}")
    console.print(table)
    where = " ".join(part for part in (cost.cloud, cost.region) if part) or "no cloud"
    if cost.cloud is None:
        console.print(f"No prices: {cost.source}.", markup=False)
    else:
        console.print(f"Prices for {where}: {cost.source}, recorded {cost.recorded}; {cost.note}.", markup=False)
    if cost.not_priced:
        console.print(f"Not priced here ({where}): {', '.join(cost.not_priced)}", markup=False)


def _flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, Mapping) and value:
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def differing_settings(settings: "Mapping[str, Mapping[str, Any]]") -> dict[str, dict[str, Any]]:
    """The settings (dotted names) whose values differ between envs: setting -> env -> value."""
    flat = {env: _flatten(values) for env, values in settings.items()}
    names = sorted({name for values in flat.values() for name in values})
    return {name: {env: flat[env].get(name) for env in flat} for name in names
            if len({repr(flat[env].get(name)) for env in flat}) > 1}


def print_env_comparison(outcomes: "dict[str, DeployOutcome]", differing: "Mapping[str, Mapping[str, Any]] | None" = None) -> None:
    from rich.markup import escape
    from rich.table import Table

    console = stdout_console(soft_wrap=True)
    envs = list(outcomes)
    if differing:
        settings = Table("setting", *envs, title="Settings that differ", title_justify="left")
        for name, by_env in differing.items():
            settings.add_row(escape(name), *(escape(json_text(by_env.get(e))) for e in envs))
        console.print(settings)
    table = Table("", *envs, title="Environments compared", title_justify="left")
    table.add_row("resources", *(str(len(outcomes[e].resources)) for e in envs))
    kinds = sorted({r.type for o in outcomes.values() for r in o.resources})
    for kind in kinds:
        counts = [sum(1 for r in outcomes[e].resources if r.type == kind) for e in envs]
        if len(set(counts)) > 1:
            table.add_row(kind, *(str(c) for c in counts))
    table.add_row("USD/month", *(f"{outcomes[e].cost_estimate.total_monthly_usd:,.2f}" if outcomes[e].cost_estimate else "-" for e in envs))
    console.print(table)


def json_text(value: Any) -> str:
    """A setting's value as the config file would write it."""
    import json

    return value if isinstance(value, str) else json.dumps(value)


def _print_nothing_here(console: Console, report: "TeardownReport", command: str) -> None:
    """No state here: say what carries the stack's tags elsewhere, and how to adopt it; nothing was deleted."""
    console.print(f"Nothing to destroy here: this home has no state for {report.stack}, so nothing was deleted.", markup=False)
    by_deployment: dict[str, list[Leftover]] = {}
    for item in report.found_elsewhere:
        by_deployment.setdefault(item.deployment or "(no deployment id)", []).append(item)
    for deployment, items in sorted(by_deployment.items()):
        envs = ", ".join(sorted({item.env for item in items if item.env})) or "unknown"
        known = " (the registry knows this deployment)" if deployment == report.registry_deployment_id else ""
        console.print(
            f"{len(items)} resource(s) carry the stack's tag with deployment id {deployment}, env {envs}{known}.", markup=False
        )
    if report.registry_deployment_id and report.registry_deployment_id not in by_deployment:
        console.print(f"The registry lists {report.stack} as deployment {report.registry_deployment_id}.", markup=False)
    if by_deployment:
        console.print(
            f"If one of them is yours and its state is lost, take it over with: {command} --adopt DEPLOYMENT_ID", markup=False
        )


def print_drift(items: "list[DriftItem]", stack: str) -> None:
    """The drift found by a refresh, one row per resource and property (to stdout)."""
    console = stdout_console(soft_wrap=True)
    if not items:
        console.print(f"No drift: {stack} is as the last deploy left it.", markup=False)
        return
    from rich.table import Table

    table = Table("resource", "type", "drift", "property", title=f"Drift in {stack}", title_justify="left")
    for item in items:
        table.add_row(item.name, item.type, item.kind, item.property or "")
    console.print(table)
    console.print(f"{len(items)} difference(s) from the recorded state; a deploy puts them back.", markup=False)
