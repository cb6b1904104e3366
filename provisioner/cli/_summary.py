"""Human summaries of deploy and destroy outcomes."""

from collections import Counter

from rich.console import Console

from provisioner.lifecycle import DeployOutcome, DestroyOutcome


def print_deploy_summary(outcome: DeployOutcome) -> None:
    console = Console(highlight=False)
    where = f"recipe {outcome.recipe}, env {outcome.env}" + (f", region {outcome.region}" if outcome.region else "")
    if outcome.simulated:
        console.print(f"[bold yellow]Simulated[/] with {outcome.emulator}; no real cloud was touched.")
    if outcome.preview:
        console.print(f"[bold]Plan for {outcome.stack}[/] ({where}): nothing was changed.")
        by_type = Counter((r.type, r.op.value) for r in outcome.resources)
        from rich.table import Table

        table = Table("resource type", "action", "count", title="Resources", title_justify="left")
        for (resource_type, op), count in sorted(by_type.items()):
            table.add_row(resource_type, op, str(count))
        console.print(table)
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


def print_destroy_summary(outcome: DestroyOutcome) -> None:
    console = Console(highlight=False)
    if outcome.nothing_to_destroy:
        console.print(f"Nothing to destroy: {outcome.stack} has no resources and nothing registered.")
        return
    deleted = len(outcome.deleted_resources)
    console.print(f"[bold green]Destroyed {outcome.stack}[/]: {deleted} resource(s) deleted.")
    if outcome.unregistered:
        parts = []
        if outcome.unregistered.stack:
            parts.append(f"stack {outcome.unregistered.stack}")
        if outcome.unregistered.components:
            parts.append(f"components {', '.join(outcome.unregistered.components)}")
        if outcome.unregistered.connectors:
            parts.append(f"connectors {', '.join(outcome.unregistered.connectors)}")
        console.print(f"Unregistered {'; '.join(parts) or 'nothing'}.")
