"""Connector types as the registry sees them: each auth method's config model and the resource types offered.

Every connector type, built-in or not, is found through the ``provisioner.connectors`` entry-point
group (provisioner's own pyproject.toml declares aws, gcp and kubernetes there, as it does its
recipes). The classes live in ``provisioner.connectors``, which also knows how to *use* a connector;
the registry validates connectors with them but loads them only by entry point, so it never imports
that package (no import cycle).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import ClassVar

from provisioner.errors import InputError
from provisioner.registry.flavors.base import FlavorConfig
from provisioner.registry.models import ResourceType

ENTRY_POINT_GROUP = "provisioner.connectors"
BUILTIN_DISTRIBUTION = "provisioner"
# Stored in connectors.type, a String(32) column.
TYPE_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


class ConnectorSchema:
    """What the registry checks of a connector type: its auth methods' config models and its resource types.

    Connector types subclass ``provisioner.connectors.ConnectorTypeSpec``, which adds verify,
    list_resources and credentials to this.
    """

    name: ClassVar[str]
    auth_methods: ClassVar[Mapping[str, type[FlavorConfig]]]
    resource_types: ClassVar[tuple[ResourceType, ...]]

    def config_class(self, auth_method: str) -> type[FlavorConfig]:
        """The schema of a connector's configuration, or an InputError naming the allowed methods."""
        if auth_method not in self.auth_methods:
            allowed = ", ".join(self.auth_methods)
            raise InputError(f"unknown auth method {auth_method!r} for {self.name} connectors (allowed: {allowed})")
        return self.auth_methods[auth_method]

    def check_resource_types(self, resource_types: Iterable[ResourceType]) -> None:
        """Raise InputError if a resource type is not one this connector type offers."""
        for resource_type in resource_types:
            if resource_type not in self.resource_types:
                names = ", ".join(r.value for r in self.resource_types)
                raise InputError(
                    f"resource type {resource_type.value!r} is not offered by {self.name} connectors (allowed: {names})"
                )


def validate_connector_class(candidate: object, origin: str, name: str) -> type[ConnectorSchema]:
    """Return ``candidate`` if it is a complete connector type class named ``name``, else raise ``TypeError`` naming it."""
    if not (isinstance(candidate, type) and issubclass(candidate, ConnectorSchema)):
        raise TypeError(f"{origin}: {candidate!r} is not a subclass of provisioner ConnectorTypeSpec")
    for attribute in ("name", "auth_methods", "resource_types"):
        if not hasattr(candidate, attribute):
            raise TypeError(f"{origin}: connector type class {candidate.__qualname__} does not set {attribute!r}")
    if candidate.name != name:
        raise TypeError(f"{origin}: connector type class {candidate.__qualname__} is named {candidate.name!r}, not {name!r}")
    if not TYPE_NAME_PATTERN.fullmatch(name):
        raise TypeError(f"{origin}: connector type name {name!r} is not 1-32 lowercase letters, digits, '_' or '-'")
    if not candidate.auth_methods or not all(
        isinstance(schema, type) and issubclass(schema, FlavorConfig) for schema in candidate.auth_methods.values()
    ):
        raise TypeError(f"{origin}: {candidate.__qualname__}.auth_methods must map names to FlavorConfig subclasses")
    if not candidate.resource_types or not all(isinstance(r, ResourceType) for r in candidate.resource_types):
        raise TypeError(f"{origin}: {candidate.__qualname__}.resource_types must be ResourceType values")
    missing = sorted(getattr(candidate, "__abstractmethods__", ()))
    if missing:
        raise TypeError(f"{origin}: connector type class {candidate.__qualname__} does not implement {', '.join(missing)}")
    return candidate


def _is_builtin(entry_point: EntryPoint) -> bool:
    return entry_point.dist is not None and entry_point.dist.name == BUILTIN_DISTRIBUTION


def _entry_points() -> dict[str, EntryPoint]:
    """Installed connector types by name; provisioner's own win over a plugin's of the same name."""
    found: dict[str, EntryPoint] = {}
    for entry_point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: not _is_builtin(ep)):
        found.setdefault(entry_point.name, entry_point)
    return found


def connector_type_names() -> list[str]:
    """The names of the installed connector types, sorted; nothing is imported."""
    return sorted(_entry_points())


def connector_schema(name: str) -> ConnectorSchema:
    """The installed connector type ``name``, an instance of its class; only its module is imported.

    Raises:
        InputError: no connector type of that name is installed; the message lists the known ones.
        TypeError: the entry point does not name a complete connector type class.
    """
    entry_point = _entry_points().get(name)
    if entry_point is None:
        known = ", ".join(connector_type_names()) or "none installed"
        raise InputError(f"unknown connector type {name!r} (known: {known})")
    origin = f"entry point {name!r} ({entry_point.value})"
    return validate_connector_class(entry_point.load(), origin, name)()


def config_class_for(connector_type: str, auth_method: str) -> type[FlavorConfig]:
    """The schema of a connector's configuration, or an InputError naming the known types or methods."""
    return connector_schema(connector_type).config_class(auth_method)


def check_resource_types(connector_type: str, resource_types: Iterable[ResourceType]) -> None:
    """Raise InputError if the type is unknown or a resource type does not belong to it."""
    connector_schema(connector_type).check_resource_types(resource_types)


def offered_resource_types(connector_type: str) -> list[ResourceType]:
    """Every resource type a connector of this type can offer: the default when none are given."""
    return list(connector_schema(connector_type).resource_types)
