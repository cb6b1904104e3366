"""Which resources a destroy keeps when data is retained: pure functions over a dependency graph (used by the engines and recipes)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Node:
    """A resource in a stack's state: its key, type token, and the keys it depends on."""

    key: str
    type: str
    depends_on: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class RetentionPolicy:
    """What counts as data, what only configures data, and what is never kept to hold data."""

    data_types: frozenset[str]
    attachment_types: frozenset[str] = frozenset()
    never_keep_types: frozenset[str] = frozenset()
    # Kept whenever any data is kept: what the data needs to exist but does not name in its inputs
    # (a Cloud SQL instance's private services peering, the namespace around a volume claim).
    support_types: frozenset[str] = frozenset()


def kept_keys(nodes: Iterable[Node], policy: RetentionPolicy) -> set[str]:
    """The data resources, what they need to exist (their dependencies), and what configures them.

    Dependencies are followed transitively, except through types in ``never_keep_types`` (a
    database's firewall rule naming the cluster must not keep the cluster alive).
    """
    by_key: Mapping[str, Node] = {node.key: node for node in nodes}
    keep = {node.key for node in by_key.values() if node.type in policy.data_types}
    pending = list(keep)
    while pending:
        node = by_key.get(pending.pop())
        if node is None:
            continue
        for dependency in node.depends_on:
            target = by_key.get(dependency)
            if target is None or dependency in keep or target.type in policy.never_keep_types:
                continue
            keep.add(dependency)
            pending.append(dependency)
    data = {key for key in keep if by_key[key].type in policy.data_types}
    for node in by_key.values():
        if node.type in policy.attachment_types and node.depends_on & data:
            keep.add(node.key)
        if data and node.type in policy.support_types:
            keep.add(node.key)
    return keep


def identity_values(resource_id: str, state: Mapping[str, object]) -> set[str]:
    """Strings other resources use to refer to this one: its id, ARN and name."""
    values = {resource_id}
    for key in ("arn", "name", "bucket", "identifier", "email", "selfLink"):
        value = state.get(key)
        if isinstance(value, str) and value:
            values.add(value)
    return {value for value in values if len(value) > 3}


def referenced_strings(inputs: object) -> set[str]:
    """Every string found anywhere in a resource's inputs (for inferring dependencies)."""
    found: set[str] = set()
    stack = [inputs]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.add(item)
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return found
