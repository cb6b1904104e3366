"""`deploy-stack` and `destroy-stack`."""

from typing import Annotated, Any

import typer

from provisioner.cli._deploy_common import (
    SIMULATION_BANNER,
    BackendOption,
    ContextOption,
    EnvOption,
    FileOption,
    NameOption,
    RecipeArgument,
    RegionOption,
    SetOption,
    SimulateOption,
    make_engine,
    resolve,
)
from provisioner.cli._errors import report_errors
from provisioner.cli._output import OutputFormat, OutputOption, ShowSecretsOption, info, print_json

deploy_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
destroy_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


def _sink(output: OutputFormat, title: str) -> Any:
    from provisioner.engine.base import NullSink

    if output is OutputFormat.json:
        return NullSink()
    from provisioner.cli._progress import RichProgressSink

    return RichProgressSink(title)


@deploy_app.command()
@report_errors
def deploy_stack(
    recipe: RecipeArgument,
    *,
    env: EnvOption = "dev",
    region: RegionOption = None,
    name: NameOption = None,
    config_file: FileOption = None,
    set_values: SetOption = None,
    context: ContextOption = None,
    simulate: SimulateOption = False,
    plan: Annotated[bool, typer.Option("--plan", help="Preview only: show what would be created; change nothing.")] = False,
    backend: BackendOption = None,
    output: OutputOption = OutputFormat.table,
    show_secrets: ShowSecretsOption = False,
) -> None:
    """Deploy a recipe for an environment and register what it created as a stack."""
    from provisioner.cli._context import open_registry
    from provisioner.lifecycle import deploy

    recipe_obj, request, args = resolve(
        recipe, env, config_file=config_file, sets=set_values, region=region, name=name, backend=backend, context=context
    )
    engine = make_engine(simulate, request.backend)
    engine.check_available()
    registry = open_registry()
    if simulate and output is OutputFormat.table:
        info(SIMULATION_BANNER)
    verb = "Previewing" if plan else "Deploying"
    with _sink(output, f"{verb} {request.stack_name}") as sink:
        outcome = deploy(recipe_obj, request, args, engine, registry, sink, preview=plan, show_secrets=show_secrets)
    if output is OutputFormat.json:
        print_json(outcome)
        return
    from provisioner.cli._summary import print_deploy_summary

    print_deploy_summary(outcome)


@destroy_app.command()
@report_errors
def destroy_stack(
    recipe: RecipeArgument,
    *,
    env: EnvOption = "dev",
    region: RegionOption = None,
    name: NameOption = None,
    config_file: FileOption = None,
    context: ContextOption = None,
    simulate: SimulateOption = False,
    backend: BackendOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Destroy an environment's resources and unregister its stack, components and connectors."""
    from provisioner.cli._context import open_registry
    from provisioner.errors import InputError
    from provisioner.lifecycle import destroy

    recipe_obj, request, _args = resolve(
        recipe, env, config_file=config_file, sets=None, region=region, name=name, backend=backend, context=context
    )
    engine = make_engine(simulate, request.backend)
    engine.check_available()
    registry = open_registry()
    if not yes:
        if request.env == "prod":
            typed = typer.prompt(f"This destroys PRODUCTION. Type the stack name ({request.stack_name}) to go on")
            if typed.strip() != request.stack_name:
                raise InputError("the typed name does not match: nothing was destroyed")
        elif not typer.confirm(f"Destroy {request.stack_name} and unregister it?", default=False):
            raise InputError("not confirmed: nothing was destroyed")
    if simulate and output is OutputFormat.table:
        info(SIMULATION_BANNER)
    with _sink(output, f"Destroying {request.stack_name}") as sink:
        outcome = destroy(recipe_obj, request, engine, registry, sink)
    if output is OutputFormat.json:
        print_json(outcome)
        return
    from provisioner.cli._summary import print_destroy_summary

    print_destroy_summary(outcome)


def run_deploy() -> None:
    """Console-script entry point of deploy-stack."""
    deploy_app(prog_name="deploy-stack")


def run_destroy() -> None:
    """Console-script entry point of destroy-stack."""
    destroy_app(prog_name="destroy-stack")
