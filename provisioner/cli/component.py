"""`provisioner component ...`: register, inspect, change and remove stack components."""

from typing import Annotated, Optional

import typer

from provisioner.cli import _complete
from provisioner.cli._app import new_app
from provisioner.cli._context import open_registry
from provisioner.cli._errors import report_errors
from provisioner.cli._output import OutputFormat, OutputOption, ShowSecretsOption, info, print_json, render
from provisioner.cli._parsing import parse_pairs

app = new_app(help="Register and manage stack components.", no_args_is_help=True)

ConfigOption = Annotated[
    Optional[list[str]], typer.Option("--config", "-c", help="KEY=VALUE of the flavor's config; repeat.")
]
LabelOption = Annotated[Optional[list[str]], typer.Option("--label", "-l", help="KEY=VALUE label; repeat.")]


@app.command("register")
@report_errors
def register(
    name: Annotated[str, typer.Argument(help="Component name.", autocompletion=_complete.components)],
    *,
    component_type: Annotated[str, typer.Option("--type", "-t", help="Component type, e.g. artifact_store.")],
    flavor: Annotated[str, typer.Option("--flavor", "-f", help="Flavor name, e.g. s3.")],
    config: ConfigOption = None,
    label: LabelOption = None,
    connector: Annotated[Optional[str], typer.Option("--connector", help="Service connector to link.")] = None,
    env: Annotated[Optional[str], typer.Option("--env", help="Environment (dev, staging, prod, ...).")] = None,
) -> None:
    """Register a component; its config is validated against the flavor's schema."""
    from provisioner.registry.models import ComponentSpec
    from provisioner.registry.validation import validate_or_raise

    spec = validate_or_raise(
        ComponentSpec,
        {
            "name": name,
            "type": component_type,
            "flavor": flavor,
            "config": parse_pairs(config or [], "--config"),
            "labels": {**parse_pairs(label or [], "--label", json_values=False), **({"env": env} if env else {})},
            "connector": connector,
        },
        "invalid component",
    )
    component = open_registry().register_component(spec)
    info(f"Registered {component.type.value} {component.name!r} ({component.flavor}).")


@app.command("list")
@report_errors
def list_components(
    *,
    component_type: Annotated[Optional[str], typer.Option("--type", "-t", help="Only this type.")] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """List registered components."""
    from provisioner.registry.models import ComponentType
    from provisioner.registry.validation import call_or_raise

    wanted = call_or_raise(lambda: ComponentType(component_type), "--type") if component_type else None
    components = open_registry().list_components(wanted)
    rows = [(c.name, c.type, c.flavor, c.connector, c.labels) for c in components]
    render(components, output, "Components", ["name", "type", "flavor", "connector", "labels"], rows)


@app.command("describe")
@report_errors
def describe(
    name: Annotated[str, typer.Argument(help="Component name.", autocompletion=_complete.components)],
    *,
    output: OutputOption = OutputFormat.table,
    show_secrets: ShowSecretsOption = False,
) -> None:
    """Show a component, its config and its connector."""
    detail = open_registry().describe_component(name, show_secrets=show_secrets)
    rows = [("type", detail.type), ("flavor", detail.flavor), ("labels", detail.labels)]
    rows += [(f"config.{key}", value) for key, value in detail.config.items()]
    rows.append(("connector", detail.connector.name if detail.connector else None))
    render(detail, output, f"Component {detail.name}", ["field", "value"], rows)


@app.command("update")
@report_errors
def update(
    name: Annotated[str, typer.Argument(help="Component name.", autocompletion=_complete.components)],
    *,
    config: ConfigOption = None,
    label: LabelOption = None,
    connector: Annotated[Optional[str], typer.Option("--connector", help="Link this connector.")] = None,
    no_connector: Annotated[bool, typer.Option("--no-connector", help="Unlink the connector.")] = False,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Change config values, labels or the connector of a component."""
    registry = open_registry()
    changes: dict[str, object] = {
        "config": parse_pairs(config or [], "--config"),
        "labels": parse_pairs(label or [], "--label", json_values=False),
    }
    if no_connector:
        changes["connector"] = None
    elif connector is not None:
        changes["connector"] = connector
    component = registry.update_component(name, **changes)  # type: ignore[arg-type]
    if output is OutputFormat.json:
        print_json(component)
    else:
        info(f"Updated component {component.name!r}.")


@app.command("delete")
@report_errors
def delete(name: Annotated[str, typer.Argument(help="Component name.", autocompletion=_complete.components)]) -> None:
    """Delete a component that no stack uses."""
    open_registry().delete_component(name)
    info(f"Deleted component {name!r}.")
