"""Our stack export format (``format: provisioner-stack``, ``version: 1``): the document, dump and load.

It holds everything needed to re-create a stack exactly: the stack (name, labels), each component
(name, type, flavor, config, labels, connector), each connector (name, type, auth method,
configuration, resource types, env, labels) and the secrets the configs reference, as names, keys
and owners only. Secret values never appear: configs keep their ``{{secret:NAME.KEY}}`` references.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from provisioner.errors import InputError
from provisioner.registry.models import ComponentSpec, ConnectorSpec
from provisioner.registry.validation import validate_or_raise
from provisioner.secrets import references_in

if TYPE_CHECKING:
    from provisioner.registry.service import Registry

FORMAT_NAME = "provisioner-stack"
FORMAT_VERSION = 1


class ExportFormat(str, Enum):
    """What ``stack export`` writes."""

    zenml = "zenml"
    yaml = "yaml"
    json = "json"


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


def referenced(configs: Iterable[Mapping[str, Any]]) -> dict[str, set[str]]:
    """Secret name -> keys referenced by ``configs``."""
    found: dict[str, set[str]] = {}
    for config in configs:
        for secret_name, key in references_in(config):
            found.setdefault(secret_name, set()).add(key)
    return found


def export_stack(registry: Registry, name: str) -> StackExport:
    """Our export of stack ``name``, read in one unit of work: configs keep their secret references."""
    if getattr(registry, "remote", False):  # client mode: the server reads it, through its gate
        remote: StackExport = registry.export_stack(name)
        return remote
    with registry.unit() as uow:
        detail = registry.catalog.describe_stack(uow, name)
        known = {secret.name: secret for secret in registry.secrets.list_secrets(uow)}
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
    secrets = [
        ExportedSecret(name=secret_name, keys=sorted(keys), owner=known[secret_name].owner if secret_name in known else None)
        for secret_name, keys in sorted(referenced(configs).items())
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
    """Parse an export written by :func:`dump_export` (YAML or JSON); ``source`` names it in errors.

    Raises:
        InputError: not YAML, not our format, another version, or an invalid document.
    """
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
        raise InputError(f"{source} has format version {data.get('version')!r}; this provisioner reads version {FORMAT_VERSION}")
    return validate_or_raise(StackExport, data, f"invalid stack export {source}")
