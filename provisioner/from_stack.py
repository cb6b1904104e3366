"""`provisioner register --from-stack`: register what an existing Pulumi stack deployed.

A project that embeds ``AwsMlopsStack`` (or another recipe's component) in its own Pulumi program
exports the outputs the recipe's mapping reads (``recipes.aws.recipe.export_stack_outputs``).
This reads those outputs through the Automation API and registers them with the recipe's mapping,
exactly as deploy-stack does after ``pulumi up``: same components, connectors, secrets and stack,
updated in place when run again.

The source is either the folder of such a project (its Pulumi.yaml), or ``[PROJECT/]STACK`` in
provisioner's own workspace (the stacks deploy-stack made: project ``provisioner-RECIPE``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from provisioner.engine.base import OutputValue
from provisioner.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    OperationFailedError,
)
from provisioner.recipe_api import LABEL_ENV, Recipe, RecipeContext, RegistrationPlan
from provisioner.registry.service import DeploymentRecord, Registry

PROJECT_FILES = ("Pulumi.yaml", "Pulumi.yml", "Pulumi.json")
PASSPHRASE_FILE_ENV = "PULUMI_CONFIG_PASSPHRASE_FILE"
BACKEND_ENV = "PROVISIONER_BACKEND"


class StackOutputs(BaseModel):
    """The outputs of one Pulumi stack, and where they were read."""

    kind: Literal["directory", "workspace"]
    project: str
    stack: str
    work_dir: str
    # The recipe the stack belongs to when that is known from where it lives (provisioner's workspace).
    recipe: str | None = None
    outputs: dict[str, OutputValue] = Field(default_factory=dict)

    def describe(self) -> str:
        """Where the outputs come from, for messages."""
        if self.kind == "directory":
            return f"Pulumi stack {self.stack!r} of project {self.project!r} in {self.work_dir}"
        return f"Pulumi stack {self.project}/{self.stack} of provisioner's workspace"

    def plain(self) -> dict[str, Any]:
        """Output values, secrets included: for the registration mapping only."""
        return {key: output.value for key, output in self.outputs.items()}


class RegisterOutcome(BaseModel):
    """What ``register --from-stack`` registered; secret outputs are masked unless asked for."""

    stack: str
    recipe: str
    env: str
    source: str
    pulumi_project: str
    pulumi_stack: str
    outputs: dict[str, OutputValue]
    registered: DeploymentRecord
    summary: list[str] = Field(default_factory=list)


def make_pulumi_command() -> Any:
    """The Pulumi CLI the Automation API drives; tests replace this factory with a fake.

    Without the CLI this raises the same EngineUnavailableError (install hint, exit 2) as deploy-stack.
    """
    from provisioner.engine.pulumi import PulumiEngine

    engine = PulumiEngine()
    engine.check_available()
    return engine._command  # check_available leaves the PulumiCommand it found there


def register_from_stack(
    source: str,
    *,
    recipe: str | None = None,
    env: str = "dev",
    name: str | None = None,
    stack: str | None = None,
    backend: str | None = None,
    pulumi_command: Any = None,
    registry: Registry | None = None,
    show_secrets: bool = False,
) -> RegisterOutcome:
    """Read the outputs of ``source`` (a project folder or ``[PROJECT/]STACK``) and register them.

    ``recipe`` picks the mapping (default: the workspace project's recipe, else guessed from the
    output names); the registry stack is ``name`` (default ``RECIPE-ENV``). Re-running updates in place.
    """
    from provisioner.config import default_stack_name
    from provisioner.lifecycle import masked_outputs
    from provisioner.recipe_registry import RecipeRegistry

    recipes = RecipeRegistry()
    if recipe is not None:
        recipes.get(recipe)  # an unknown recipe is refused before the CLI is looked for
    command = pulumi_command if pulumi_command is not None else make_pulumi_command()
    read = read_stack_outputs(source, stack=stack, recipe=recipe, backend=backend, pulumi_command=command)
    if not read.outputs:
        raise InputError(f"{read.describe()} has no outputs: deploy it first (pulumi up)")
    recipe_name = recipe or read.recipe or guess_recipe(read.plain(), read.describe())
    recipe_obj = recipes.get(recipe_name)
    stack_name = name or default_stack_name(recipe_name, env)
    context = RecipeContext(recipe_name, env, stack_name)
    outputs = read.plain()
    plan = registration_plan(recipe_obj, outputs, context, read.describe())
    if registry is None:
        from provisioner.client.open import open_registry

        registry = open_registry()  # type: ignore[assignment]
    _refuse_env_crossing(registry, stack_name, env)
    record = registry.apply_deployment(plan, context)
    return RegisterOutcome(
        stack=stack_name,
        recipe=recipe_name,
        env=env,
        source=read.describe(),
        pulumi_project=read.project,
        pulumi_stack=read.stack,
        outputs=masked_outputs(read.outputs, show_secrets),
        registered=record,
        summary=[*plan.notes, *_summary(recipe_obj, outputs, context)],
    )


def read_stack_outputs(
    source: str, *, stack: str | None = None, recipe: str | None = None, backend: str | None = None, pulumi_command: Any
) -> StackOutputs:
    """The outputs of ``source``: a Pulumi project folder (its ``stack`` or current stack), else
    ``[PROJECT/]STACK`` in provisioner's workspace (PROJECT defaults to ``provisioner-RECIPE``)."""
    folder = Path(source).expanduser()
    if folder.is_dir():
        return _read_directory(folder.resolve(), stack, backend, pulumi_command)
    if stack is not None:
        raise InputError(f"--stack selects a stack of a project folder, and {source!r} is not a folder")
    recipe_name, pulumi_stack = _parse_workspace_stack(source, recipe)
    return _read_workspace(recipe_name, pulumi_stack, backend, pulumi_command)


def guess_recipe(outputs: Mapping[str, Any], where: str = "the stack") -> str:
    """The installed recipe (plugins included) whose Outputs model these outputs validate against.

    Raises:
        InputError: no recipe's model fits, or several do (``--recipe`` then picks one).
    """
    from pydantic import ValidationError

    from provisioner.recipe_registry import RecipeRegistry

    registry = RecipeRegistry()
    names = registry.names()
    fits: list[str] = []
    distance: dict[str, tuple[list[str], list[str]]] = {}
    for name in names:
        model = registry.get(name).outputs_model
        if model is None:
            continue
        try:
            model.model_validate(dict(outputs))
        except ValidationError:
            required = {key for key, info in model.model_fields.items() if info.is_required()}
            distance[name] = (sorted(required - set(outputs)), sorted(set(outputs) - set(model.model_fields)))
            continue
        fits.append(name)
    choices = "|".join(names)
    if len(fits) == 1:
        return fits[0]
    if fits:
        raise InputError(f"the outputs of {where} fit several recipes ({', '.join(fits)}): pass --recipe {choices}")
    keys = sorted(outputs)
    shown = ", ".join(keys[:8]) + (f", ... ({len(keys)} in all)" if len(keys) > 8 else "")
    closest = ""
    if distance:
        name, (missing, extra) = min(distance.items(), key=lambda item: (len(item[1][0]) + len(item[1][1]), item[0]))
        if len(missing) + len(extra) < len(registry.get(name).outputs_model.model_fields):  # type: ignore[union-attr]
            parts = ([f"lack {', '.join(missing)}"] if missing else []) + ([f"have extra {', '.join(extra)}"] if extra else [])
            closest = f"; the closest is {name}, and these outputs {' and '.join(parts)}"
    raise InputError(
        f"the outputs of {where} ({shown}) fit no installed recipe's outputs model{closest}: pass --recipe {choices}"
    )


def registration_plan(recipe: Recipe, outputs: Mapping[str, Any], context: RecipeContext, where: str) -> RegistrationPlan:
    """The recipe's mapping applied to ``outputs`` read as its Outputs model; what is missing is named (exit 2)."""
    try:
        typed = recipe.read_outputs(outputs)
    except ValueError as exc:
        raise InputError(
            f"the outputs of {where} {exc}, which the {recipe.name} recipe's Outputs model requires: export them "
            f"from the program (recipes.{recipe.name}.recipe shows which), or pick another --recipe"
        ) from None
    return recipe.registration(typed, context)


def _summary(recipe: Recipe, outputs: Mapping[str, Any], context: RecipeContext) -> list[str]:
    """The recipe's how-to-use lines."""
    return recipe.summary(recipe.read_outputs(outputs), context)


def _refuse_env_crossing(registry: Registry, stack_name: str, env: str) -> None:
    """A registered stack of another env is never overwritten (as deploy-stack refuses too)."""
    for registered in registry.list_stacks():
        if registered.name == stack_name:
            other = registered.labels.get(LABEL_ENV)
            if other is not None and other != env:
                raise ConflictError(f"stack {stack_name!r} belongs to env {other!r}, not {env!r}: refusing to register into it")


def _parse_workspace_stack(source: str, recipe: str | None) -> tuple[str, str]:
    """``STACK`` (with --recipe) or ``PROJECT/STACK`` as (recipe, Pulumi stack)."""
    from provisioner.engine.pulumi import project_name

    parts = source.split("/")
    if len(parts) == 1 and parts[0]:
        if recipe is None:
            raise InputError(
                f"{source!r} is not a folder; as a stack of provisioner's workspace it needs --recipe "
                f"(or PROJECT/STACK, e.g. {project_name('aws')}/{source})"
            )
        return recipe, parts[0]
    if len(parts) == 2 and all(parts):
        from_project = parts[0].removeprefix("provisioner-")
        if recipe is not None and recipe != from_project:
            raise InputError(f"project {parts[0]!r} holds the {from_project} recipe's stacks, not --recipe {recipe}")
        return from_project, parts[1]
    raise InputError(f"--from-stack {source!r}: no such folder, and not [PROJECT/]STACK")


def _read_directory(folder: Path, stack: str | None, backend: str | None, command: Any) -> StackOutputs:
    """Select ``stack`` (default: the current one) of the project in ``folder`` and read its outputs."""
    from pulumi import automation as auto

    if not any((folder / name).is_file() for name in PROJECT_FILES):
        raise InputError(f"{folder} has no Pulumi.yaml: not a Pulumi project folder")
    env_vars = _env_vars(backend, own_project=True)
    where = f"the Pulumi project in {folder}"
    with _translated(where, stack):
        if stack is None:
            workspace = auto.LocalWorkspace(work_dir=str(folder), pulumi_command=command, env_vars=env_vars)
            current = workspace.stack()
            if current is None:
                raise InputError(f"{where} has no current stack: pass --stack NAME (pulumi stack ls lists them)")
            stack = current.name
        selected = auto.select_stack(
            stack_name=stack, work_dir=str(folder), opts=auto.LocalWorkspaceOptions(pulumi_command=command, env_vars=env_vars)
        )
        outputs = selected.outputs()
    project = selected.workspace.project_settings().name
    return StackOutputs(
        kind="directory",
        project=project,
        stack=stack,
        work_dir=str(folder),
        outputs={key: OutputValue(value=value.value, secret=value.secret) for key, value in outputs.items()},
    )


def _read_workspace(recipe: str, stack: str, backend: str | None, command: Any) -> StackOutputs:
    """Read a stack of provisioner's own workspace, set up exactly as the Pulumi engine does."""
    from pulumi import automation as auto

    from provisioner.engine.pulumi import PulumiEngine, project_name

    project = project_name(recipe)
    engine = PulumiEngine(backend_url=backend or os.environ.get(BACKEND_ENV) or None, pulumi_command=command)
    opts = engine._workspace_options(project)
    where = f"project {project} of provisioner's workspace ({engine.backend_url})"
    with _translated(where, stack):
        selected = auto.select_stack(stack_name=stack, project_name=project, program=lambda: None, opts=opts)
        outputs = selected.outputs()
    return StackOutputs(
        kind="workspace",
        project=project,
        stack=stack,
        work_dir=str(opts.work_dir),
        recipe=recipe,
        outputs={key: OutputValue(value=value.value, secret=value.secret) for key, value in outputs.items()},
    )


def _env_vars(backend: str | None, *, own_project: bool) -> dict[str, str]:
    """What every Pulumi call gets: the passphrase (unless a passphrase file is set) and the backend if given."""
    from provisioner.engine.pulumi import PASSPHRASE_ENV, passphrase

    env = {"PULUMI_SKIP_UPDATE_CHECK": "true"}
    if not (own_project and os.environ.get(PASSPHRASE_FILE_ENV) and not os.environ.get(PASSPHRASE_ENV)):
        env[PASSPHRASE_ENV] = passphrase()
    if backend:
        env["PULUMI_BACKEND_URL"] = backend
    return env


@contextmanager
def _translated(where: str, stack: str | None) -> Iterator[None]:
    """Automation API errors as one-line provisioner errors."""
    from pulumi.automation import CommandError, StackNotFoundError

    from provisioner.engine.pulumi import _first_error

    try:
        yield
    except StackNotFoundError:
        raise NotFoundError(f"no stack {stack!r} in {where}") from None
    except CommandError as exc:
        text = str(exc)
        if "passphrase" in text.lower():
            raise InputError(
                f"cannot decrypt the secrets of {where}: set PULUMI_CONFIG_PASSPHRASE (or "
                f"{PASSPHRASE_FILE_ENV}) to the passphrase of that stack"
            ) from None
        raise OperationFailedError(f"pulumi failed reading {where}: {_first_error(text, None)}") from None
