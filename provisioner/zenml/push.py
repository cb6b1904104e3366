"""`provisioner stack push`: create or update a stack in a ZenML server, and remove it again.

Ownership comes from our registry's push record, never from names or labels alone: an object is
ours when the record lists its id, or when it carries this push's random id as a label (created
just before a kill, before the record could list it). Anything else of the same name is someone
else's, and the push stops before writing anything.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from provisioner.zenml.client import ZenMLClient, ZenMLRefusedError, ZenMLTarget
from provisioner.zenml.mapping import ORDER, PUSH_LABEL, Desired, Ref, desired_objects

if TYPE_CHECKING:
    from provisioner.registry.service import Registry

# The fields ZenML's update models take, per kind (ComponentUpdate, StackUpdate, ... in ZenML 0.98).
UPDATABLE = {
    "secret": ("name", "private", "values"),
    "service_connector": ("name", "connector_type", "auth_method", "resource_types", "configuration", "description", "labels"),
    "component": ("name", "configuration", "connector", "connector_resource_id", "labels"),
    "stack": ("name", "components", "labels", "description"),
}
LABELLED = {"service_connector", "component", "stack"}  # ZenML secrets carry no labels


@dataclass
class PushReport:
    """What a push did, by object ("component 'x'")."""

    url: str
    project: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def summary(self) -> str:
        if not self.changed:
            return f"ZenML at {self.url} already has this stack as pushed: no change ({len(self.unchanged)} objects)."
        parts = [f"{len(items)} {word}" for word, items in
                 (("created", self.created), ("updated", self.updated), ("deleted", self.deleted), ("unchanged", self.unchanged)) if items]
        return f"Pushed to ZenML at {self.url} (project {self.project!r}): {', '.join(parts)}."


def _label(kind: str, name: str) -> str:
    return f"{kind.replace('_', ' ')} {name!r}"


class _Record:
    """Our registry's record of what this stack's pushes created, saved after every change."""

    def __init__(self, registry: Registry, stack: str, target: ZenMLTarget, previous: Mapping[str, Any] | None) -> None:
        self.registry, self.stack, self.target = registry, stack, target
        self.push_id = str(previous["push_id"]) if previous else secrets.token_hex(16)
        self.objects: dict[tuple[str, str], dict[str, Any]] = {
            (o["kind"], o["name"]): dict(o) for o in (previous or {}).get("objects", [])
        }

    def save(self) -> None:
        ordered = sorted(self.objects.values(), key=lambda o: (ORDER.index(o["kind"]), o["name"]))
        self.registry.record_zenml_push(self.stack, self.target.url, self.target.project, self.push_id, ordered)


def push_stack(
    registry: Registry,
    stack_name: str,
    target: ZenMLTarget,
    *,
    source_secret: str | None = None,
    allow_untested: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> PushReport:
    """Make ZenML hold this stack as registered here: create what is missing, update what changed.

    All or nothing: if a step fails, what this push created is deleted again before the error is raised.
    """
    previous = registry.zenml_push(stack_name)
    if previous and previous["url"] != target.url:
        raise ZenMLRefusedError(
            f"stack {stack_name!r} is pushed to ZenML at {previous['url']}: remove it there first "
            f"(provisioner stack unpush {stack_name})"
        )
    source = registry.describe_secret(source_secret, show_values=True).values if source_secret else None
    desired = desired_objects(registry, stack_name, source=source)
    record = _Record(registry, stack_name, target, previous)
    record.save()  # admins only (the gate says so here, before ZenML is touched); keeps the push id
    try:
        client = ZenMLClient(target, allow_untested=allow_untested)
        try:
            return _apply(client, desired, _claim(client, desired, record), record, progress)
        finally:
            client.close()
    except BaseException:
        if previous is None and not record.objects:
            registry.forget_zenml_push(stack_name)  # nothing reached ZenML: leave no record either
        raise


def _claim(client: ZenMLClient, desired: list[Desired], record: _Record) -> dict[tuple[str, str], str]:
    """The ZenML id of each desired object that exists and is ours; refuses if one of the names is taken."""
    ours: dict[tuple[str, str], str] = {}
    taken: list[str] = []
    for item in desired:
        key = (item.kind, item.name)
        existing = client.find(item.kind, item.name)
        if existing is None:
            continue
        listed = record.objects.get(key)
        labels = (existing.get("metadata") or {}).get("labels") or {}
        if (listed and listed["id"] == existing["id"]) or labels.get(PUSH_LABEL) == record.push_id:
            ours[key] = str(existing["id"])
        else:
            taken.append(_label(item.kind, item.name))
    if taken:
        raise ZenMLRefusedError(
            f"ZenML at {client.target.url} already has {', '.join(taken)}, not pushed from this registry: "
            "nothing was changed (rename or remove it there)"
        )
    return ours


def _apply(
    client: ZenMLClient, desired: list[Desired], ours: dict[tuple[str, str], str], record: _Record,
    progress: Callable[[str], None],
) -> PushReport:
    report = PushReport(client.target.url, client.target.project)
    ids: dict[tuple[str, str], str] = {}
    created: list[tuple[str, str]] = []
    try:
        for item in desired:
            key = (item.kind, item.name)
            body = _resolved(item, ids, record.push_id)
            listed = record.objects.get(key)
            recreated_dependency = any((ref.kind, ref.name) in created for ref in item.depends_on)
            if key in ours:
                ids[key] = ours[key]
                if listed and listed.get("digest") == item.digest() and not recreated_dependency:
                    report.unchanged.append(_label(*key))
                    continue
                client.update(item.kind, ids[key], {k: v for k, v in body.items() if k in UPDATABLE[item.kind]})
                report.updated.append(_label(*key))
            else:
                ids[key] = client.create(item.kind, body)
                created.append(key)
                report.created.append(_label(*key))
            progress(f"{'updated' if key in ours else 'created'} {_label(*key)}")
            record.objects[key] = {"kind": item.kind, "name": item.name, "id": ids[key], "digest": item.digest()}
            record.save()
        wanted = {(item.kind, item.name) for item in desired}
        for key in sorted(set(record.objects) - wanted, key=lambda k: -ORDER.index(k[0])):
            client.delete(key[0], record.objects[key]["id"])  # dropped from the stack since the last push
            del record.objects[key]
            record.save()
            report.deleted.append(_label(*key))
    except BaseException:
        for key in reversed(created):
            try:
                client.delete(key[0], ids[key])
            except ZenMLRefusedError:
                continue  # unreachable now: the record still lists it, so a rerun or unpush finds it
            record.objects.pop(key, None)
        record.save()
        raise
    return report


def _resolved(item: Desired, ids: Mapping[tuple[str, str], str], push_id: str) -> dict[str, Any]:
    def resolve(value: Any) -> Any:
        if isinstance(value, Ref):
            return ids[(value.kind, value.name)]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    body = resolve(item.body)
    if item.kind in LABELLED:
        body["labels"] = {**body.get("labels", {}), PUSH_LABEL: push_id}
    return dict(body)


def unpush_stack(registry: Registry, stack_name: str) -> list[str]:
    """Delete from ZenML what the record lists (stack first, secrets last), then drop the record.

    Raises ZenMLRefusedError, keeping the record, when the server can't be reached.
    """
    previous = registry.zenml_push(stack_name)
    if previous is None:
        return []
    record = _Record(registry, stack_name, ZenMLTarget(previous["url"], previous["project"]), previous)
    client = ZenMLClient(record.target, allow_untested=True)
    deleted = []
    try:
        for key in sorted(record.objects, key=lambda k: (-ORDER.index(k[0]), k[1])):
            if client.delete(key[0], record.objects[key]["id"]):
                deleted.append(_label(*key))
            del record.objects[key]
            record.save()
    finally:
        client.close()
    registry.forget_zenml_push(stack_name)
    return deleted
