"""Helpers shared by the AWS emulators: error codes, tag conversions, ARNs and bounded polling."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from provisioner.aws_errors import error_code, ignore_not_found, is_not_found
from provisioner.engine.emulators.base import EmulationContext

__all__ = ["error_code", "ignore_not_found", "is_not_found"]


def responds(call: Callable[..., Any], **params: Any) -> bool:
    """Whether a describe/get call finds the resource: False on not-found, other errors raise."""
    try:
        call(**params)
    except Exception as exc:
        if is_not_found(exc):
            return False
        raise
    return True


def tags_of(inputs: dict[str, Any]) -> dict[str, str]:
    """The ``tags`` input as a plain string map."""
    return {str(key): str(value) for key, value in (inputs.get("tags") or {}).items()}


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    """A tag map in the ``[{Key, Value}]`` shape most AWS APIs take."""
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def tag_map(tags: Iterable[dict[str, str]] | None) -> dict[str, str]:
    """A ``[{Key, Value}]`` list as a map."""
    return {tag["Key"]: tag["Value"] for tag in tags or []}


def tag_specifications(resource_type: str, tags: dict[str, str]) -> list[dict[str, Any]]:
    """EC2 ``TagSpecifications`` for a create call (empty when there are no tags)."""
    return [{"ResourceType": resource_type, "Tags": tag_list(tags)}] if tags else []


def sync_ec2_tags(ctx: EmulationContext, resource_id: str, old: dict[str, str], new: dict[str, str]) -> None:
    """Make an EC2 resource's tags exactly ``new`` (removing the keys only ``old`` had)."""
    ec2 = ctx.aws("ec2")
    removed = [key for key in old if key not in new]
    if removed:
        ec2.delete_tags(Resources=[resource_id], Tags=[{"Key": key} for key in removed])
    if new:
        ec2.create_tags(Resources=[resource_id], Tags=tag_list(new))


def ec2_arn(ctx: EmulationContext, owner_id: str, kind: str, resource_id: str) -> str:
    """The ARN EC2 gives a resource (``arn:aws:ec2:<region>:<owner>:<kind>/<id>``)."""
    return f"arn:aws:ec2:{ctx.region}:{owner_id}:{kind}/{resource_id}"


def account_id(ctx: EmulationContext) -> str:
    """The account the emulator runs as (moto's STS answer)."""
    return str(ctx.aws("sts").get_caller_identity()["Account"])


def wait_for(client: Any, waiter: str, *, timeout: int = 30, **params: Any) -> None:
    """Block on one of boto3's waiters (``nat_gateway_available``, ``cluster_deleted``, ...), polling each second.

    Raises TimeoutError naming the waiter when it gives up or the resource lands in a failure state.
    """
    from botocore.exceptions import WaiterError

    try:
        client.get_waiter(waiter).wait(**params, WaiterConfig={"Delay": 1, "MaxAttempts": max(1, timeout)})
    except WaiterError as exc:
        raise TimeoutError(f"gave up waiting ({waiter}, {timeout}s): {exc.last_response.get('Error', exc)}") from exc


def iso(value: Any) -> str:
    """A timestamp from boto3 as an ISO 8601 string (and anything else as a string)."""
    return value.isoformat() if hasattr(value, "isoformat") else str(value or "")


def proves_ownership(found: dict[str, str] | None, wanted: dict[str, str]) -> bool:
    """Whether tags read from the cloud carry the deployment id and URN the inputs asked for."""
    from provisioner.recipe_api import TAG_DEPLOYMENT, TAG_URN

    if not found or not wanted.get(TAG_DEPLOYMENT):
        return False
    return found.get(TAG_DEPLOYMENT) == wanted[TAG_DEPLOYMENT] and found.get(TAG_URN) == wanted.get(TAG_URN)


def find_ec2_orphan(ctx: EmulationContext, inputs: dict[str, Any]) -> str | None:
    """An EC2 resource carrying this deployment's id and this resource's URN tag (read back per resource)."""
    from provisioner.recipe_api import TAG_URN

    wanted = tags_of(inputs)
    if not wanted.get(TAG_URN):
        return None
    ec2 = ctx.aws("ec2")
    candidates: list[str] = []
    for page in ec2.get_paginator("describe_tags").paginate(
        Filters=[{"Name": "key", "Values": [TAG_URN]}, {"Name": "value", "Values": [wanted[TAG_URN]]}]
    ):
        candidates.extend(tag["ResourceId"] for tag in page["Tags"])
    for resource_id in dict.fromkeys(candidates):
        if resource_id in ctx.known_ids:
            continue
        found: dict[str, str] = {}
        for page in ec2.get_paginator("describe_tags").paginate(Filters=[{"Name": "resource-id", "Values": [resource_id]}]):
            found.update({tag["Key"]: tag["Value"] for tag in page["Tags"] if tag["ResourceId"] == resource_id})
        if proves_ownership(found, wanted):
            return resource_id
    return None


def find_named_orphan(candidate: str, read_tags: Callable[[str], dict[str, str] | None], inputs: dict[str, Any]) -> str | None:
    """``candidate`` (the name the create would use) if it exists and its tags prove it is ours."""
    try:
        found = read_tags(candidate)
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise
    return candidate if proves_ownership(found, tags_of(inputs)) else None
