"""`provisioner secret ...`: values in the encrypted secret store, referenced as {{secret:NAME.KEY}}."""

from typing import Annotated, Optional

import typer

from provisioner.cli._app import new_app
from provisioner.cli._context import open_registry
from provisioner.cli._errors import report_errors
from provisioner.cli._output import OutputFormat, OutputOption, ShowSecretsOption, info, render
from provisioner.cli._parsing import parse_pairs

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
    value_in_args: Annotated[
        bool,
        typer.Option("--value-in-args", help="Also take KEY=VALUE: the value is then visible to `ps` and kept in shell history."),
    ] = False,
) -> None:
    """Create a secret or set some of its keys. Values never go on the command line unless --value-in-args."""
    pairs = _given_values(values, value_in_args)  # every item checked before anything is asked or stored
    for key in [k for k, v in pairs.items() if v is None]:
        pairs[key] = typer.prompt(f"{name}.{key}", hide_input=True, err=True)
    secret = open_registry().set_secret(name, pairs, labels=parse_pairs(label or [], "--label", json_values=False))
    info(f"Stored secret {secret.name!r} with keys {', '.join(secret.keys)}. Reference: {{{{secret:{name}.KEY}}}}")


def _given_values(items: list[str], value_in_args: bool) -> dict[str, str | None]:
    """KEY -> None (to ask), KEY=@FILE -> the file's text, KEY=VALUE -> VALUE only with --value-in-args."""
    from pathlib import Path

    from provisioner.errors import InputError

    pairs: dict[str, str | None] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not key.strip():
            raise InputError(f"a secret value must be KEY, KEY=@FILE or KEY=VALUE (got {item!r})")
        if not sep:
            pairs[key.strip()] = None
        elif value_in_args:
            pairs[key.strip()] = value
        elif value.startswith("@") and len(value) > 1:
            try:
                pairs[key.strip()] = Path(value[1:]).read_text(encoding="utf-8").removesuffix("\n")
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(f"cannot read the value of {key.strip()!r} from {value[1:]!r}: {exc.strerror or exc}") from None
        else:
            raise InputError(
                f"{key.strip()}=...: a value on the command line is visible to `ps` and kept in shell history; give {key.strip()} "
                f"alone to be asked, {key.strip()}=@FILE to read it from a file, or add --value-in-args"
            )
    return pairs


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
