"""The guardrails through pulumi-policy's own types: each validate function reports what it must, and
the simulated engine refuses a resource that breaks one."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi_policy import ResourceValidationArgs

from provisioner.guardrails import RULES, STACK_RULES
from provisioner.policy_pack import policies, stack_validation, validation
from provisioner.recipe_api import TAG_ENV

RULE = {rule.name: rule for rule in RULES}


def _validate(rule_name: str, resource_type: str, props: dict[str, Any]) -> list[str]:
    reported: list[str] = []
    args = ResourceValidationArgs(resource_type, props, f"urn:pulumi:dev::p::{resource_type}::r", "r", None, None)  # type: ignore[arg-type]
    validation(RULE[rule_name])(args, lambda message, urn=None: reported.append(message))
    return reported


WILDCARD = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:*"], "Resource": "*"}]})


@pytest.mark.parametrize(
    ("rule", "resource_type", "props", "expected"),
    [
        pytest.param("no-wildcard-actions", "aws:iam/rolePolicy:RolePolicy", {"policy": WILDCARD},
                     ["aws:iam/rolePolicy:RolePolicy r: allows the wildcard action 's3:*'"], id="wildcard-action"),
        pytest.param("no-public-buckets", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                     {"blockPublicAcls": True, "blockPublicPolicy": False, "ignorePublicAcls": True, "restrictPublicBuckets": True},
                     ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock r: leaves public access open: blockPublicPolicy not set"],
                     id="public-bucket"),
        pytest.param("no-public-buckets", "gcp:storage/bucketIAMMember:BucketIAMMember", {"member": "allUsers", "role": "roles/storage.objectViewer"},
                     ["gcp:storage/bucketIAMMember:BucketIAMMember r: grants allUsers"], id="public-gcs-member"),
        pytest.param("no-authoritative-bindings", "gcp:projects/iAMBinding:IAMBinding", {"role": "roles/editor", "members": ["user:a@b.c"]},
                     ["gcp:projects/iAMBinding:IAMBinding r: IAMBinding is authoritative: it removes every member it does not name (use an IAMMember)"],
                     id="authoritative-binding"),
    ],
)
def test_each_policy_reports_its_violation(rule: str, resource_type: str, props: dict[str, Any], expected: list[str]) -> None:
    assert _validate(rule, resource_type, props) == expected


@pytest.mark.parametrize(
    ("rule", "resource_type", "props"),
    [
        pytest.param("no-wildcard-actions", "aws:iam/rolePolicy:RolePolicy",
                     {"policy": json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]})}, id="named-action"),
        pytest.param("no-authoritative-bindings", "gcp:projects/iAMMember:IAMMember", {"role": "roles/viewer", "member": "user:a@b.c"}, id="member"),
        pytest.param("no-public-buckets", "gcp:storage/bucket:Bucket", {"publicAccessPrevention": "enforced", "uniformBucketLevelAccess": True}, id="private-gcs"),
    ],
)
def test_each_policy_passes_what_it_allows(rule: str, resource_type: str, props: dict[str, Any]) -> None:
    assert _validate(rule, resource_type, props) == []


def test_the_pack_has_one_mandatory_policy_per_guardrail() -> None:
    from pulumi_policy import EnforcementLevel

    pack = policies()

    assert [p.name for p in pack] == [rule.name for rule in RULES] + [f"stack-{rule.name}" for rule in STACK_RULES]
    assert {p.enforcement_level for p in pack} == {EnforcementLevel.MANDATORY}


def _validate_stack(rule_name: str, resources: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    """Run a stack policy's validate function on PolicyResource-shaped resources, as the Pulumi CLI would."""
    from types import SimpleNamespace

    rule = next(r for r in STACK_RULES if r.name == rule_name)
    args = SimpleNamespace(resources=[SimpleNamespace(resource_type=t, name=n, props=p) for t, n, p in resources])
    reported: list[str] = []
    stack_validation(rule)(args, reported.append)
    return reported


PROD = {"tags": {TAG_ENV: "prod"}}


def test_stack_policies_catch_a_bucket_without_its_public_access_block_and_unprotected_prod_data() -> None:
    bucket = ("aws:s3/bucket:Bucket", "artifacts", {"bucket": "artifacts-1", **PROD})
    block = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "block", {"bucket": "artifacts-1"})
    database = ("aws:rds/instance:Instance", "db", {"deletionProtection": False, "skipFinalSnapshot": True, **PROD})

    assert _validate_stack("no-public-buckets", [bucket]) == ["artifacts: has no public access block"]
    assert _validate_stack("no-public-buckets", [bucket, block]) == []
    assert _validate_stack("prod-data-protection", [bucket, database]) == [
        "db: has no deletion protection", "db: skips the final snapshot", "artifacts: is not versioned",
    ]
    staging = ("aws:rds/instance:Instance", "db", {"deletionProtection": False, "tags": {TAG_ENV: "staging"}})
    assert _validate_stack("prod-data-protection", [staging]) == []


def test_the_simulated_engine_refuses_a_resource_that_breaks_a_guardrail_before_creating_it(aws_endpoint: str) -> None:
    import boto3

    from provisioner.config import DeployRequest
    from provisioner.engine.base import NullSink, ResourcesFailedError
    from provisioner.engine.simulated import SimulatedEngine
    from provisioner.recipe_api import ProviderPlugin, Recipe, RecipeArgs, RecipeContext

    class Args(RecipeArgs):
        pass

    class Careless(Recipe):
        name = "careless"
        args_model = Args
        presets = {"dev": {}}
        plugins = (ProviderPlugin("aws", "pulumi-aws"),)

        def program(self, args: RecipeArgs, context: RecipeContext) -> None:
            import pulumi_aws as aws

            aws.iam.Role("runner", assume_role_policy=json.dumps({"Statement": []}), tags=context.tags)
            aws.iam.RolePolicy("everything", role="runner", policy=WILDCARD)

    request = DeployRequest(recipe="careless", env="dev", stack_name="careless-dev", region="eu-west-1", backend=None, args={})

    with pytest.raises(ResourcesFailedError, match="guardrail no-wildcard-actions: allows the wildcard action 's3:\\*'"):
        SimulatedEngine().up(request, Careless(), Args(), preview=False, sink=NullSink())

    iam = boto3.client("iam", region_name="eu-west-1")
    inline = {r["RoleName"]: iam.list_role_policies(RoleName=r["RoleName"])["PolicyNames"] for r in iam.list_roles()["Roles"]}
    assert all(names == [] for names in inline.values()), inline  # the wildcard policy was never created
