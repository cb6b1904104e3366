"""`provisioner component ...`: register, inspect, change and remove stack components."""

from typing import Annotated, Any, Optional

import typer

from provisioner.cli import _complete
from provisioner.cli._app import new_app
from provisioner.cli._context import open_registry
from provisioner.cli._errors import report_errors
from provisioner.cli._output import OutputFormat, OutputOption, ShowSecretsOption, info, print_json, render
from provisioner.cli._parsing import ValueInArgsOption, parse_pairs, parse_with_secrets

app = new_app(help="Register and manage stack components.", no_args_is_help=True)

ConfigOption = Annotated[
    Optional[list[str]], typer.Option("--config", "-c", help="KEY=VALUE of the flavor's config; repeat.")
]
LabelOption = Annotated[Optional[list[str]], typer.Option("--label", "-l", help="KEY=VALUE label; repeat.")]


def _flavor_secrets(component_type: object, flavor: str) -> set[str]:
    """The secret settings of a flavor; none when it is unknown (the registry then refuses it, naming why)."""
    from provisioner.errors import NotFoundError
    from provisioner.registry.flavors import FlavorRegistry
    from provisioner.registry.models import ComponentType

    try:
        return set(FlavorRegistry.load().get(ComponentType(component_type), flavor).config_class.secret_fields())
    except (ValueError, NotFoundError):  # an unknown type or flavor: validation refuses it, naming the known ones
        return set()


def _config(pairs: Optional[list[str]], secrets: set[str], value_in_args: bool) -> dict[str, Any]:
    return parse_with_secrets(pairs or [], "--config", is_secret=secrets.__contains__, value_in_args=value_in_args, flag="-c ")


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
    value_in_args: ValueInArgsOption = False,
) -> None:
    """Register a component; its config is validated against the flavor's schema.

    A secret setting (e.g. tracking_password) is given as -c KEY alone (asked without echo), -c KEY=@FILE,
    or a {{secret:NAME.KEY}} reference; a plain value only with --value-in-args.
    """
    from provisioner.registry.models import ComponentSpec
    from provisioner.registry.validation import validate_or_raise

    spec = validate_or_raise(
        ComponentSpec,
        {
            "name": name,
            "type": component_type,
            "flavor": flavor,
            "config": _config(config, _flavor_secrets(component_type, flavor), value_in_args),
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
    value_in_args: ValueInArgsOption = False,
) -> None:
    """Change config values, labels or the connector of a component (secret settings as in register)."""
    registry = open_registry()
    secrets: set[str] = set()
    if config:
        current = registry.get_component(name)
        secrets = _flavor_secrets(current.type, current.flavor)
    changes: dict[str, object] = {
        "config": _config(config, secrets, value_in_args),
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
