"""`provisioner register --from-stack`: register the outputs of an existing Pulumi stack."""

from typing import Annotated, Optional

import typer

from provisioner.cli._errors import report_errors
from provisioner.cli._output import OutputFormat, OutputOption, ShowSecretsOption, print_json


@report_errors
def register(
    *,
    from_stack: Annotated[
        str,
        typer.Option(
            "--from-stack",
            metavar="DIR_OR_STACK",
            help="A Pulumi project folder that embeds a recipe's component, or [PROJECT/]STACK of deploy-stack's workspace.",
        ),
    ],
    recipe: Annotated[
        Optional[str],
        typer.Option("--recipe", "-r", help="Mapping to register with: aws, gcp, kubernetes (default: guessed from the outputs)."),
    ] = None,
    env: Annotated[str, typer.Option("--env", "-e", help="Environment the registered objects belong to.")] = "dev",
    name: Annotated[Optional[str], typer.Option("--name", help="Registry stack name (default: RECIPE-ENV).")] = None,
    stack: Annotated[
        Optional[str], typer.Option("--stack", "-s", help="Pulumi stack of the folder to read (default: its current stack).")
    ] = None,
    backend: Annotated[
        Optional[str],
        typer.Option(
            "--backend",
            help="Pulumi state backend URL (default: the folder's own login; for STACK, deploy-stack's backend).",
        ),
    ] = None,
    output: OutputOption = OutputFormat.table,
    show_secrets: ShowSecretsOption = False,
) -> None:
    """Register a Pulumi stack's outputs as components, connectors and a stack, as deploy-stack would.

    Re-running updates the registration in place.
    """
    from provisioner import from_stack as library

    outcome = library.register_from_stack(
        from_stack, recipe=recipe, env=env, name=name, stack=stack, backend=backend, show_secrets=show_secrets
    )
    if output is OutputFormat.json:
        print_json(outcome)
        return
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False)
    record = outcome.registered
    console.print(
        f"[bold green]Registered stack {escape(outcome.stack)}[/] "
        + escape(
            f"(recipe {outcome.recipe}, env {outcome.env}) from {outcome.source}: components {', '.join(record.components)}"
            + (f" and connectors {', '.join(record.connectors)}" if record.connectors else "")
            + "."
        )
    )
    console.print(f"  provisioner stack describe {outcome.stack}", markup=False)
    for line in outcome.summary:
        console.print(line, markup=False)
