"""Options and helpers shared by deploy-stack and destroy-stack."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:
    from provisioner.config import DeployRequest
    from provisioner.engine.base import Engine
    from provisioner.recipe_api import Recipe, RecipeArgs

from provisioner.cli import _complete

RecipeArgument = Annotated[str, typer.Argument(
    help="Recipe to deploy: aws, gcp, kubernetes, ... (provisioner recipe list).", autocompletion=_complete.recipes)]
EnvOption = Annotated[str, typer.Option(
    "--env", "-e", help="Environment: dev, staging, prod, or one your config file defines.", autocompletion=_complete.envs)]
RegionOption = Annotated[Optional[str], typer.Option("--region", help="Cloud region (default: the recipe's).")]
NameOption = Annotated[Optional[str], typer.Option("--name", help="Stack name (default: RECIPE-ENV).", autocompletion=_complete.stacks)]
FileOption = Annotated[Optional[Path], typer.Option("--file", "-f", help="YAML config file.", dir_okay=False)]
SetOption = Annotated[Optional[list[str]], typer.Option("--set", help="Override a recipe setting: KEY.PATH=VALUE; repeat.")]
ContextOption = Annotated[
    Optional[str], typer.Option("--context", help="kubeconfig context of the target cluster (recipes that take one).")
]
SimulateOption = Annotated[
    bool, typer.Option("--simulate", help="Run in-process against emulators: no cloud account, no Pulumi CLI.")
]
BackendOption = Annotated[
    Optional[str],
    typer.Option("--backend", help="Pulumi state backend URL (default: file:// in the provisioner home).", envvar="PROVISIONER_BACKEND"),
]
PreflightOption = Annotated[
    bool,
    typer.Option(
        "--preflight",
        help="Only check the account, read-only: identity, region, versions, offerings, quotas, permissions. Exit 1 if one fails.",
    ),
]
NoPreflightOption = Annotated[
    bool, typer.Option("--no-preflight", help="Skip the preflight checks that run before every real deploy.")
]
SIMULATION_BANNER = "SIMULATION: nothing is deployed to a real cloud."


def resolve(
    recipe_name: str,
    env: str,
    *,
    config_file: Optional[Path],
    sets: Optional[list[str]],
    region: Optional[str],
    name: Optional[str],
    backend: Optional[str],
    context: Optional[str] = None,
    simulated: bool = False,
) -> "tuple[Recipe, DeployRequest, RecipeArgs]":
    """Load the recipe and resolve the request; any bad input raises before anything happens."""
    from provisioner.config import resolve_request
    from provisioner.recipe_registry import RecipeRegistry

    recipe = RecipeRegistry().get(recipe_name)
    request, args = resolve_request(
        recipe, env=env, config_file=config_file, sets=sets or [], region=region, stack_name=name, backend=backend,
        context=context, simulated=simulated,
    )
    return recipe, request, args


def make_engine(simulate: bool, backend: Optional[str]) -> "Engine":
    """The simulated engine, or the Pulumi engine on the given (or default) backend."""
    if simulate:
        from provisioner.engine.simulated import SimulatedEngine

        return SimulatedEngine()
    from provisioner.engine.pulumi import PulumiEngine

    return PulumiEngine(backend_url=backend)
