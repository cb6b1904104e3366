"""ZenML's ``zenml stack import`` format: our components in ZenML's names, and the secrets script.

Follows ZenML 0.98.0 (see ``ZENML_VERSION``); every component is checked against that release's
flavor config classes, as recorded in ``zenml_flavors.json``. Service connectors are not part of
the import format (``stack push`` creates them).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provisioner.errors import InputError
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

# Our flavor names that ZenML spells differently, by (component type, our flavor name). Every
# built-in flavor of ours has ZenML's name (zenml_flavors.json lists them), so the table is empty.
# Plugin flavors are written under their own name.
ZENML_FLAVORS: dict[tuple[ComponentType, str], str] = {}

# Config fields ZenML names differently, by (component type, flavor): our field -> ZenML's field, where
# a dotted name nests (``client_kwargs.endpoint_url``). Fields left out keep their name.
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

# Our fields that ZenML's flavor has no place for, with the reason (the README's mapping table says the same).
ZENML_DROPPED_FIELDS: dict[tuple[ComponentType, str], dict[str, str]] = {
    (ComponentType.MODEL_REGISTRY, "mlflow"): {
        "tracking_uri": "ZenML's MLflow model registry uses the stack's MLflow experiment tracker's server",
    },
}

FLAVOR_SNAPSHOT = Path(__file__).with_name("zenml_flavors.json")


class ZenMLMappingError(InputError):
    """A component's configuration has no valid form in ZenML's flavor (an unmapped or missing field)."""


@lru_cache(maxsize=1)
def zenml_flavor_schemas() -> dict[str, Any]:
    """ZenML's flavors as `tools/zenml_flavor_snapshot.py` read them from the installed ZenML package:
    ``{"zenml_version", "flavors": {"TYPE/FLAVOR": {"fields": {NAME: {"required", "secret"}}, "connector"}}}``."""
    return dict(json.loads(FLAVOR_SNAPSHOT.read_text()))


def zenml_flavor(component_type: ComponentType, flavor: str) -> dict[str, Any] | None:
    """ZenML's schema for the flavor we export this component as; None for a flavor ZenML doesn't ship."""
    name = ZENML_FLAVORS.get((component_type, flavor), flavor)
    found = zenml_flavor_schemas()["flavors"].get(f"{component_type.value}/{name}")
    return dict(found) if found else None


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
                "configuration": zenml_configuration(component_type, component.flavor, component.config, component.name),
            }
        ]
    return {"stack_name": detail.name, "components": components, "zenml_version": ZENML_VERSION}


def zenml_configuration(
    component_type: ComponentType, flavor: str, config: Mapping[str, Any], component: str = "",
) -> dict[str, Any]:
    """A component config in ZenML's terms: renamed fields, values in ZenML's form, ``{{NAME.KEY}}``
    references, no empty values; checked against ZenML's flavor (ZenMLMappingError otherwise)."""
    renames = ZENML_CONFIG_FIELDS.get((component_type, flavor), {})
    dropped = ZENML_DROPPED_FIELDS.get((component_type, flavor), {})
    result: dict[str, Any] = {}
    for key, value in _zenml_values(component_type, flavor, config).items():
        if value is None or value == "" or key in dropped:
            continue  # our "not set" (ZenML falls back to its own default), or a field ZenML has no place for
        target = result
        *parents, leaf = renames.get(key, key).split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = _zenml_references(value)
    _check_against_zenml(component_type, flavor, result, component)
    return result


def _zenml_values(component_type: ComponentType, flavor: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """Values whose form differs in ZenML (before renaming)."""
    values = dict(config)
    uri = values.get("uri")
    if (component_type, flavor) == (ComponentType.CONTAINER_REGISTRY, "aws") and isinstance(uri, str) and "/" in uri:
        # ZenML wants the ECR registry host; images go to URI/default_repository:TAG, i.e. our repository.
        values["uri"], _, values["default_repository"] = uri.partition("/")
    bucket = values.get("bucket")
    if (component_type, flavor) == (ComponentType.STEP_OPERATOR, "sagemaker") and isinstance(bucket, str):
        values["bucket"] = bucket.removeprefix("s3://").split("/", 1)[0]  # ZenML wants the bucket's name
    return values


def _check_against_zenml(component_type: ComponentType, flavor: str, result: Mapping[str, Any], component: str) -> None:
    schema = zenml_flavor(component_type, flavor)
    if schema is None:
        return  # a plugin flavor ZenML doesn't ship: the user's ZenML has it under the same name, or not at all
    fields = schema["fields"]
    where = f"component {component!r} ({component_type.value} flavor {flavor!r})"
    unknown = sorted(set(result) - set(fields))
    if unknown:
        raise ZenMLMappingError(f"{where}: ZenML {ZENML_VERSION}'s flavor has no field {', '.join(map(repr, unknown))}")
    missing = sorted(name for name, field in fields.items() if field["required"] and name not in result)
    if missing:
        raise ZenMLMappingError(f"{where}: ZenML {ZENML_VERSION}'s flavor requires {', '.join(map(repr, missing))}")


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
    """A shell script that runs ``zenml secret create NAME --values=@FILE`` once per secret.

    The values go through a private temporary file, never the command line (where any user of the
    machine could read them). Keys without a value get ``<value>``, and the script then stops at
    ``exit 1`` until the placeholders are replaced and that line is deleted.
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
    if secrets:
        lines += ["umask 077", 'values=$(mktemp)', "trap 'rm -f \"$values\"' EXIT"]
    for secret_name, values in secrets.items():
        document = json.dumps({key: PLACEHOLDER if value is None else value for key, value in values.items()})
        lines += [
            f"cat > \"$values\" <<'{_HEREDOC_END}'",
            document,  # JSON escapes newlines, so no line of it can end the here-document early
            _HEREDOC_END,
            f'zenml secret create {shlex.quote(secret_name)} --values=@"$values"',
        ]
    return "\n".join(lines) + "\n"


_HEREDOC_END = "ZENML_SECRET_VALUES"
