"""`provisioner connector ...`: register and inspect service connectors."""

from typing import TYPE_CHECKING, Annotated, Optional

import typer

from provisioner.cli._app import new_app
from provisioner.cli._context import open_registry
from provisioner.cli._errors import report_errors
from provisioner.cli._output import OutputFormat, OutputOption, ShowSecretsOption, info, print_json, render
from provisioner.cli._parsing import ValueInArgsOption, parse_pairs, parse_with_secrets

if TYPE_CHECKING:
    from provisioner.registry.models import ResourceType

app = new_app(help="Register and manage service connectors.", no_args_is_help=True)


@app.command("register")
@report_errors
def register(
    name: Annotated[str, typer.Argument(help="Connector name.")],
    *,
    connector_type: Annotated[str, typer.Option("--type", "-t", help="aws, gcp, kubernetes, or a type a plugin adds.")],
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
    value_in_args: ValueInArgsOption = False,
) -> None:
    """Register a connector; secret settings go to the secret store and are kept as references.

    A secret setting (e.g. aws_secret_access_key) is given as -c KEY alone (asked without echo),
    -c KEY=@FILE, or a {{secret:NAME.KEY}} reference; a plain value only with --value-in-args.
    """
    from provisioner.errors import InputError
    from provisioner.registry.connector_schemas import config_class_for
    from provisioner.registry.models import ConnectorSpec
    from provisioner.registry.validation import validate_or_raise

    try:
        secrets = set(config_class_for(connector_type, auth_method).secret_fields())
    except InputError:  # an unknown type or method: validation refuses it, naming the known ones
        secrets = set()

    spec = validate_or_raise(
        ConnectorSpec,
        {
            "name": name,
            "type": connector_type,
            "auth_method": auth_method,
            "configuration": parse_with_secrets(
                config or [], "--config", is_secret=secrets.__contains__, value_in_args=value_in_args, flag="-c "
            ),
            "resource_types": resource_type or [],
            "env": env,
            "labels": parse_pairs(label or [], "--label", json_values=False),
        },
        "invalid connector",
    )
    connector = open_registry().register_connector(spec)
    info(f"Registered {connector.type} connector {connector.name!r} ({connector.auth_method}).")


@app.command("list")
@report_errors
def list_connectors(*, output: OutputOption = OutputFormat.table) -> None:
    """List registered connectors."""
    connectors = open_registry().list_connectors()
    rows = [(c.name, c.type, c.auth_method, c.resource_types, c.env, "disabled" if c.disabled else "") for c in connectors]
    render(connectors, output, "Service connectors", ["name", "type", "auth method", "resources", "env", "state"], rows)


@app.command("describe")
@report_errors
def describe(
    name: Annotated[str, typer.Argument(help="Connector name.")],
    *,
    output: OutputOption = OutputFormat.table,
    show_secrets: ShowSecretsOption = False,
) -> None:
    """Show a connector; secret settings appear as references unless --show-secrets."""
    connector = open_registry().describe_connector(name, show_secrets=show_secrets)
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


@app.command("disable")
@report_errors
def disable(name: Annotated[str, typer.Argument(help="Connector name.")]) -> None:
    """Stop a connector at once: it verifies and issues nothing until enabled again (admins only)."""
    open_registry().set_connector_disabled(name, True)
    info(f"Disabled connector {name!r}: no verification or credentials through it from now on.")


@app.command("enable")
@report_errors
def enable(name: Annotated[str, typer.Argument(help="Connector name.")]) -> None:
    """Let a disabled connector be used again (admins only)."""
    open_registry().set_connector_disabled(name, False)
    info(f"Enabled connector {name!r}.")


@app.command("verify")
@report_errors
def verify(
    name: Annotated[str, typer.Argument(help="Connector name.")],
    *,
    resource_id: Annotated[
        Optional[str], typer.Option("--resource-id", help="Check only this resource (bucket, repository, cluster).")
    ] = None,
    resource_type: Annotated[
        Optional[str], typer.Option("--resource-type", help="Type of --resource-id; inferred when unambiguous.")
    ] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Authenticate with the connector and check what it reaches; exit 1 if something is unreachable."""
    from provisioner.errors import OperationFailedError

    # Gated and audited; in client mode the server verifies, and the connector's secrets never leave it.
    from provisioner.connectors import use

    report = use.verify(open_registry(), name, resource_id, _resource_type(resource_type))
    rows = [(c.resource_type, c.resource_id, "yes" if c.reachable else "NO", c.message) for c in report.checks]
    title = f"Connector {name} ({report.identity})" if report.identity else f"Connector {name}"
    render(report, output, title, ["resource type", "resource", "reachable", "message"], rows)
    if output is not OutputFormat.json:
        for note in report.notes:
            info(f"note: {note}")
    failures = report.failures()
    if failures or not report.ok:
        failed = ", ".join(f"{c.resource_type.value} {c.resource_id}" for c in failures) or "no check passed"
        raise OperationFailedError(f"connector {name!r} cannot reach {failed}")


@app.command("list-resources")
@report_errors
def list_resources(
    name: Annotated[str, typer.Argument(help="Connector name.")],
    *,
    output: OutputOption = OutputFormat.table,
) -> None:
    """List the resources the connector reaches, by resource type."""
    from provisioner.connectors import use

    found = use.resources(open_registry(), name)  # gated and audited; on the server in client mode
    rows: list[tuple[object, ...]] = [
        (resource_type, resource) for resource_type, resources in found.resources.items() for resource in resources
    ]
    rows += [("namespace", f"{cluster}: {namespace}") for cluster, names in found.namespaces.items() for namespace in names]
    render(found, output, f"Resources of connector {name}", ["resource type", "resource"], rows)
    if output is not OutputFormat.json:
        for error in found.errors:
            info(f"warning: {error}")


@app.command("credentials")
@report_errors
def credentials(
    name: Annotated[str, typer.Argument(help="Connector name.")],
    *,
    resource_id: Annotated[str, typer.Option("--resource-id", help="The bucket, repository or cluster to reach.")],
    resource_type: Annotated[
        Optional[str], typer.Option("--resource-type", help="Type of --resource-id; inferred when unambiguous.")
    ] = None,
    show_secrets: ShowSecretsOption = False,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Issue short-lived credentials scoped to one resource, as `export` lines (iam-role connectors only)."""
    import shlex

    # Minted where the connector's secrets are (the server in client mode); gated and audited.
    from provisioner.connectors import use

    issued = use.credentials(open_registry(), name, _resource_type(resource_type), resource_id)
    shown = issued if show_secrets else issued.masked()
    if output is OutputFormat.json:
        print_json(shown)
        return
    for key, value in shown.env.items():
        print(f"export {key}={shlex.quote(value)}")
    expires = shown.expires_at.isoformat() if shown.expires_at else "unknown"
    info(f"Credentials for {issued.resource_type.value} {issued.resource_id}, valid until {expires}.")
    if not show_secrets:
        info("Secret values are masked; pass --show-secrets to print them.")


def _resource_type(value: Optional[str]) -> "Optional[ResourceType]":
    """The --resource-type option as a ResourceType, or an InputError listing the valid ones."""
    from provisioner.errors import InputError
    from provisioner.registry.models import ResourceType

    if value is None:
        return None
    try:
        return ResourceType(value)
    except ValueError:
        allowed = ", ".join(t.value for t in ResourceType)
        raise InputError(f"unknown resource type {value!r} (allowed: {allowed})") from None
