"""`provisioner recipe ...` and `provisioner unlock`: the installed recipes and their stacks."""

from typing import Annotated, Any

import typer

from provisioner.cli._app import new_app
from provisioner.cli._deploy_common import BackendOption, EnvOption, NameOption, RecipeArgument, resolve
from provisioner.cli._errors import report_errors
from provisioner.cli._output import OutputFormat, OutputOption, ask, info, render

app = new_app(help="Browse the installed recipes and their presets.", no_args_is_help=True)


def _describe(recipe: Any) -> dict[str, Any]:
    return {
        "name": recipe.name,
        "description": recipe.description,
        "default_region": recipe.default_region,
        "envs": list(recipe.presets),
        "presets": {env: dict(values) for env, values in recipe.presets.items()},
        "args_schema": recipe.args_model.model_json_schema(),
        "plugins": [plugin.name for plugin in recipe.plugins],
    }


@app.command("list")
@report_errors
def list_recipes(*, output: OutputOption = OutputFormat.table) -> None:
    """List installed recipes."""
    from provisioner.recipe_registry import RecipeRegistry

    registry = RecipeRegistry()
    recipes = [_describe(registry.get(name)) for name in registry.names()]
    rows = [(r["name"], ", ".join(r["envs"]), r["default_region"], r["description"]) for r in recipes]
    render(recipes, output, "Recipes", ["name", "envs", "default region", "description"], rows)


@app.command("describe")
@report_errors
def describe(
    name: Annotated[str, typer.Argument(help="Recipe name.")], *, output: OutputOption = OutputFormat.table
) -> None:
    """Show a recipe's settings and the preset value of each per env."""
    from provisioner.recipe_registry import RecipeRegistry

    recipe = RecipeRegistry().get(name)
    data = _describe(recipe)
    envs = list(recipe.presets)
    resolved = {env: recipe.args_model.model_validate(recipe.presets[env]).model_dump(mode="json") for env in envs}
    rows = [(field, *(resolved[env][field] for env in envs)) for field in recipe.args_model.model_fields]
    render(data, output, f"Recipe {recipe.name}: {recipe.description}", ["setting", *envs], rows)


@report_errors
def unlock(
    recipe: RecipeArgument,
    *,
    env: EnvOption = "dev",
    name: NameOption = None,
    backend: BackendOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Also clear a registry lock whose holder may be alive (another host).")
    ] = False,
) -> None:
    """Remove a stale lock left by a run that died: the registry's stack lock, and Pulumi's (file:// backends)."""
    from provisioner.cli._context import open_registry
    from provisioner.engine.pulumi import default_backend_url, lock_files
    from provisioner.errors import InputError

    _recipe, request, _args = resolve(recipe, env, config_file=None, sets=None, region=None, name=name, backend=backend)
    cleared = open_registry().clear_lock(request.stack_name, force=force)
    if cleared is not None:
        info(f"Cleared the registry lock of {request.stack_name} ({cleared.describe()}).")
    backend_url = request.backend or default_backend_url()
    files = lock_files(backend_url, request.recipe, request.pulumi_stack) if backend_url.startswith("file://") else []
    if not files:
        if cleared is None:
            info(f"{request.stack_name} is not locked.")
        return
    if not yes and ask(f"Remove {len(files)} lock(s) of {request.stack_name}? Only if no run is active. [y/N]:").lower() not in ("y", "yes"):
        raise InputError("not confirmed: the lock was kept")
    for path in files:
        path.unlink()
    info(f"Removed {len(files)} lock(s) of {request.stack_name}.")
