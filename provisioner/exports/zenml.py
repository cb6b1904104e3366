"""ZenML's ``zenml stack import`` format: our components in ZenML's names, and the secrets script.

Follows ZenML 0.98.0 (see ``ZENML_VERSION``). Service connectors are not part of that format.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from provisioner.exports.format import referenced
from provisioner.registry.models import ComponentType, StackDetail
from provisioner.secrets import SECRET_REFERENCE, parse_reference

if TYPE_CHECKING:
    from provisioner.registry.service import Registry

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
# kubernetes/sagemaker/vertex, alerter slack, image_builder aws/kaniko/gcp/local, annotator
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
        match = SECRET_REFERENCE.fullmatch(value)
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
    wanted = referenced(component.config for component in detail.components.values())
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
