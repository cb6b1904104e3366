"""The flavor catalog: built-in flavors plus those third-party packages add via entry points."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points

from provisioner.errors import InputError, NotFoundError
from provisioner.registry.flavors import aws, gcp, integrations, kubernetes, local, mlflow
from provisioner.registry.flavors.base import EmptyConfig, Flavor, FlavorConfig, secret_field
from provisioner.registry.models import ComponentType

ENTRY_POINT_GROUP = "provisioner.flavors"
BUILTIN_GROUPS: tuple[Callable[[], list[type[Flavor]]], ...] = (
    local.flavors,
    kubernetes.flavors,
    aws.flavors,
    gcp.flavors,
    mlflow.flavors,
    integrations.flavors,
)

__all__ = ["EmptyConfig", "Flavor", "FlavorConfig", "FlavorRegistry", "secret_field"]


def validate_flavor_class(candidate: object, origin: str) -> type[Flavor]:
    """Return ``candidate`` if it is a complete Flavor subclass, else raise ``TypeError`` naming it."""
    if not (isinstance(candidate, type) and issubclass(candidate, Flavor)):
        raise TypeError(f"{origin}: {candidate!r} is not a subclass of provisioner Flavor")
    for attribute in ("name", "type"):
        if not hasattr(candidate, attribute):
            raise TypeError(f"{origin}: flavor class {candidate.__qualname__} does not set {attribute!r}")
    if not isinstance(candidate.type, ComponentType):
        raise TypeError(f"{origin}: flavor class {candidate.__qualname__} has type {candidate.type!r}, not a ComponentType")
    if not (isinstance(candidate.config_class, type) and issubclass(candidate.config_class, FlavorConfig)):
        raise TypeError(f"{origin}: {candidate.__qualname__}.config_class is not a FlavorConfig subclass")
    return candidate


def _flavors_from_entry_point(entry_point: EntryPoint) -> list[type[Flavor]]:
    loaded = entry_point.load()
    origin = f"entry point {entry_point.name!r} ({entry_point.value})"
    if isinstance(loaded, type):
        candidates: Iterable[object] = [loaded]
    elif callable(loaded):
        candidates = loaded()
    else:
        candidates = loaded
    result = []
    for candidate in candidates:
        flavor = validate_flavor_class(candidate, origin)
        flavor.source = entry_point.dist.name if entry_point.dist else entry_point.value
        result.append(flavor)
    return result


class FlavorRegistry:
    """All known flavors, keyed by (component type, flavor name)."""

    def __init__(self, flavors: Iterable[type[Flavor]], errors: Iterable[str] = ()) -> None:
        self._flavors: dict[tuple[ComponentType, str], type[Flavor]] = {}
        self.errors: list[str] = list(errors)
        for flavor in flavors:
            key = (flavor.type, flavor.name)
            if key in self._flavors:
                self.errors.append(
                    f"flavor {flavor.name!r} for {flavor.type.value} from {flavor.source} is ignored: "
                    f"{self._flavors[key].source} already provides it"
                )
                continue
            self._flavors[key] = flavor

    @classmethod
    def load(cls) -> FlavorRegistry:
        """Built-in flavors first, then every ``provisioner.flavors`` entry point.

        A broken plugin does not break the tool: its error is kept in ``errors``.
        """
        found: list[type[Flavor]] = [flavor for group in BUILTIN_GROUPS for flavor in group()]
        errors: list[str] = []
        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            try:
                found.extend(_flavors_from_entry_point(entry_point))
            except Exception as exc:  # a third-party import can fail in any way
                errors.append(f"flavor plugin {entry_point.name!r} failed to load: {exc}")
        return cls(found, errors)

    def all(self, component_type: ComponentType | None = None) -> list[type[Flavor]]:
        """Flavors sorted by type then name, optionally of one type."""
        chosen = [f for f in self._flavors.values() if component_type in (None, f.type)]
        order = list(ComponentType)
        return sorted(chosen, key=lambda f: (order.index(f.type), f.name))

    def get(self, component_type: ComponentType, name: str) -> type[Flavor]:
        """The flavor, or a NotFoundError listing the flavors that type has."""
        try:
            return self._flavors[(component_type, name)]
        except KeyError:
            known = ", ".join(f.name for f in self.all(component_type)) or "none"
            raise NotFoundError(
                f"unknown flavor {name!r} for {component_type.value} (known: {known})"
            ) from None

    def find(self, name: str, component_type: ComponentType | None = None) -> type[Flavor]:
        """Look a flavor up by name; the type is needed only when the name is ambiguous."""
        if component_type is not None:
            return self.get(component_type, name)
        matches = [f for f in self._flavors.values() if f.name == name]
        if not matches:
            raise NotFoundError(f"unknown flavor {name!r}")
        if len(matches) > 1:
            types = ", ".join(sorted(f.type.value for f in matches))
            raise InputError(f"flavor {name!r} exists for several types ({types}): pass --type")
        return matches[0]
