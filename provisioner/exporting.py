"""Stack export and import: our own versioned format (YAML or JSON) and ZenML's ``zenml stack import`` YAML.

Our format (``format: provisioner-stack``, ``version: 1``) holds everything needed to re-create a
stack exactly: the stack (name, labels), each component (name, type, flavor, config, labels,
connector), each connector (name, type, auth method, configuration, resource types, env, labels)
and the secrets the configs reference, as names, keys and owners only. Secret values never appear:
configs keep their ``{{secret:NAME.KEY}}`` references, so an import needs those secrets to exist.

Import goes through the Registry's public methods, so every validation and permission rule
applies. Separate calls are not one transaction: everything is checked up front, and if a later
call still fails, what this import created is removed again before the error is re-raised.

The ZenML format follows ZenML 0.98.0 (see ``ZENML_VERSION``).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from provisioner.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    OperationFailedError,
    PermissionDeniedError,
)
from provisioner.recipe_api import LABEL_ENV
from provisioner.registry.access import Role
from provisioner.registry.connector_schemas import RESOURCE_TYPES, check_resource_types, config_class_for
from provisioner.registry.models import (
    REQUIRED_STACK_TYPES,
    ComponentSpec,
    ComponentType,
    ConnectorSpec,
    SecretInfo,
    StackDetail,
    StackSpec,
)
from provisioner.registry.service import Registry, owned_secret_name, owner_of
from provisioner.registry.validation import validate_or_raise
from provisioner.secrets import SECRET_REFERENCE, parse_reference, references_in

FORMAT_NAME = "provisioner-stack"
FORMAT_VERSION = 1

# The ZenML release whose `zenml stack export` / `zenml stack import` format this module writes:
# zenml 0.98.0, zenml/cli/stack.py (export_stack, import_stack, _import_stack_components) and
# zenml/models/v2/core/stack.py (StackResponse.to_yaml). `zenml stack import` refuses a file whose
# zenml_version differs from the installed ZenML unless given --ignore-version-mismatch.
ZENML_VERSION = "0.98.0"

# Our flavor names that ZenML spells differently, by (component type, our flavor name).
# Checked against ZenML 0.98.0: every built-in flavor of ours has the same name there -
# orchestrator kubernetes/local/sagemaker/vertex, deployer kubernetes/local, artifact_store
# s3/gcp/local, container_registry aws/gcp/default, data_validator evidently/great_expectations,
# experiment_tracker mlflow/wandb, model_deployer mlflow/seldon, step_operator
# kubernetes/sagemaker/vertex, alerter slack, image_builder kaniko/gcp/local, annotator
# label_studio, model_registry mlflow, feature_store feast - so the table is empty. Plugin
# flavors are written under their own name.
ZENML_FLAVORS: dict[tuple[ComponentType, str], str] = {}

# Config fields ZenML 0.98.0 names differently, by (component type, flavor): our field -> ZenML's
# field, where a dotted name nests (``client_kwargs.endpoint_url``). Fields left out keep their name
# (the MLflow tracker and model registry, for one, already use ZenML's names). ZenML ignores
# config fields it does not know, so nothing here can make an import fail.
ZENML_CONFIG_FIELDS: dict[tuple[ComponentType, str], dict[str, str]] = {
    (ComponentType.ARTIFACT_STORE, "s3"): {
        "aws_access_key_id": "key",
        "aws_secret_access_key": "secret",
        "endpoint_url": "client_kwargs.endpoint_url",
    },
    (ComponentType.ORCHESTRATOR, "kubernetes"): {"namespace": "kubernetes_namespace"},
    (ComponentType.STEP_OPERATOR, "kubernetes"): {"namespace": "kubernetes_namespace"},
    (ComponentType.IMAGE_BUILDER, "kaniko"): {"namespace": "kubernetes_namespace"},
    (ComponentType.MODEL_DEPLOYER, "seldon"): {"namespace": "kubernetes_namespace"},
}

PLACEHOLDER = "<value>"


class ExportFormat(str, Enum):
    """What ``stack export`` writes."""

    zenml = "zenml"
    yaml = "yaml"
    json = "json"


# ----- our format ---------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExportedStack(_Model):
    """The stack itself: its components are the ``components`` of the document."""

    name: str
    labels: dict[str, str] = Field(default_factory=dict)


class ExportedSecret(_Model):
    """A secret the exported configs reference: name, referenced keys and owner, never values."""

    name: str
    keys: list[str]
    owner: str | None = None


class StackExport(_Model):
    """A stack with its components, connectors and the secrets they reference."""

    format: Literal["provisioner-stack"] = FORMAT_NAME
    version: Literal[1] = FORMAT_VERSION
    stack: ExportedStack
    components: list[ComponentSpec]
    connectors: list[ConnectorSpec] = Field(default_factory=list)
    secrets: list[ExportedSecret] = Field(default_factory=list)


def export_stack(registry: Registry, name: str) -> StackExport:
    """Our export of stack ``name``: configs keep their secret references."""
    detail = registry.describe_stack(name)
    components: list[ComponentSpec] = []
    connectors: dict[str, ConnectorSpec] = {}
    for component_type, component in detail.components.items():
        connector = component.connector
        components.append(
            ComponentSpec(
                name=component.name,
                type=component_type,
                flavor=component.flavor,
                config=component.config,
                labels=component.labels,
                connector=connector.name if connector else None,
            )
        )
        if connector is not None:
            connectors[connector.name] = ConnectorSpec.model_validate(
                connector.model_dump(include=set(ConnectorSpec.model_fields))
            )
    ordered_connectors = [connectors[key] for key in sorted(connectors)]
    configs = [c.config for c in components] + [c.configuration for c in ordered_connectors]
    known = {secret.name: secret for secret in registry.list_secrets()}
    secrets = [
        ExportedSecret(
            name=secret_name, keys=sorted(keys), owner=known[secret_name].owner if secret_name in known else None
        )
        for secret_name, keys in sorted(_referenced(configs).items())
    ]
    return StackExport(
        stack=ExportedStack(name=detail.name, labels=detail.labels),
        components=components,
        connectors=ordered_connectors,
        secrets=secrets,
    )


def dump_export(document: StackExport, output: ExportFormat) -> str:
    """``document`` as JSON or YAML text."""
    data = document.model_dump(mode="json")
    if output is ExportFormat.json:
        return json.dumps(data, indent=2) + "\n"
    import yaml

    return str(yaml.safe_dump(data, sort_keys=False, default_flow_style=False))


def load_export(text: str, source: str) -> StackExport:
    """Parse an export written by :func:`dump_export` (YAML or JSON); ``source`` names it in errors."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{source} is not valid YAML or JSON: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise InputError(f"{source} is not a stack export (expected a mapping at the top)")
    if data.get("format") != FORMAT_NAME:
        if "zenml_version" in data and "stack_name" in data:
            raise InputError(f"{source} is a ZenML export: `zenml stack import` reads it, not provisioner")
        raise InputError(f"{source} is not a provisioner stack export (format: {FORMAT_NAME} is missing)")
    if data.get("version") != FORMAT_VERSION:
        raise InputError(
            f"{source} has format version {data.get('version')!r}; this provisioner reads version {FORMAT_VERSION}"
        )
    return validate_or_raise(StackExport, data, f"invalid stack export {source}")


def _referenced(configs: Iterable[Mapping[str, Any]]) -> dict[str, set[str]]:
    """Secret name -> keys referenced by ``configs``."""
    found: dict[str, set[str]] = {}
    for config in configs:
        for secret_name, key in references_in(config):
            found.setdefault(secret_name, set()).add(key)
    return found


# ----- ZenML's format -----------------------------------------------------------------------


def zenml_export(registry: Registry, name: str) -> dict[str, Any]:
    """The data ``zenml stack import`` reads: stack_name, zenml_version, components by type."""
    detail = registry.describe_stack(name)
    components: dict[str, list[dict[str, Any]]] = {}
    for component_type, component in detail.components.items():
        components[component_type.value] = [
            {
                "name": component.name,
                "type": component_type.value,
                "flavor": ZENML_FLAVORS.get((component_type, component.flavor), component.flavor),
                "configuration": zenml_configuration(component_type, component.flavor, component.config),
            }
        ]
    return {"stack_name": detail.name, "components": components, "zenml_version": ZENML_VERSION}


def zenml_configuration(component_type: ComponentType, flavor: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """A component config in ZenML's terms: renamed fields, ``{{NAME.KEY}}`` references, no empty values."""
    renames = ZENML_CONFIG_FIELDS.get((component_type, flavor), {})
    result: dict[str, Any] = {}
    for key, value in config.items():
        if value is None or value == "":
            continue  # our "not set"; ZenML falls back to its own default
        target = result
        *parents, leaf = renames.get(key, key).split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = _zenml_references(value)
    return result


def _zenml_references(value: Any) -> Any:
    """Rewrite ``{{secret:NAME.KEY}}`` as ZenML's ``{{NAME.KEY}}``, inside lists and mappings too."""
    if isinstance(value, str):
        match = SECRET_REFERENCE.match(value)
        return f"{{{{{match.group(1)}.{match.group(2)}}}}}" if match else value
    if isinstance(value, list):
        return [_zenml_references(item) for item in value]
    if isinstance(value, dict):
        return {key: _zenml_references(item) for key, item in value.items()}
    return value


def dump_zenml(data: Mapping[str, Any]) -> str:
    """ZenML export YAML, keys sorted as ``zenml stack export`` writes them, after a comment header."""
    import yaml

    header = (
        f"# Stack {data['stack_name']!r} for `zenml stack import` (ZenML {ZENML_VERSION} format), written by\n"
        "# `provisioner stack export --format zenml`. Service connectors are not part of this format:\n"
        "# link components to ZenML service connectors after the import. Create the referenced secrets\n"
        "# first (see the secrets script); ZenML resolves {{NAME.KEY}} against its own secret store.\n"
    )
    return header + str(yaml.safe_dump(dict(data), sort_keys=True, default_flow_style=False))


def zenml_secrets(registry: Registry, name: str, *, show_values: bool) -> dict[str, dict[str, str | None]]:
    """Secret name -> key -> value (None unless ``show_values``) that the ZenML export references.

    Values come from ``describe_stack(show_secrets=True)``, which checks the user's access to the
    stack and records the read in the audit log.
    """
    detail = registry.describe_stack(name)
    wanted = _referenced(component.config for component in detail.components.values())
    result: dict[str, dict[str, str | None]] = {
        secret_name: {key: None for key in sorted(keys)} for secret_name, keys in sorted(wanted.items())
    }
    if show_values:
        resolved = registry.describe_stack(name, show_secrets=True)
        _pair_values(detail, resolved, result)
    return result


def _pair_values(detail: StackDetail, resolved: StackDetail, result: dict[str, dict[str, str | None]]) -> None:
    """Fill ``result`` with the value each top-level reference of ``detail`` resolved to."""
    for component_type, component in detail.components.items():
        plain = resolved.components[component_type].config
        for field_name, value in component.config.items():
            ref = parse_reference(value)
            if ref is not None:
                result[ref[0]][ref[1]] = str(plain[field_name])


def secrets_script(stack_name: str, secrets: Mapping[str, Mapping[str, str | None]]) -> str:
    """A shell script of ``zenml secret create NAME --KEY=VALUE ...``, one command per secret.

    Keys without a value get ``--KEY=<value>``, and the script then stops at ``exit 1`` until the
    placeholders are replaced and that line is deleted.
    """
    placeholders = any(value is None for values in secrets.values() for value in values.values())
    lines = [
        "#!/bin/sh",
        f"# Secrets that the ZenML export of stack {stack_name!r} references, for ZenML's secret store.",
        "# Run this before `zenml stack import`.",
    ]
    if placeholders:
        lines += [
            f"# Secret values are not exported: every {PLACEHOLDER} is a placeholder. Replace each one with the",
            "# real value (provisioner stack export --format zenml --show-secrets fills them in),",
            "# then delete the `exit 1` line below.",
        ]
    elif secrets:
        lines.append("# This file holds secret values: keep it private and delete it once the secrets exist.")
    if not secrets:
        lines.append("# The export references no secrets: there is nothing to create.")
    lines.append("set -eu")
    if placeholders:
        lines.append("exit 1  # delete this line once every placeholder is replaced")
    for secret_name, values in secrets.items():
        arguments = [shlex.quote(f"--{key}={PLACEHOLDER if value is None else value}") for key, value in values.items()]
        lines.append(" ".join(["zenml", "secret", "create", shlex.quote(secret_name), *arguments]))
    return "\n".join(lines) + "\n"


# ----- import -------------------------------------------------------------------------------


@dataclass
class _Adoption:
    """An owned secret the user re-created by hand, to be owned by its component or connector again."""

    secret: str
    fields: list[str]
    values: dict[str, str]
    labels: dict[str, str]


@dataclass
class ImportResult:
    """What an import registered, and remarks for the user."""

    stack: str
    connectors: list[str] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Plan:
    stack: StackSpec
    connectors: list[ConnectorSpec]
    components: list[ComponentSpec]
    adoptions: dict[tuple[str, str], _Adoption]
    notes: list[str]


class _Problems:
    """Problems found while checking an import, reported together in one line."""

    def __init__(self) -> None:
        self.items: list[tuple[type[InputError], str]] = []

    def add(self, kind: type[InputError], message: str) -> None:
        self.items.append((kind, message))

    def check(self, run: Callable[[], Any]) -> Any:
        """Run ``run``; an InputError it raises becomes a problem (and None is returned)."""
        try:
            return run()
        except InputError as exc:
            self.add(type(exc), str(exc))
            return None

    def raise_if_any(self, stack_name: str) -> None:
        if not self.items:
            return
        kinds = {kind for kind, _ in self.items}
        kind = kinds.pop() if len(kinds) == 1 else InputError
        raise kind(f"cannot import stack {stack_name!r}, nothing was written: " + "; ".join(m for _, m in self.items))


def import_stack(registry: Registry, document: StackExport, *, name: str | None = None) -> ImportResult:
    """Re-create the exported connectors, components and stack (renamed to ``name`` if given).

    All or nothing: names, secrets, flavors, configs, links and environments are checked before
    anything is written; if a registration still fails, what this import created is deleted.
    """
    stack_name = name or document.stack.name
    with registry.audited("stack.import", stack_name):
        plan = _check(registry, document, stack_name)
        return _apply(registry, plan)


def _check(registry: Registry, document: StackExport, stack_name: str) -> _Plan:
    problems = _Problems()
    is_admin = registry.role() is Role.ADMIN
    if document.connectors and not is_admin:
        problems.add(
            PermissionDeniedError,
            f"importing connectors needs the admin role; {registry.user!r} is a member (ask an admin)",
        )
    _check_names(registry, document, stack_name, problems)
    secrets = {secret.name: secret for secret in registry.list_secrets()}
    _check_secrets(document, secrets, problems)
    existing_connectors = {c.name: c for c in registry.list_connectors()}
    connectors = {c.name: c for c in document.connectors}
    for connector in document.connectors:
        _check_connector(connector, problems)
    for component in document.components:
        _check_component(registry, component, connectors, existing_connectors, problems)
    stack = _check_stack(document, stack_name, connectors, existing_connectors, problems)
    problems.raise_if_any(stack_name)
    assert stack is not None
    notes: list[str] = []
    adoptions = _plan_adoptions(registry, document, secrets, is_admin, notes)
    return _Plan(stack, list(document.connectors), list(document.components), adoptions, notes)


def _check_names(registry: Registry, document: StackExport, stack_name: str, problems: _Problems) -> None:
    if stack_name in {s.name for s in registry.list_stacks()}:
        problems.add(ConflictError, f"stack {stack_name!r} already exists")
    for kind, wanted, taken in (
        ("connector", [c.name for c in document.connectors], {c.name for c in registry.list_connectors()}),
        ("component", [c.name for c in document.components], {c.name for c in registry.list_components()}),
    ):
        seen: set[str] = set()
        for object_name in wanted:
            if object_name in taken:
                problems.add(ConflictError, f"{kind} {object_name!r} already exists")
            if object_name in seen:
                problems.add(InputError, f"the export lists {kind} {object_name!r} twice")
            seen.add(object_name)


def _check_secrets(document: StackExport, secrets: Mapping[str, SecretInfo], problems: _Problems) -> None:
    """Every referenced secret and key must exist: in the configs and in the export's secret list."""
    users: dict[tuple[str, str], list[str]] = {}
    for component in document.components:
        for ref in sorted(references_in(component.config)):
            users.setdefault(ref, []).append(f"component {component.name!r}")
    for connector in document.connectors:
        for ref in sorted(references_in(connector.configuration)):
            users.setdefault(ref, []).append(f"connector {connector.name!r}")
    for listed in document.secrets:
        for key in listed.keys:
            users.setdefault((listed.name, key), [])
    missing: dict[str, tuple[list[str], list[str]]] = {}
    for (secret_name, key), referrers in sorted(users.items()):
        found = secrets.get(secret_name)
        if found is None:
            keys, by = missing.setdefault(secret_name, ([], []))
            keys.append(key)
            by.extend(r for r in referrers if r not in by)
        elif key not in found.keys:
            problems.add(NotFoundError, f"secret {secret_name!r} has no key {key!r}{_referenced_by(referrers)}")
    for secret_name, (keys, referrers) in missing.items():
        problems.add(
            NotFoundError,
            f"secret {secret_name!r} does not exist{_referenced_by(referrers)}: "
            f"create it first (provisioner secret set {secret_name} {' '.join(k + '=...' for k in keys)})",
        )


def _referenced_by(referrers: list[str]) -> str:
    return f" (referenced by {', '.join(referrers)})" if referrers else ""


def _check_connector(connector: ConnectorSpec, problems: _Problems) -> None:
    schema = problems.check(lambda: config_class_for(connector.type, connector.auth_method))
    if schema is None:
        return
    problems.check(lambda: check_resource_types(connector.type, connector.resource_types))
    context = (
        f"connector {connector.name!r}: invalid configuration for {connector.type.value} connector "
        f"({connector.auth_method})"
    )
    problems.check(lambda: validate_or_raise(schema, connector.configuration, context))


def _check_component(
    registry: Registry,
    component: ComponentSpec,
    connectors: Mapping[str, ConnectorSpec],
    existing: Mapping[str, ConnectorSpec],
    problems: _Problems,
) -> None:
    flavor = problems.check(lambda: registry.flavors.get(component.type, component.flavor))
    if flavor is None:
        return
    context = f"component {component.name!r}: invalid config for flavor {flavor.name!r} ({flavor.type.value})"
    problems.check(lambda: validate_or_raise(flavor.config_class, component.config, context))
    if component.connector is None:
        return
    connector = connectors.get(component.connector) or existing.get(component.connector)
    if connector is None:
        problems.add(
            NotFoundError, f"component {component.name!r} links connector {component.connector!r}, which does not exist"
        )
        return
    needed = flavor.connector_resource_type
    offered = connector.resource_types or list(RESOURCE_TYPES[connector.type])
    if needed is None:
        problems.add(
            InputError,
            f"component {component.name!r}: flavor {flavor.name!r} ({flavor.type.value}) cannot use a service connector",
        )
    elif needed not in offered:
        problems.add(
            InputError, f"component {component.name!r}: connector {connector.name!r} does not offer {needed.value!r}"
        )


def _check_stack(
    document: StackExport,
    stack_name: str,
    connectors: Mapping[str, ConnectorSpec],
    existing: Mapping[str, ConnectorSpec],
    problems: _Problems,
) -> StackSpec | None:
    by_type: dict[ComponentType, str] = {}
    for component in document.components:
        if component.type in by_type:
            problems.add(
                InputError,
                f"a stack holds one {component.type.value}, the export has two: "
                f"{by_type[component.type]!r} and {component.name!r}",
            )
        by_type.setdefault(component.type, component.name)
    missing = [t.value for t in REQUIRED_STACK_TYPES if t not in by_type]
    if missing:
        problems.add(InputError, f"stack {stack_name!r} needs a component of type {' and '.join(missing)}")
    owners: list[tuple[str, str]] = []
    if document.stack.labels.get(LABEL_ENV):
        owners.append((f"stack {stack_name!r}", document.stack.labels[LABEL_ENV]))
    for component in document.components:
        if component.labels.get(LABEL_ENV):
            owners.append((f"component {component.name!r}", component.labels[LABEL_ENV]))
        connector = connectors.get(component.connector) or existing.get(component.connector) if component.connector else None
        if connector is not None and connector.env:
            owners.append((f"connector {connector.name!r}", connector.env))
    other = next((owner for owner in owners if owner[1] != owners[0][1]), None) if owners else None
    if other is not None:
        problems.add(
            InputError,
            f"stack {stack_name!r} mixes environments: {owners[0][0]} is {owners[0][1]} but {other[0]} is {other[1]}",
        )
    data = {"name": stack_name, "components": by_type, "labels": document.stack.labels}
    return problems.check(lambda: validate_or_raise(StackSpec, data, "invalid stack"))


def _plan_adoptions(
    registry: Registry,
    document: StackExport,
    secrets: Mapping[str, SecretInfo],
    is_admin: bool,
    notes: list[str],
) -> dict[tuple[str, str], _Adoption]:
    """Owned secrets (``component-NAME``/``connector-NAME``) that now exist unowned, to be owned again.

    Deleting a component or connector deletes the secret it owns, so after a delete the user
    re-creates it by hand. An admin's import then moves its values back under the imported
    object's ownership (as in the export), so that updating or deleting the object works as before.
    """
    listed = {secret.name: secret for secret in document.secrets}
    objects: list[tuple[str, str, dict[str, Any], set[str]]] = []
    for component in document.components:
        schema = registry.flavors.get(component.type, component.flavor).config_class
        objects.append(("component", component.name, component.config, schema.secret_fields()))
    for connector in document.connectors:
        schema = config_class_for(connector.type, connector.auth_method)
        objects.append(("connector", connector.name, connector.configuration, schema.secret_fields()))
    used_elsewhere = _secrets_used_by_registered(registry)
    adoptions: dict[tuple[str, str], _Adoption] = {}
    for kind, object_name, config, secret_fields in objects:
        secret_name = owned_secret_name(kind, object_name)
        exported = listed.get(secret_name)
        current = secrets.get(secret_name)
        was_owned = exported is not None and exported.owner == owner_of(kind, object_name)
        if not was_owned or current is None or current.owner is not None:
            continue
        fields = sorted(f for f, v in config.items() if f in secret_fields and parse_reference(v) == (secret_name, f))
        keep = f"secret {secret_name!r} stays a plain secret (in the export {kind} {object_name!r} owned it)"
        if not is_admin:
            notes.append(f"{keep}: giving it back to the {kind} needs the admin role")
        elif secret_name in used_elsewhere:
            notes.append(f"{keep}: {', '.join(used_elsewhere[secret_name])} also use(s) it")
        elif not fields or set(current.keys) != set(fields):
            notes.append(f"{keep}: its keys ({', '.join(current.keys)}) differ from the {kind}'s secret fields")
        else:
            values = registry.describe_secret(secret_name, show_values=True).values
            adoptions[(kind, object_name)] = _Adoption(secret_name, fields, dict(values), dict(current.labels))
    return adoptions


def _secrets_used_by_registered(registry: Registry) -> dict[str, list[str]]:
    used: dict[str, list[str]] = {}
    for component in registry.list_components():
        for secret_name, _ in references_in(component.config):
            used.setdefault(secret_name, []).append(f"component {component.name!r}")
    for connector in registry.list_connectors():
        for secret_name, _ in references_in(connector.configuration):
            used.setdefault(secret_name, []).append(f"connector {connector.name!r}")
    return used


def _apply(registry: Registry, plan: _Plan) -> ImportResult:
    """Register everything in ``plan``; on any failure undo what was done, newest first, and re-raise."""
    undo: list[tuple[str, Callable[[], Any]]] = []
    result = ImportResult(stack=plan.stack.name, notes=list(plan.notes))
    try:
        for connector in plan.connectors:
            spec = _adopting(registry, "connector", connector.name, connector, "configuration", plan, undo, result)
            registry.register_connector(spec)
            undo.append((f"delete connector {connector.name!r}", lambda n=connector.name: registry.delete_connector(n)))
            result.connectors.append(connector.name)
        for component in plan.components:
            component_spec = _adopting(registry, "component", component.name, component, "config", plan, undo, result)
            registry.register_component(component_spec)
            undo.append((f"delete component {component.name!r}", lambda n=component.name: registry.delete_component(n)))
            result.components.append(component.name)
        registry.register_stack(plan.stack.name, list(plan.stack.components.values()), labels=plan.stack.labels)
    except BaseException as exc:
        failed = _undo(undo)
        if failed:
            raise OperationFailedError(
                f"{exc}; undoing the partial import failed, left behind: {'; '.join(failed)}"
            ) from exc
        raise
    return result


def _adopting(
    registry: Registry,
    kind: str,
    object_name: str,
    spec: Any,
    config_field: str,
    plan: _Plan,
    undo: list[tuple[str, Callable[[], Any]]],
    result: ImportResult,
) -> Any:
    """``spec`` with the values of its re-created owned secret put back in, after deleting that secret."""
    adoption = plan.adoptions.get((kind, object_name))
    if adoption is None:
        return spec
    registry.delete_secret(adoption.secret)
    undo.append(
        (
            f"re-create secret {adoption.secret!r}",
            lambda: registry.set_secret(adoption.secret, adoption.values, labels=adoption.labels),
        )
    )
    config = dict(getattr(spec, config_field))
    config.update({name: adoption.values[name] for name in adoption.fields})
    result.notes.append(f"secret {adoption.secret!r} is owned by {kind} {object_name!r} again, as in the export")
    return spec.model_copy(update={config_field: config})


def _undo(undo: list[tuple[str, Callable[[], Any]]]) -> list[str]:
    """Run the undo steps newest first; return the ones that failed, with their errors."""
    failed: list[str] = []
    for what, step in reversed(undo):
        try:
            step()
        except Exception as exc:  # keep undoing: report every step that could not be undone
            failed.append(f"{what}: {exc}")
    return failed
