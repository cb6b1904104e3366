"""What a recipe provides to provisioner, and the plain data its output mapping returns.

Recipes import only this module (and Pulumi): never the CLI or the registry store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator

from provisioner.retention import RetentionPolicy
from provisioner.secrets import marked_secret

STANDARD_ENVS: tuple[str, ...] = ("dev", "staging", "prod")
# Labels every registry object created by deploy-stack carries; destroy-stack unregisters by them.
LABEL_STACK = "stack"
LABEL_ENV = "env"
LABEL_RECIPE = "recipe"
LABEL_MANAGED_BY = "managed-by"
MANAGED_BY = "deploy-stack"
# The registry label holding the deployment id (stack labels).
LABEL_DEPLOYMENT = "deployment"

# Cloud tags of ownership. A tag is a hint, never proof: teardown deletes a resource only when
# our own state lists it, or when it carries this deployment's id and the tags were read by us.
TAG_STACK = "provisioner:stack"
TAG_ENV = "provisioner:env"
TAG_RECIPE = "provisioner:recipe"
TAG_DEPLOYMENT = "provisioner:deployment"
TAG_URN = "provisioner:urn"
# AWS tag values hold 256 characters; a longer URN is tagged by its hash.
AWS_TAG_VALUE_LIMIT = 256


class RecipeArgs(BaseModel):
    """Base of every recipe's args model: unknown keys are errors, values are validated on change.

    Mark a secret field with ``Field(json_schema_extra={"secret": True})``: the Pulumi engine
    writes it as secret stack config.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)
    # Keys of an earlier release and where they live now: using one is an error naming the new key.
    renamed_keys: ClassVar[Mapping[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _refuse_renamed(cls, data: Any) -> Any:
        renamed = [key for key in data if key in cls.renamed_keys] if isinstance(data, Mapping) else []
        if renamed:
            raise ValueError(f"{renamed[0]!r} is now {cls.renamed_keys[renamed[0]]!r} (renamed in provisioner 0.3)")
        return data

    @classmethod
    def secret_fields(cls) -> set[str]:
        """Top-level fields that are marked secret or hold a nested model with a secret field."""
        found = set()
        for name, info in cls.model_fields.items():
            if marked_secret(info):
                found.add(name)
            elif isinstance(info.annotation, type) and issubclass(info.annotation, RecipeArgs):
                if info.annotation.secret_fields():
                    found.add(name)
        return found


class RecipeOutputs(BaseModel):
    """Base of every recipe's Outputs model: exactly the keys its program exports (extra keys are errors).

    Mark a secret output with ``Field(json_schema_extra={"secret": True})``; the program must
    export it as a secret (the conformance suite checks both ways).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    def __getitem__(self, key: str) -> Any:
        """Read an output by its exported name too, for mappings written against plain dicts."""
        if key not in type(self).model_fields:
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key) if key in type(self).model_fields else default

    @classmethod
    def missing(cls, outputs: Mapping[str, Any]) -> list[str]:
        """The required outputs ``outputs`` lacks."""
        return sorted(name for name, info in cls.model_fields.items() if info.is_required() and name not in outputs)

    @classmethod
    def read(cls, outputs: Mapping[str, Any]) -> RecipeOutputs:
        """The model of a stack's outputs; keys it does not know are left out (an embedding project may export more).

        Raises ValueError naming what is missing or invalid.
        """
        from pydantic import ValidationError

        missing = cls.missing(outputs)
        if missing:
            raise ValueError(f"lack {', '.join(missing)}")
        try:
            return cls.model_validate({key: value for key, value in outputs.items() if key in cls.model_fields})
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors())
            raise ValueError(f"have invalid values ({problems})") from None

    @classmethod
    def secret_fields(cls) -> set[str]:
        return {
            name for name, info in cls.model_fields.items()
            if marked_secret(info)
        }


def secret_output() -> Any:
    """A required field for a secret output."""
    from pydantic import Field

    return Field(json_schema_extra={"secret": True})


@dataclass(frozen=True)
class RecipeContext:
    """Facts about one deployment that a recipe's program and output mapping may use."""

    recipe: str
    env: str
    stack_name: str
    region: str | None = None
    simulated: bool = False
    # The deployment's unique id (26 lowercase letters and digits), set by the engine on first deploy.
    deployment_id: str | None = None
    # The recipe's ``pinned_outputs`` from the stack's last deploy (e.g. a version resolved then).
    previous_outputs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def tags(self) -> dict[str, str]:
        """Tags every cloud resource of the deployment carries."""
        tags = {TAG_STACK: self.stack_name, TAG_ENV: self.env, TAG_RECIPE: self.recipe}
        if self.deployment_id:
            tags[TAG_DEPLOYMENT] = self.deployment_id
        return tags


def urn_hash(urn: str) -> str:
    """A short, label-safe stand-in for a URN (GCP and Kubernetes label values hold 63 characters)."""
    return hashlib.sha256(urn.encode()).hexdigest()[:20]


def urn_tag_value(urn: str) -> str:
    """The value of the ``provisioner:urn`` AWS tag: the URN itself, or its hash when it is too long."""
    return urn if len(urn) <= AWS_TAG_VALUE_LIMIT else urn_hash(urn)


def ownership_transformation(project: str, stack: str) -> Callable[[Any], Any]:
    """A Pulumi transformation that tags each resource with its own URN, next to its other tags.

    AWS resources get ``provisioner:urn`` in ``tags``; GCP resources get ``provisioner-urn`` (a hash)
    in ``labels``/``resource_labels``. Resources that take no tags are left alone. The URN is
    rebuilt from the parent chain as Pulumi does (``parent$child`` types, the root stack omitted).
    """
    import pulumi

    qualified: dict[int, str] = {}

    def transform(args: Any) -> Any:
        parent = args.opts.parent if args.opts is not None else None
        parent_type = qualified.get(id(parent)) if parent is not None else None
        full_type = f"{parent_type}${args.type_}" if parent_type else args.type_
        qualified[id(args.resource)] = full_type
        urn = f"urn:pulumi:{stack}::{project}::{full_type}::{args.name}"
        props = dict(args.props)
        changed = False
        if args.type_.startswith("aws:") and isinstance(props.get("tags"), dict):
            props["tags"] = {**props["tags"], TAG_URN: urn_tag_value(urn)}
            changed = True
        if args.type_.startswith("gcp:"):
            for key in ("labels", "resource_labels"):
                if isinstance(props.get(key), dict):
                    props[key] = {**props[key], "provisioner-urn": urn_hash(urn)}
                    changed = True
        return pulumi.ResourceTransformationResult(props, args.opts) if changed else None

    return transform


def run_program(recipe: Recipe, args: RecipeArgs, context: RecipeContext, project: str, stack: str) -> None:
    """Run a recipe's program with every resource tagged with its URN (both engines call this)."""
    import pulumi

    pulumi.runtime.register_stack_transformation(ownership_transformation(project, stack))
    recipe.program(args, context)


@dataclass
class ConnectorEntry:
    """A service connector to register: plain data, validated by the registry."""

    name: str
    type: str
    auth_method: str
    configuration: dict[str, Any]
    resource_types: list[str] = field(default_factory=list)


@dataclass
class ComponentEntry:
    """A stack component to register; secret fields may hold plain values (they are moved to the secret store)."""

    name: str
    type: str
    flavor: str
    config: dict[str, Any]
    connector: str | None = None


@dataclass
class RegistrationPlan:
    """Everything a deployment registers: connectors, components, and the stack grouping them."""

    components: list[ComponentEntry]
    connectors: list[ConnectorEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ProviderPlugin:
    """A Pulumi provider plugin the recipe needs; its version is the installed SDK package's."""

    name: str
    distribution: str


class Recipe:
    """Base class of a recipe. Subclasses set the class attributes and implement two methods."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    args_model: ClassVar[type[RecipeArgs]]
    # The stack outputs the program exports; `register --from-stack` recognises a recipe by it.
    outputs_model: ClassVar[type[RecipeOutputs] | None] = None
    # Outputs a redeploy hands back to the program (``RecipeContext.previous_outputs``): a version
    # resolved on the first deploy is reused, so a redeploy never upgrades anything silently.
    pinned_outputs: ClassVar[tuple[str, ...]] = ()
    presets: ClassVar[Mapping[str, Mapping[str, Any]]]
    default_region: ClassVar[str | None] = None
    plugins: ClassVar[Sequence[ProviderPlugin]] = ()
    # Pulumi config keys the program's providers read, derived from the request (e.g. aws:region).
    provider_config_keys: ClassVar[Mapping[str, str]] = {}
    # The cloud the recipe deploys to ("aws", "gcp"); None: derived from its provider plugins (cloud_of).
    cloud: ClassVar[str | None] = None
    # Namespaces whose LoadBalancer services and volume claims are deleted before destroy.
    managed_namespaces: ClassVar[tuple[str, ...]] = ()
    # What a destroy keeps when data is retained (prod by default); None: nothing is data.
    retention: ClassVar[RetentionPolicy | None] = None
    # Regions the recipe knows; an empty tuple means any (or none, for cluster-only recipes).
    regions: ClassVar[tuple[str, ...]] = ()
    # The args field that deploy-stack's --context flag sets (a kubeconfig context), if any.
    context_field: ClassVar[str | None] = None

    def check(self, args: RecipeArgs, *, simulated: bool = False, region: str | None = None) -> None:
        """Deploy-time checks beyond the args model (raise InputError); destroy does not need them."""
        return

    def program(self, args: RecipeArgs, context: RecipeContext) -> None:
        """The Pulumi program: create the resources and ``pulumi.export`` the outputs."""
        raise NotImplementedError

    def read_outputs(self, outputs: Mapping[str, Any]) -> Any:
        """The stack's outputs as this recipe's Outputs model (a plain dict for a recipe without one).

        Raises ValueError naming the outputs that are missing or invalid.
        """
        if self.outputs_model is None:
            return dict(outputs)
        return self.outputs_model.read(outputs)

    def registration(self, outputs: Any, context: RecipeContext) -> RegistrationPlan:
        """Turn the stack's outputs (``read_outputs``: the Outputs model) into components and connectors."""
        raise NotImplementedError

    def plan_notes(self, resources: Sequence[Any]) -> list[str]:
        """Lines a plan adds about what it would make (``resources``: the engine's records, with inputs)."""
        return []

    def summary(self, outputs: Any, context: RecipeContext) -> list[str]:
        """Lines telling the user how to use what was deployed (no secret values)."""
        return []


KNOWN_CLOUDS = ("aws", "gcp")


def cloud_of(recipe: Recipe | type[Recipe]) -> str | None:
    """The one place that decides a recipe's cloud: its ``cloud``, else the cloud provider plugin it needs."""
    if recipe.cloud:
        return recipe.cloud
    return next((plugin.name for plugin in recipe.plugins if plugin.name in KNOWN_CLOUDS), None)
