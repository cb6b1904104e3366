"""`provisioner connector ...`: register and inspect service connectors."""

from typing import Annotated, Optional

import typer

from provisioner.cli._context import open_registry
from provisioner.cli._errors import report_errors
from provisioner.cli._output import OutputFormat, OutputOption, ShowSecretsOption, info, render
from provisioner.cli._parsing import parse_pairs

app = typer.Typer(help="Register and manage service connectors.", no_args_is_help=True)


@app.command("register")
@report_errors
def register(
    name: Annotated[str, typer.Argument(help="Connector name.")],
    *,
    connector_type: Annotated[str, typer.Option("--type", "-t", help="aws, gcp or kubernetes.")],
    auth_method: Annotated[str, typer.Option("--auth-method", "-a", help="e.g. iam-role, implicit, token.")],
    config: Annotated[
        Optional[list[str]], typer.Option("--config", "-c", help="KEY=VALUE of the auth method's settings; repeat.")
    ] = None,
    resource_type: Annotated[
        Optional[list[str]],
        typer.Option("--resource-type", "-r", help="Resource type it gives access to; repeat. Default: all."),
    ] = None,
    env: Annotated[Optional[str], typer.Option("--env", help="Environment label, e.g. staging.")] = None,
    label: Annotated[Optional[list[str]], typer.Option("--label", "-l", help="KEY=VALUE label; repeat.")] = None,
) -> None:
    """Register a connector; secret settings go to the secret store and are kept as references."""
    from provisioner.registry.models import ConnectorSpec
    from provisioner.registry.validation import validate_or_raise

    spec = validate_or_raise(
        ConnectorSpec,
        {
            "name": name,
            "type": connector_type,
            "auth_method": auth_method,
            "configuration": parse_pairs(config or [], "--config"),
            "resource_types": resource_type or [],
            "env": env,
            "labels": parse_pairs(label or [], "--label", json_values=False),
        },
        "invalid connector",
    )
    connector = open_registry().register_connector(spec)
    info(f"Registered {connector.type.value} connector {connector.name!r} ({connector.auth_method}).")


@app.command("list")
@report_errors
def list_connectors(*, output: OutputOption = OutputFormat.table) -> None:
    """List registered connectors."""
    connectors = open_registry().list_connectors()
    rows = [(c.name, c.type, c.auth_method, c.resource_types, c.env) for c in connectors]
    render(connectors, output, "Service connectors", ["name", "type", "auth method", "resources", "env"], rows)


@app.command("describe")
@report_errors
def describe(
    name: Annotated[str, typer.Argument(help="Connector name.")],
    *,
    output: OutputOption = OutputFormat.table,
    show_secrets: ShowSecretsOption = False,
) -> None:
    """Show a connector; secret settings appear as references unless --show-secrets."""
    registry = open_registry()
    connector = registry.get_connector(name)
    if show_secrets:
        connector = connector.model_copy(update={"configuration": registry.resolve(connector.configuration)})
    rows = [
        ("type", connector.type),
        ("auth method", connector.auth_method),
        ("resource types", connector.resource_types),
        ("env", connector.env),
        ("labels", connector.labels),
    ]
    rows += [(f"configuration.{key}", value) for key, value in connector.configuration.items()]
    render(connector, output, f"Connector {connector.name}", ["field", "value"], rows)


@app.command("delete")
@report_errors
def delete(name: Annotated[str, typer.Argument(help="Connector name.")]) -> None:
    """Delete a connector that no component links to."""
    open_registry().delete_connector(name)
    info(f"Deleted connector {name!r}.")
