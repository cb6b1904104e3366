"""Guardrails every recipe keeps, as plain functions over one resource (type, inputs as Pulumi sends them).

The same functions run in three places: the pulumi-policy pack (``provisioner.policy_pack``, for
``pulumi preview --policy-pack`` in any project), the simulated engine (a violation fails the
resource before anything is created), and the conformance tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

IAM_POLICY_INPUTS = {
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
}
PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")


@dataclass(frozen=True)
class Rule:
    """One guardrail: a name, what it enforces, and the check (violation messages for one resource)."""

    name: str
    description: str
    check: Callable[[str, Mapping[str, Any]], list[str]]


def _document(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            loaded = json.loads(value)
        except ValueError:
            return {}
        return loaded if isinstance(loaded, dict) else {}
    return value if isinstance(value, dict) else {}


def _allow_statements(document: Any) -> list[dict[str, Any]]:
    statements = _document(document).get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    return [s for s in statements if isinstance(s, dict) and s.get("Effect") == "Allow"]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def wildcard_actions(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """No IAM policy allows ``*`` or ``service:*``."""
    key = IAM_POLICY_INPUTS.get(resource_type)
    if key is None:
        return []
    found = []
    for statement in _allow_statements(props.get(key)):
        for action in _as_list(statement.get("Action", [])):
            if isinstance(action, str) and (action == "*" or action.endswith(":*")):
                found.append(f"allows the wildcard action {action!r}")
    return found


def public_buckets(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """No bucket is public: no public ACL or policy principal on S3, all public-access blocks on, GCS enforced."""
    found = []
    if resource_type in ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2", "aws:s3/bucketAcl:BucketAcl") and props.get("acl") in PUBLIC_ACLS:
        found.append(f"has the public ACL {props['acl']!r}")
    if resource_type == "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":
        off = [flag for flag in PUBLIC_ACCESS_FLAGS if not props.get(flag)]
        if off:
            found.append(f"leaves public access open: {', '.join(off)} not set")
    if resource_type == "aws:s3/bucketPolicy:BucketPolicy":
        for statement in _allow_statements(props.get("policy")):
            if statement.get("Principal") in ("*", {"AWS": "*"}):
                found.append("allows any principal ('*')")
    if resource_type == "gcp:storage/bucket:Bucket":
        if props.get("publicAccessPrevention") != "enforced":
            found.append("does not enforce public access prevention")
        if not props.get("uniformBucketLevelAccess"):
            found.append("does not use uniform bucket-level access")
    if resource_type.startswith("gcp:storage/bucketIAM") and props.get("member") in PUBLIC_MEMBERS:
        found.append(f"grants {props['member']}")
    return found


def authoritative_bindings(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """No authoritative GCP IAM resource: IAMBinding and IAMPolicy replace every other member of a role."""
    kind = resource_type.rsplit(":", 1)[-1]
    if resource_type.startswith("gcp:") and kind.endswith(("IAMBinding", "IamBinding", "IAMPolicy", "IamPolicy")):
        return [f"{kind} is authoritative: it removes every member it does not name (use an IAMMember)"]
    return []


def encryption_at_rest(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Databases and volumes are encrypted at rest."""
    if resource_type == "aws:rds/instance:Instance" and not props.get("storageEncrypted"):
        return ["stores data unencrypted (storageEncrypted is off)"]
    if resource_type == "aws:ebs/volume:Volume" and not props.get("encrypted"):
        return ["is an unencrypted volume"]
    return []


RULES: tuple[Rule, ...] = (
    Rule("no-wildcard-actions", "IAM policies name their actions; no '*' or 'service:*'.", wildcard_actions),
    Rule("no-public-buckets", "Buckets are private: no public ACL, policy or member; public access blocked.", public_buckets),
    Rule("no-authoritative-bindings", "GCP IAM is granted per member, never with IAMBinding or IAMPolicy.", authoritative_bindings),
    Rule("encryption-at-rest", "Databases and volumes are encrypted at rest.", encryption_at_rest),
)


def violations(resource_type: str, props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(rule name, message) for every guardrail the resource breaks."""
    return [(rule.name, message) for rule in RULES for message in rule.check(resource_type, props)]
