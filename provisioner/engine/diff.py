"""What a change of inputs does to a resource in the simulation: update it in place, or replace it.

The properties that force a replacement come from ``provisioner/data/replace_on_change.yaml`` (the
providers' documentation, dated there). A type missing from the table is updated in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

TABLE = Path(__file__).resolve().parent.parent / "data" / "replace_on_change.yaml"
_MISSING = object()


@lru_cache(maxsize=1)
def replace_table() -> dict[str, tuple[str, ...]]:
    """Resource type -> the input properties (dotted for nested fields) whose change replaces it."""
    import yaml

    data = yaml.safe_load(TABLE.read_text())
    return {resource_type: tuple(properties) for resource_type, properties in data["types"].items()}


def _at(values: Mapping[str, Any], path: str) -> Any:
    current: Any = values
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return _MISSING
        current = current[part]
    return current


def changed_properties(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The top-level input names whose values differ."""
    return sorted(key for key in set(old) | set(new) if old.get(key, _MISSING) != new.get(key, _MISSING))


def replacing_property(resource_type: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> str | None:
    """The first property (in the table's order) whose change forces a replacement, or None for an in-place update."""
    for path in replace_table().get(resource_type, ()):
        if _at(old, path) != _at(new, path):
            return path
    return None
