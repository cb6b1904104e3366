"""Resolve what the user asked for into one validated DeployRequest.

Precedence, lowest first: the recipe's preset for the env < the config file (its top level, then
its ``envs.<env>`` section) < ``--set key=value`` < explicit flags (--region, --name, --backend).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field

from provisioner.errors import InputError
from provisioner.recipe_api import Recipe, RecipeArgs, RecipeContext
from provisioner.registry.validation import validate_or_raise
from provisioner.secrets import marked_secret

ENV_NAME_PATTERN = r"^[a-z][a-z0-9-]{0,30}$"


class EnvSection(BaseModel):
    """Per-env settings in a config file; a new env names the preset it starts from."""

    model_config = ConfigDict(extra="forbid")

    extends: str | None = Field(None, description="Preset env this env starts from (for envs beyond dev/staging/prod).")
    region: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)


class ConfigFile(BaseModel):
    """The ``-f config.yaml`` file."""

    model_config = ConfigDict(extra="forbid")

    recipe: str | None = None
    region: str | None = None
    backend: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    envs: dict[str, EnvSection] = Field(default_factory=dict)


class DeployRequest(BaseModel):
    """One validated deployment request: what to deploy, where, with which args."""

    model_config = ConfigDict(frozen=True)

    recipe: str
    env: str
    stack_name: str
    region: str | None
    backend: str | None
    args: dict[str, Any]
    # A saved plan of a stack not deployed yet was made with this deployment id: the first deploy takes
    # it, so the ownership tags the plan shows are the ones applied.
    planned_deployment_id: str | None = None

    @property
    def pulumi_stack(self) -> str:
        """Pulumi stack name: the env, or the custom stack name when one was given."""
        return self.env if self.stack_name == default_stack_name(self.recipe, self.env) else self.stack_name

    def context(
        self, *, simulated: bool = False, deployment_id: str | None = None, previous_outputs: Mapping[str, Any] | None = None
    ) -> RecipeContext:
        return RecipeContext(
            self.recipe, self.env, self.stack_name, self.region, simulated, deployment_id, dict(previous_outputs or {})
        )


def default_stack_name(recipe: str, env: str) -> str:
    return f"{recipe}-{env}"


def load_config_file(path: Path) -> ConfigFile:
    """Read and validate a YAML config file; any problem is a one-line InputError."""
    import yaml

    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"cannot read config file {str(path)!r}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise InputError(f"config file {str(path)!r} is not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(f"config file {str(path)!r} must hold a mapping, not {type(data).__name__}")
    return validate_or_raise(ConfigFile, data, f"config file {str(path)!r}")


def parse_set(assignment: str) -> tuple[list[str], Any]:
    """``a.b=3`` -> (["a", "b"], 3); values are read as YAML scalars (numbers, booleans, lists)."""
    import yaml

    key, sep, raw = assignment.partition("=")
    if not sep or not key.strip():
        raise InputError(f"--set must be KEY=VALUE (got {assignment!r})")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.strip().split("."), value


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for inner in get_args(annotation):
        found = _model_in(inner)
        if found is not None:
            return found
    return None


def _is_mapping(annotation: Any) -> bool:
    if get_origin(annotation) in (dict, Mapping) or annotation is dict:
        return True
    return any(_is_mapping(inner) for inner in get_args(annotation))


def _nested_hint(model: type[BaseModel], name: str) -> str:
    """`` (did you mean 'bucket.versioning'?)`` when a sub-setting has that name (or one close to it)."""
    from provisioner.suggest import did_you_mean

    nested: dict[str, str] = {}
    for field, info in model.model_fields.items():
        inner = info.annotation
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            for sub in inner.model_fields:
                nested.setdefault(sub, f"{field}.{sub}")
    exact = nested.get(name)
    if exact:
        return f" (did you mean {exact!r}?)"
    close = did_you_mean(name, [*model.model_fields, *nested])
    for sub, dotted in nested.items():
        close = close.replace(f"{sub!r}", f"{dotted!r}")
    return close


def _check_path(model: type[BaseModel], path: Sequence[str], full: str) -> Any:
    """The annotation of the setting ``path`` names in ``model`` (walking nested models); InputError if none."""
    current: type[BaseModel] | None = model
    annotation: Any = None
    for depth, part in enumerate(path):
        if current is None:
            raise InputError(f"--set {full}: {'.'.join(path[:depth])!r} has no sub-settings")
        fields = current.model_fields
        renamed: Mapping[str, str] = getattr(current, "renamed_keys", {})
        if part not in fields and part in renamed:
            raise InputError(f"--set {full}: {part!r} is now {renamed[part]!r} (renamed in provisioner 0.3)")
        if part not in fields:
            known = ", ".join(sorted(fields))
            hint = _nested_hint(current, part) if depth == 0 else ""
            raise InputError(f"--set {full}: unknown setting {part!r}{hint} (known: {known})")
        annotation = fields[part].annotation
        if _is_mapping(annotation) and _model_in(annotation) is None:
            return None  # free-form mapping: any key below it is allowed
        current = _model_in(annotation)
    return annotation


def _is_secret_setting(model: type[BaseModel], path: Sequence[str]) -> bool:
    """Whether the setting ``path`` names (a valid path) is marked secret in its model."""
    current: type[BaseModel] | None = model
    for part in path:
        if current is None or part not in current.model_fields:
            return False
        info = current.model_fields[part]
        if marked_secret(info):
            return True
        current = _model_in(info.annotation)
    return False


def _secret_from_file(key: str, raw: str) -> str:
    """A secret setting given to --set: only as KEY=@FILE, never as a value on the command line."""
    if not raw.startswith("@") or len(raw) < 2:
        raise InputError(
            f"--set {key}=...: a secret setting on the command line is visible to `ps` and kept in shell history; "
            f"give --set {key}=@FILE to read it from a file, or put it in the --file config"
        )
    from provisioner.paths import read_value_file

    return read_value_file(raw[1:], f"--set {key}")


def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _assign(target: dict[str, Any], path: Sequence[str], value: Any) -> None:
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


# The kubeconfig context a simulated deploy gets when none is given (no cluster is contacted).
SIMULATED_CONTEXT = "provisioner-simulated"


def resolve_request(
    recipe: Recipe,
    *,
    env: str,
    config_file: Path | None = None,
    sets: Sequence[str] = (),
    region: str | None = None,
    stack_name: str | None = None,
    backend: str | None = None,
    context: str | None = None,
    simulated: bool = False,
) -> tuple[DeployRequest, RecipeArgs]:
    """Merge preset, file, --set and flags; validate against the recipe's args model.

    Simulated, a recipe that takes a kubeconfig context and was given none gets ``SIMULATED_CONTEXT``:
    nothing is contacted under --simulate.

    Raises:
        InputError: unknown env, bad file, unknown --set path, or a value of the wrong type.
    """
    import re

    file = load_config_file(config_file) if config_file else ConfigFile()
    if file.recipe and file.recipe != recipe.name:
        raise InputError(f"config file is for recipe {file.recipe!r}, not {recipe.name!r}")
    if not re.fullmatch(ENV_NAME_PATTERN, env):
        raise InputError(f"invalid env name {env!r}: lowercase letters, digits and -")
    section = file.envs.get(env, EnvSection())
    preset_env = section.extends or env
    if preset_env not in recipe.presets:
        from provisioner.suggest import did_you_mean

        names = [*recipe.presets, *(e for e in file.envs if e not in recipe.presets)]
        raise InputError(
            f"unknown env {env!r} for recipe {recipe.name!r}{did_you_mean(env, names)} (known: {', '.join(names)}); "
            "a config file can add one under envs: with extends: <env>"
        )
    if section.extends and section.extends not in recipe.presets:
        raise InputError(f"env {env!r} extends {section.extends!r}, which is not a preset of {recipe.name!r}")

    merged = _deep_merge(copy.deepcopy(dict(recipe.presets[preset_env])), copy.deepcopy(file.args))
    merged = _deep_merge(merged, copy.deepcopy(section.args))
    for assignment in sets:
        path, value = parse_set(assignment)
        if _check_path(recipe.args_model, path, assignment.partition("=")[0]) is str:
            value = assignment.partition("=")[2]  # as typed: YAML would read 1.30 as the number 1.3
        if _is_secret_setting(recipe.args_model, path) and value != "":
            value = _secret_from_file(".".join(path), assignment.partition("=")[2])
        _assign(merged, path, value)
    if context is not None:
        if recipe.context_field is None:
            raise InputError(f"recipe {recipe.name!r} does not take --context")
        merged[recipe.context_field] = context
    elif simulated and recipe.context_field is not None and not merged.get(recipe.context_field):
        merged[recipe.context_field] = SIMULATED_CONTEXT
    args = validate_or_raise(recipe.args_model, merged, f"invalid settings for recipe {recipe.name!r}")

    name = stack_name or default_stack_name(recipe.name, env)
    request = validate_or_raise(
        DeployRequest,
        {
            "recipe": recipe.name,
            "env": env,
            "stack_name": name,
            "region": region or section.region or file.region or recipe.default_region,
            "backend": backend or file.backend,
            "args": args.model_dump(mode="json"),
        },
        "invalid request",
    )
    from provisioner.registry.models import NAME_PATTERN

    if recipe.regions and request.region not in recipe.regions:
        raise InputError(
            f"unknown region {request.region!r} for recipe {recipe.name!r} (known: {', '.join(recipe.regions)})"
        )
    if not re.fullmatch(NAME_PATTERN, request.stack_name):
        raise InputError(f"invalid stack name {request.stack_name!r}: lowercase letters, digits, _ and -")
    return request, args
