"""Guardrails every recipe keeps: rules over one resource (type, inputs as Pulumi sends them), and
rules over a whole stack (resources that must come in pairs, prod data protection).

The resource rules run in three places: the pulumi-policy pack (``provisioner.policy_pack``, for
``pulumi preview --policy-pack`` in any project), the simulated engine (a violation fails the
resource before anything is created), and the conformance tests. The stack rules run in the pack
(as a stack policy) and in the tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
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
BROAD_MANAGED_POLICIES = ("FullAccess", "AdministratorAccess", "PowerUserAccess")
S3_BUCKET = "aws:s3/bucket:Bucket"
S3_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
S3_ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
S3_VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
RDS_INSTANCE = "aws:rds/instance:Instance"
GCS_BUCKET = "gcp:storage/bucket:Bucket"
CLOUD_SQL_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"


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
    """Databases, volumes and image repositories are encrypted at rest."""
    if resource_type == RDS_INSTANCE and not props.get("storageEncrypted"):
        return ["stores data unencrypted (storageEncrypted is off)"]
    if resource_type == "aws:ebs/volume:Volume" and not props.get("encrypted"):
        return ["is an unencrypted volume"]
    if resource_type == "aws:ecr/repository:Repository" and not props.get("encryptionConfigurations"):
        return ["has no encryption configuration"]
    return []


def broad_managed_policies(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """No *FullAccess, AdministratorAccess or PowerUserAccess managed policy is attached."""
    arn = str(props.get("policyArn", ""))
    if resource_type.startswith("aws:iam/") and "PolicyAttachment" in resource_type and any(
        word in arn for word in BROAD_MANAGED_POLICIES
    ):
        return [f"attaches the broad managed policy {arn}"]
    return []


def private_databases(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """No database is reachable from the internet."""
    if resource_type == RDS_INSTANCE and props.get("publiclyAccessible") is True:  # RDS's default is private
        return ["is publicly accessible"]
    if resource_type == CLOUD_SQL_INSTANCE:
        ip = (props.get("settings") or {}).get("ipConfiguration") or {}
        if ip.get("ipv4Enabled") is not False:  # Cloud SQL gives an instance a public IP unless told not to
            return ["has a public IPv4 address"]
    return []


RULES: tuple[Rule, ...] = (
    Rule("no-wildcard-actions", "IAM policies name their actions; no '*' or 'service:*'.", wildcard_actions),
    Rule("no-public-buckets", "Buckets are private: no public ACL, policy or member; public access blocked.", public_buckets),
    Rule("no-authoritative-bindings", "GCP IAM is granted per member, never with IAMBinding or IAMPolicy.", authoritative_bindings),
    Rule("encryption-at-rest", "Databases, volumes and image repositories are encrypted at rest.", encryption_at_rest),
    Rule("no-broad-managed-policies", "No *FullAccess, AdministratorAccess or PowerUserAccess policy.", broad_managed_policies),
    Rule("private-databases", "Databases have no public address.", private_databases),
)


def violations(resource_type: str, props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(rule name, message) for every guardrail the resource breaks."""
    return [(rule.name, message) for rule in RULES for message in rule.check(resource_type, props)]


# ----- stack rules: what one resource cannot show ---------------------------------------------------


@dataclass(frozen=True)
class StackResource:
    """One resource of a stack: its type, logical name, id (empty while unknown) and inputs."""

    type: str
    name: str
    id: str
    props: Mapping[str, Any]


@dataclass(frozen=True)
class Violation:
    rule: str
    resource: str
    message: str


@dataclass(frozen=True)
class StackRule:
    """A guardrail over every resource of a stack, for one env."""

    name: str
    description: str
    check: Callable[[Sequence[StackResource], str], list[tuple[str, str]]]


def _of(resources: Sequence[StackResource], resource_type: str) -> list[StackResource]:
    return [r for r in resources if r.type == resource_type]


def _attached(resources: Sequence[StackResource], resource_type: str) -> set[Any]:
    return {r.props.get("bucket") for r in _of(resources, resource_type)}


def _buckets_alongside(resources: Sequence[StackResource], companion: str, missing: str) -> list[tuple[str, str]]:
    # A bucket whose id is not known yet (a preview of a new stack) cannot be linked: it is skipped.
    have = _attached(resources, companion)
    return [(b.name, missing) for b in _of(resources, S3_BUCKET) if b.id and b.id not in have]


def buckets_blocked(resources: Sequence[StackResource], env: str) -> list[tuple[str, str]]:
    """Every S3 bucket has a public access block (its flags are the resource rule's)."""
    return _buckets_alongside(resources, S3_PUBLIC_ACCESS_BLOCK, "has no public access block")


def buckets_encrypted(resources: Sequence[StackResource], env: str) -> list[tuple[str, str]]:
    """Every S3 bucket has a default encryption configuration."""
    return _buckets_alongside(resources, S3_ENCRYPTION, "has no default encryption")


def prod_data_protection(resources: Sequence[StackResource], env: str) -> list[tuple[str, str]]:
    """In prod: databases are deletion-protected (RDS keeps a final snapshot); buckets are versioned, never force-destroyed."""
    if env != "prod":
        return []
    found = []
    for database in _of(resources, RDS_INSTANCE):
        if database.props.get("deletionProtection") is not True:
            found.append((database.name, "has no deletion protection"))
        if database.props.get("skipFinalSnapshot") is not False:
            found.append((database.name, "skips the final snapshot"))
    versioned = _attached(resources, S3_VERSIONING)
    for bucket in _of(resources, S3_BUCKET):
        if bucket.props.get("forceDestroy"):
            found.append((bucket.name, "has force_destroy on"))
        if bucket.id and bucket.id not in versioned:
            found.append((bucket.name, "is not versioned"))
    for database in _of(resources, CLOUD_SQL_INSTANCE):
        if database.props.get("deletionProtection") is not True:
            found.append((database.name, "has no deletion protection"))
    for bucket in _of(resources, GCS_BUCKET):
        if bucket.props.get("forceDestroy"):
            found.append((bucket.name, "has force_destroy on"))
        if not (bucket.props.get("versioning") or {}).get("enabled"):
            found.append((bucket.name, "is not versioned"))
    return found


STACK_RULES: tuple[StackRule, ...] = (
    StackRule("no-public-buckets", "Every S3 bucket has a public access block.", buckets_blocked),
    StackRule("encryption-at-rest", "Every S3 bucket has default encryption.", buckets_encrypted),
    StackRule("prod-data-protection", "Prod databases and buckets survive a destroy or an overwrite.", prod_data_protection),
)


def stack_violations(resources: Sequence[StackResource], env: str) -> list[Violation]:
    """Every violation of every resource rule and every stack rule."""
    found = [
        Violation(rule, resource.name, message)
        for resource in resources
        for rule, message in violations(resource.type, resource.props)
    ]
    for stack_rule in STACK_RULES:
        found += [Violation(stack_rule.name, name, message) for name, message in stack_rule.check(resources, env)]
    return found
