"""`provisioner stack ...`: group components into stacks."""

from typing import Annotated, Optional

import typer

from provisioner.cli._context import open_registry
from provisioner.cli._errors import report_errors
from provisioner.cli._output import OutputFormat, OutputOption, ShowSecretsOption, info, render
from provisioner.cli._parsing import parse_pairs

app = typer.Typer(help="Register and manage stacks.", no_args_is_help=True)


@app.command("register")
@report_errors
def register(
    name: Annotated[str, typer.Argument(help="Stack name.")],
    *,
    component: Annotated[
        list[str], typer.Option("--component", "-c", help="Component to include; repeat. One per type.")
    ],
    label: Annotated[Optional[list[str]], typer.Option("--label", "-l", help="KEY=VALUE label; repeat.")] = None,
    env: Annotated[Optional[str], typer.Option("--env", help="Environment; all components and connectors must match.")] = None,
) -> None:
    """Register a stack: at least an orchestrator and an artifact store, one component per type."""
    labels = parse_pairs(label or [], "--label", json_values=False)
    if env:
        labels["env"] = env
    stack = open_registry().register_stack(name, component, labels=labels)
    info(f"Registered stack {stack.name!r} with {len(stack.components)} components.")


@app.command("grant")
@report_errors
def grant(
    name: Annotated[str, typer.Argument(help="Stack name.")],
    user: Annotated[str, typer.Argument(help="User who may use it.")],
) -> None:
    """Restrict a stack (and its connectors) to named users, adding USER (admins only)."""
    users = open_registry().grant(name, user)
    info(f"Stack {name!r} is restricted to: {', '.join(users)}.")


@app.command("revoke")
@report_errors
def revoke(
    name: Annotated[str, typer.Argument(help="Stack name.")],
    user: Annotated[str, typer.Argument(help="User to remove.")],
) -> None:
    """Take USER off a stack's allowed users (admins only); with nobody left the stack is open again."""
    users = open_registry().revoke(name, user)
    info(f"Stack {name!r} is restricted to: {', '.join(users)}." if users else f"Stack {name!r} is no longer restricted.")


@app.command("list")
@report_errors
def list_stacks(*, output: OutputOption = OutputFormat.table) -> None:
    """List registered stacks; the active one is marked."""
    registry = open_registry()
    stacks = registry.list_stacks()
    active = registry.active_stack()
    rows = [("*" if s.name == active else "", s.name, s.components, s.labels) for s in stacks]
    render(stacks, output, "Stacks", ["active", "name", "components", "labels"], rows)


@app.command("describe")
@report_errors
def describe(
    name: Annotated[Optional[str], typer.Argument(help="Stack name; default: the active stack.")] = None,
    *,
    output: OutputOption = OutputFormat.table,
    show_secrets: ShowSecretsOption = False,
) -> None:
    """Show a stack's components with their configs and connectors."""
    from provisioner.errors import InputError

    registry = open_registry()
    name = name or registry.active_stack()
    if name is None:
        raise InputError("no stack named and no active stack set (provisioner stack set-active NAME)")
    detail = registry.describe_stack(name, show_secrets=show_secrets)
    rows = [
        (t, c.name, c.flavor, c.config, c.connector.name if c.connector else None)
        for t, c in detail.components.items()
    ]
    render(detail, output, f"Stack {detail.name}", ["type", "component", "flavor", "config", "connector"], rows)


@app.command("set-active")
@report_errors
def set_active(name: Annotated[str, typer.Argument(help="Stack name.")]) -> None:
    """Make a stack the active one for this user."""
    open_registry().set_active_stack(name)
    info(f"Active stack: {name!r}.")


@app.command("delete")
@report_errors
def delete(name: Annotated[str, typer.Argument(help="Stack name.")]) -> None:
    """Delete a stack; its components stay registered."""
    open_registry().delete_stack(name)
    info(f"Deleted stack {name!r}.")
