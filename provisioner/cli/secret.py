"""`provisioner secret ...`: values in the encrypted secret store, referenced as {{secret:NAME.KEY}}."""

from typing import Annotated, Optional

import typer

from provisioner.cli._app import new_app
from provisioner.cli._context import open_registry
from provisioner.cli._errors import report_errors
from provisioner.cli._output import OutputFormat, OutputOption, ShowSecretsOption, info, render
from provisioner.cli._parsing import ValueInArgsOption, parse_pairs, parse_with_secrets

app = new_app(help="Store and manage secrets.", no_args_is_help=True)


@app.command("set")
@report_errors
def set_secret(
    name: Annotated[str, typer.Argument(help="Secret name.")],
    values: Annotated[
        list[str],
        typer.Argument(help="KEY (asks for the value without echo), or KEY=@FILE (reads the value from FILE)."),
    ],
    *,
    label: Annotated[Optional[list[str]], typer.Option("--label", "-l", help="KEY=VALUE label; repeat.")] = None,
    value_in_args: ValueInArgsOption = False,
) -> None:
    """Create a secret or set some of its keys. Values never go on the command line unless --value-in-args."""
    pairs = parse_with_secrets(
        values, "a secret value", is_secret=lambda _key: True, value_in_args=value_in_args, json_values=False, ask_prefix=f"{name}."
    )
    secret = open_registry().set_secret(name, pairs, labels=parse_pairs(label or [], "--label", json_values=False))
    info(f"Stored secret {secret.name!r} with keys {', '.join(secret.keys)}. Reference: {{{{secret:{name}.KEY}}}}")


@app.command("backend")
@report_errors
def backend(
    name: Annotated[Optional[str], typer.Argument(help="local, aws-secrets-manager or gcp-secret-manager; omit to show.")] = None,
    option: Annotated[Optional[list[str]], typer.Option("--option", "-O", help="KEY=VALUE, e.g. region=eu-west-1; repeat.")] = None,
    *,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Show or choose where this registry keeps secret values (choosing needs the admin role)."""
    registry = open_registry()
    if name:
        registry.set_secret_backend(name, parse_pairs(option or [], "--option", json_values=False))
        info(f"New secrets go to the {name!r} backend.")
    current = registry.secret_backend()
    render(current, output, "Secret backend", ["name", "options"], [(current["name"], current.get("options", {}))])


@app.command("list")
@report_errors
def list_secrets(*, output: OutputOption = OutputFormat.table) -> None:
    """List secrets: names and keys, never values."""
    secrets = open_registry().list_secrets()
    rows = [(s.name, s.keys, s.backend, s.owner) for s in secrets]
    render(secrets, output, "Secrets", ["name", "keys", "backend", "managed by"], rows)


@app.command("describe")
@report_errors
def describe(
    name: Annotated[str, typer.Argument(help="Secret name.")],
    *,
    output: OutputOption = OutputFormat.table,
    show_secrets: ShowSecretsOption = False,
) -> None:
    """Show a secret; values are masked unless --show-secrets."""
    detail = open_registry().describe_secret(name, show_values=show_secrets)
    rows = [(key, value) for key, value in detail.values.items()]
    render(detail, output, f"Secret {detail.name} ({detail.backend})", ["key", "value"], rows)


@app.command("delete")
@report_errors
def delete(name: Annotated[str, typer.Argument(help="Secret name.")]) -> None:
    """Delete a secret that nothing references."""
    open_registry().delete_secret(name)
    info(f"Deleted secret {name!r}.")
