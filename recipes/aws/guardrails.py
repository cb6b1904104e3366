"""Guardrails: checks over the resources a recipe declares, run for every env by the tests.

Each check takes the resources (type token, logical name, id, inputs as Pulumi sends them) and
returns the violations it finds. They are plain functions: no CLI, no policy server.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

BUCKET = "aws:s3/bucket:Bucket"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
RDS_INSTANCE = "aws:rds/instance:Instance"
ECR_REPOSITORY = "aws:ecr/repository:Repository"
POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POLICY_INPUTS = {
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:iam/role:Role": "assumeRolePolicy",
    BUCKET_POLICY: "policy",
}
FORBIDDEN_MANAGED = ("FullAccess", "AdministratorAccess", "PowerUserAccess")
PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
REQUIRED_TAGS = ("provisioner:stack", "provisioner:env", "provisioner:recipe")
# AWS types whose API takes no tags.
UNTAGGABLE = {
    "aws:iam/rolePolicy:RolePolicy",
    POLICY_ATTACHMENT,
    "aws:ec2/route:Route",
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    PUBLIC_ACCESS_BLOCK,
    BUCKET_ENCRYPTION,
    BUCKET_POLICY,
    BUCKET_VERSIONING,
    "aws:ecr/lifecyclePolicy:LifecyclePolicy",
}


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    id: str
    inputs: Mapping[str, Any]


@dataclass(frozen=True)
class Violation:
    check: str
    resource: str
    message: str


def _of(resources: Iterable[Resource], resource_type: str) -> list[Resource]:
    return [r for r in resources if r.type == resource_type]


def _statements(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, str):
        document = json.loads(document)
    statements = document.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def no_wildcard_actions(resources: list[Resource], env: str) -> list[Violation]:
    """No Allow statement in a policy we write grants a wildcard action."""
    found = []
    for resource in resources:
        key = POLICY_INPUTS.get(resource.type)
        if key is None or not resource.inputs.get(key):
            continue
        for statement in _statements(resource.inputs[key]):
            if statement.get("Effect") != "Allow":
                continue  # a Deny with a wildcard only removes permissions (the TLS-only bucket policy)
            for action in _as_list(statement.get("Action", [])):
                if "*" in action:
                    found.append(Violation("no-wildcard-actions", resource.name, f"allows wildcard action {action!r}"))
    return found


def no_broad_managed_policies(resources: list[Resource], env: str) -> list[Violation]:
    """No *FullAccess, AdministratorAccess or PowerUserAccess managed policy is attached."""
    return [
        Violation("no-broad-managed-policies", r.name, f"attaches {r.inputs['policyArn']}")
        for r in _of(resources, POLICY_ATTACHMENT)
        if any(word in str(r.inputs.get("policyArn", "")) for word in FORBIDDEN_MANAGED)
    ]


def no_public_buckets(resources: list[Resource], env: str) -> list[Violation]:
    """Every bucket has all four public-access blocks on, no public ACL, and no policy allowing everyone."""
    found = []
    blocks = {r.inputs.get("bucket"): r for r in _of(resources, PUBLIC_ACCESS_BLOCK)}
    for bucket in _of(resources, BUCKET):
        block = blocks.get(bucket.id)
        if block is None:
            found.append(Violation("no-public-buckets", bucket.name, "has no public access block"))
        else:
            off = [flag for flag in PUBLIC_ACCESS_FLAGS if block.inputs.get(flag) is not True]
            if off:
                found.append(Violation("no-public-buckets", bucket.name, f"public access block leaves {', '.join(off)} off"))
        if str(bucket.inputs.get("acl", "private")).startswith("public"):
            found.append(Violation("no-public-buckets", bucket.name, f"has ACL {bucket.inputs['acl']}"))
    for policy in _of(resources, BUCKET_POLICY):
        for statement in _statements(policy.inputs.get("policy", "{}")):
            if statement.get("Effect") == "Allow" and statement.get("Principal") in ("*", {"AWS": "*"}):
                found.append(Violation("no-public-buckets", policy.name, "allows every principal"))
    return found


def encryption_at_rest(resources: list[Resource], env: str) -> list[Violation]:
    """Buckets have default encryption; RDS storage and ECR repositories are encrypted."""
    found = []
    encrypted = {r.inputs.get("bucket") for r in _of(resources, BUCKET_ENCRYPTION)}
    for bucket in _of(resources, BUCKET):
        if bucket.id not in encrypted:
            found.append(Violation("encryption-at-rest", bucket.name, "has no default encryption"))
    for database in _of(resources, RDS_INSTANCE):
        if database.inputs.get("storageEncrypted") is not True:
            found.append(Violation("encryption-at-rest", database.name, "storage is not encrypted"))
    for repository in _of(resources, ECR_REPOSITORY):
        if not repository.inputs.get("encryptionConfigurations"):
            found.append(Violation("encryption-at-rest", repository.name, "has no encryption configuration"))
    return found


def private_databases(resources: list[Resource], env: str) -> list[Violation]:
    """No database is publicly accessible."""
    return [
        Violation("private-databases", r.name, "is publicly accessible")
        for r in _of(resources, RDS_INSTANCE)
        if r.inputs.get("publiclyAccessible") is not False
    ]


def prod_data_protection(resources: list[Resource], env: str) -> list[Violation]:
    """In prod: databases have deletion protection and a final snapshot; buckets are versioned and not force-destroyed."""
    if env != "prod":
        return []
    found = []
    for database in _of(resources, RDS_INSTANCE):
        if database.inputs.get("deletionProtection") is not True:
            found.append(Violation("prod-data-protection", database.name, "has no deletion protection"))
        if database.inputs.get("skipFinalSnapshot") is not False:
            found.append(Violation("prod-data-protection", database.name, "skips the final snapshot"))
    versioned = {r.inputs.get("bucket") for r in _of(resources, BUCKET_VERSIONING)}
    for bucket in _of(resources, BUCKET):
        if bucket.inputs.get("forceDestroy"):
            found.append(Violation("prod-data-protection", bucket.name, "has force_destroy on"))
        if bucket.id not in versioned:
            found.append(Violation("prod-data-protection", bucket.name, "is not versioned"))
    return found


def stack_tags(resources: list[Resource], env: str) -> list[Violation]:
    """Every taggable AWS resource carries the provisioner:stack, :env and :recipe tags."""
    found = []
    for resource in resources:
        if not resource.type.startswith("aws:") or resource.type in UNTAGGABLE:
            continue
        tags = resource.inputs.get("tags") or {}
        missing = [key for key in REQUIRED_TAGS if key not in tags]
        if missing:
            found.append(Violation("stack-tags", resource.name, f"lacks tags {', '.join(missing)}"))
    return found


CHECKS: tuple[Callable[[list[Resource], str], list[Violation]], ...] = (
    no_wildcard_actions,
    no_broad_managed_policies,
    no_public_buckets,
    encryption_at_rest,
    private_databases,
    prod_data_protection,
    stack_tags,
)


def run_guardrails(resources: list[Resource], env: str) -> list[Violation]:
    """Every violation of every check."""
    return [violation for check in CHECKS for violation in check(resources, env)]
