"""Saved plans: `deploy-stack ... --plan --save FILE` writes what the deploy would do; `--from-plan FILE`
applies it only if the program would still do exactly that.

The file holds the recipe, env, region, stack name and resolved settings (secret settings are not
saved, so a recipe given one cannot be planned to a file), and per resource its URN, operation and a
digest of its planned inputs as shown (secrets masked). No secret value is written in plain text.

With the real engine the file also carries Pulumi's own update plan (``pulumi preview --save-plan``),
which ``--from-plan`` hands to ``pulumi up --plan``: Pulumi then refuses any step outside it. Secret
inputs in that plan are ciphertext under the stack's secrets provider.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from provisioner.engine.base import ResourceRecord
from provisioner.errors import InputError

FORMAT = "provisioner-plan/1"


class PlannedResource(BaseModel):
    urn: str
    type: str
    name: str
    op: str
    inputs_sha256: str


class SavedPlan(BaseModel):
    """A plan file's content."""

    format: str = FORMAT
    created_at: str
    provisioner_version: str
    engine: str
    recipe: str
    env: str
    region: str | None
    stack: str
    args: dict[str, Any]
    resources: list[PlannedResource]
    update_plan: dict[str, Any] | None = None  # the real engine's update plan (Pulumi's), followed by --from-plan
    deployment_id: str | None = None  # the id the plan's tags carry; a stack not deployed yet takes it


def secret_settings_set(model: BaseModel, prefix: str = "") -> list[str]:
    """The dotted names of secret settings that hold a value (a plan file may not carry them)."""
    found = []
    for name, info in type(model).model_fields.items():
        value = getattr(model, name, None)
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if extra.get("secret") and value:
            found.append(f"{prefix}{name}")
        elif isinstance(value, BaseModel):
            found.extend(secret_settings_set(value, f"{prefix}{name}."))
    return found


def planned(records: Sequence[ResourceRecord]) -> list[PlannedResource]:
    """Each resource's URN, operation and input digest, in a stable order."""
    rows = []
    for record in records:
        shown = record.model_dump(mode="json").get("inputs")
        digest = hashlib.sha256(json.dumps(shown, sort_keys=True, default=str).encode()).hexdigest()
        rows.append(PlannedResource(urn=record.urn, type=record.type, name=record.name, op=record.op.value, inputs_sha256=digest))
    return sorted(rows, key=lambda row: row.urn)


def build(engine: str, recipe: str, env: str, region: str | None, stack: str, args: dict[str, Any],
          records: Sequence[ResourceRecord], update_plan: dict[str, Any] | None = None,
          deployment_id: str | None = None) -> SavedPlan:
    from provisioner import __version__

    return SavedPlan(created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), provisioner_version=__version__,
                     engine=engine, recipe=recipe, env=env, region=region, stack=stack, args=args, resources=planned(records),
                     update_plan=update_plan, deployment_id=deployment_id)


def load(path: Path) -> SavedPlan:
    """Read a plan file; a missing, foreign or damaged file is an InputError in one line."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"no plan file at {path}") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path} is not a plan file: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"{path} is not a {FORMAT} file (write one with deploy-stack ... --plan --save FILE)")
    try:
        return SavedPlan.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{path} is a damaged plan file: {exc.errors()[0]['msg']}") from None


_DOING = {"same": "stay the same", "create": "be created", "update": "be updated", "replace": "be replaced",
          "delete": "be deleted", "read": "be read"}


def differences(saved: SavedPlan, now: Sequence[ResourceRecord]) -> list[str]:
    """What the program would do now that the saved plan did not say, one phrase per resource."""
    before = {row.urn: row for row in saved.resources}
    after = {row.urn: row for row in planned(now)}
    found = []
    for urn in sorted(set(before) | set(after)):
        old, new = before.get(urn), after.get(urn)
        if old is None and new is not None:
            found.append(f"{new.name} would now {_DOING[new.op]} (not in the plan)")
        elif new is None and old is not None:
            found.append(f"{old.name} is no longer in the program (the plan: {_DOING[old.op]})")
        elif old is not None and new is not None and old.op != new.op:
            found.append(f"{new.name} would now {_DOING[new.op]}, where the plan said {_DOING[old.op]}")
        elif old is not None and new is not None and old.inputs_sha256 != new.inputs_sha256:
            found.append(f"{new.name} would get other inputs than planned")
    return found
