"""Flavor base classes: a flavor names a component implementation and the schema of its config."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from provisioner.registry.models import ComponentType, ResourceType
from provisioner.secrets import marked_secret


def secret_field(description: str, default: Any = ...) -> Any:
    """A config field that holds a secret; it is stored only as a ``{{secret:NAME.KEY}}`` reference."""
    return Field(default, description=description, json_schema_extra={"secret": True})


class FlavorConfig(BaseModel):
    """Validated settings of one component; subclasses declare the fields of their flavor."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def secret_fields(cls) -> set[str]:
        """Names of the fields marked with :func:`secret_field`."""
        return {
            name
            for name, info in cls.model_fields.items()
            if marked_secret(info)
        }


class EmptyConfig(FlavorConfig):
    """A flavor that needs no settings."""


class Flavor:
    """A flavor: a component implementation with its config schema.

    Subclasses set ``name``, ``type`` and ``config_class``; ``connector_resource_type`` names
    the resource a service connector must offer for a component of this flavor to link to it.
    """

    name: ClassVar[str]
    type: ClassVar[ComponentType]
    config_class: ClassVar[type[FlavorConfig]] = EmptyConfig
    connector_resource_type: ClassVar[ResourceType | None] = None
    description: ClassVar[str] = ""
    source: ClassVar[str] = "builtin"


def require_prefix(value: str, prefixes: tuple[str, ...], what: str) -> str:
    """Raise ``ValueError`` quoting ``value`` unless it starts with one of ``prefixes``."""
    if value.startswith("{{secret:"):
        return value
    if not value.startswith(prefixes):
        raise ValueError(f"{what} must start with {' or '.join(prefixes)} (got {value!r})")
    return value
