"""The AWS recipe under mocks backed by moto: presets, guardrails, consistency, bring-your-own VPC."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from provisioner.config import resolve_request
from provisioner.engine.simulated import aws_emulation
from provisioner.errors import InputError
from provisioner.facts import eks, today
from provisioner.guardrails import StackResource as Resource
from provisioner.guardrails import stack_violations as run_guardrails
from recipes.aws import AwsRecipe, defaults
from recipes.aws.policies import irsa_trust, subnet_cidrs
from tests.recipes.mocks import RecordingMocks, run_recipe

ENVS = ["dev", "staging", "prod"]


def _run(env: str, *sets: str) -> tuple[RecordingMocks, dict[str, Any]]:
    recipe = AwsRecipe()
    request, args = resolve_request(recipe, env=env, sets=list(sets))
    with aws_emulation(request.region or defaults.DEFAULT_REGION):
        return run_recipe(recipe, args, request.context(simulated=True))


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[RecordingMocks, dict[str, Any]]]:
    return {env: _run(env) for env in ENVS}


def _resources(mocks: RecordingMocks) -> list[Resource]:
    return [Resource(r.type, r.name, r.resource_id, r.inputs) for r in mocks.resources]


@pytest.mark.parametrize("env", ENVS)
def test_node_groups_follow_the_preset_table(runs: dict[str, Any], env: str) -> None:
    mocks, _ = runs[env]
    preset = defaults.PRESETS[env]

    groups = mocks.of_type("aws:eks/nodeGroup:NodeGroup")

    assert len(groups) == 1
    group = groups[0].inputs
    nodes = preset["cluster"]["nodes"]
    assert group["instanceTypes"] == [nodes["instance_type"]]
    assert group["scalingConfig"] == {"desiredSize": nodes["desired"], "minSize": nodes["min"], "maxSize": nodes["max"]}
    assert group["capacityType"] == ("SPOT" if nodes["spot"] else "ON_DEMAND")


@pytest.mark.parametrize(("env", "nat_count", "az_count"), [("dev", 1, 2), ("staging", 1, 2), ("prod", 3, 3)])
def test_nat_gateways_and_zones_follow_the_preset_table(runs: dict[str, Any], env: str, nat_count: int, az_count: int) -> None:
    mocks, _ = runs[env]

    assert len(mocks.of_type("aws:ec2/natGateway:NatGateway")) == nat_count
    subnets = mocks.of_type("aws:ec2/subnet:Subnet")
    assert len(subnets) == 2 * az_count
    assert len({s.inputs["availabilityZone"] for s in subnets}) == az_count


def test_database_settings_follow_the_preset_table(runs: dict[str, Any]) -> None:
    assert not runs["dev"][0].of_type("aws:rds/instance:Instance")
    for env in ("staging", "prod"):
        preset = defaults.PRESETS[env]["database"]
        (database,) = runs[env][0].of_type("aws:rds/instance:Instance")
        assert database.inputs["instanceClass"] == preset["instance_class"]
        assert database.inputs["allocatedStorage"] == preset["storage_gb"]
        assert database.inputs["maxAllocatedStorage"] == preset["max_storage_gb"]
        assert database.inputs["backupRetentionPeriod"] == preset["backup_retention_days"]
        assert database.inputs["multiAz"] == preset["high_availability"]
        assert database.inputs["deletionProtection"] == preset["deletion_protection"]
        assert database.inputs["publiclyAccessible"] is False and database.inputs["storageEncrypted"] is True
    assert runs["prod"][0].of_type("aws:rds/instance:Instance")[0].inputs["finalSnapshotIdentifier"]


def test_bucket_logging_and_registry_settings_follow_the_preset_table(runs: dict[str, Any]) -> None:
    for env in ENVS:
        mocks, _ = runs[env]
        preset = defaults.PRESETS[env]
        (bucket,) = mocks.of_type("aws:s3/bucket:Bucket")
        assert bucket.inputs["forceDestroy"] == preset["bucket"]["force_destroy"]
        assert bool(mocks.of_type("aws:s3/bucketVersioning:BucketVersioning")) == preset["bucket"]["versioning"]
        (cluster,) = mocks.of_type("aws:eks/cluster:Cluster")
        assert bool(cluster.inputs.get("enabledClusterLogTypes")) == preset["cluster"]["control_plane_logging"]
        assert cluster.inputs["version"] == eks.default_version(today())  # resolved at deploy time, here from the facts
        (repository,) = mocks.of_type("aws:ecr/repository:Repository")
        assert repository.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
        assert repository.inputs["imageTagMutability"] == ("IMMUTABLE" if preset["registry"]["immutable_tags"] else "MUTABLE")
        (lifecycle,) = mocks.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")
        rule = json.loads(lifecycle.inputs["policy"])["rules"][0]
        assert rule["selection"]["tagStatus"] == "untagged"
        assert rule["selection"]["countNumber"] == preset["registry"]["untagged_expiry_days"]


@pytest.mark.parametrize("env", ENVS)
def test_guardrails_pass_for_every_env(runs: dict[str, Any], env: str) -> None:
    mocks, _ = runs[env]

    assert run_guardrails(_resources(mocks), env) == []


def _break(resources: list[Resource], resource_type: str, **changes: Any) -> list[Resource]:
    broken = []
    done = False
    for resource in resources:
        if resource.type == resource_type and not done:
            resource = replace(resource, props={**resource.props, **changes})
            done = True
        broken.append(resource)
    assert done, resource_type
    return broken


def _without(resources: list[Resource], resource_type: str) -> list[Resource]:
    return [r for r in resources if r.type != resource_type]


PUBLIC_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]})
WILDCARD_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
BROKEN = [
    pytest.param("no-wildcard-actions", lambda r: _break(r, "aws:iam/rolePolicy:RolePolicy", policy=WILDCARD_POLICY), id="wildcard-action"),
    pytest.param("no-broad-managed-policies", lambda r: _break(r, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", policyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess"), id="full-access-policy"),
    pytest.param("no-public-buckets", lambda r: _break(r, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", blockPublicPolicy=False), id="public-access-block-off"),
    pytest.param("no-public-buckets", lambda r: _without(r, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"), id="no-public-access-block"),
    pytest.param("encryption-at-rest", lambda r: _without(r, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"), id="bucket-unencrypted"),
    pytest.param("encryption-at-rest", lambda r: _break(r, "aws:rds/instance:Instance", storageEncrypted=False), id="database-unencrypted"),
    pytest.param("private-databases", lambda r: _break(r, "aws:rds/instance:Instance", publiclyAccessible=True), id="public-database"),
    pytest.param("prod-data-protection", lambda r: _break(r, "aws:rds/instance:Instance", deletionProtection=False), id="unprotected-database"),
    pytest.param("prod-data-protection", lambda r: _break(r, "aws:s3/bucket:Bucket", forceDestroy=True), id="force-destroyed-bucket"),
    pytest.param("no-public-buckets", lambda r: _break(r, "aws:s3/bucketPolicy:BucketPolicy", policy=PUBLIC_POLICY), id="public-bucket-policy"),
    pytest.param("no-public-buckets", lambda r: _break(r, "aws:s3/bucket:Bucket", acl="public-read"), id="public-acl"),
    pytest.param("encryption-at-rest", lambda r: _break(r, "aws:ecr/repository:Repository", encryptionConfigurations=[]), id="repository-unencrypted"),
    pytest.param("prod-data-protection", lambda r: _break(r, "aws:rds/instance:Instance", skipFinalSnapshot=True), id="no-final-snapshot"),
    pytest.param("prod-data-protection", lambda r: _without(r, "aws:s3/bucketVersioning:BucketVersioning"), id="unversioned-bucket"),
]


@pytest.mark.parametrize(("check", "breaker"), BROKEN)
def test_each_guardrail_fails_on_its_broken_counterpart(runs: dict[str, Any], check: str, breaker: Any) -> None:
    resources = breaker(_resources(runs["prod"][0]))

    violations = run_guardrails(resources, "prod")

    assert {v.rule for v in violations} == {check}
    assert len(violations) == 1, violations


def test_policies_name_the_bucket_and_the_oidc_issuer_moto_reports(runs: dict[str, Any]) -> None:
    mocks, exports = runs["staging"]
    (bucket,) = mocks.of_type("aws:s3/bucket:Bucket")
    (cluster,) = mocks.of_type("aws:eks/cluster:Cluster")
    issuer = cluster.outputs["identities"][0]["oidcs"][0]["issuer"]
    (provider,) = mocks.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")

    pipelines_policy = mocks.named("aws-staging-roles-pipelines-policy").inputs["policy"]
    assert bucket.outputs["arn"] in pipelines_policy
    trust = json.loads(mocks.named("aws-staging-roles-pipelines").inputs["assumeRolePolicy"])
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    assert f"{issuer.removeprefix('https://')}:sub" in condition
    assert trust["Statement"][0]["Principal"]["Federated"] == provider.outputs["arn"]
    assert provider.inputs["url"] == issuer
    assert exports["bucket_name"] == bucket.outputs["bucket"]


def test_existing_vpc_is_reused_and_no_network_is_created() -> None:
    import boto3

    recipe = AwsRecipe()
    with aws_emulation(defaults.DEFAULT_REGION):
        ec2 = boto3.client("ec2", region_name=defaults.DEFAULT_REGION)
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        zones = [f"{defaults.DEFAULT_REGION}a", f"{defaults.DEFAULT_REGION}b"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=zones[i % 2])["Subnet"]["SubnetId"] for i in range(4)]
        request, args = resolve_request(
            recipe, env="staging",
            sets=[
                f"network.vpc_id={vpc}", f"network.private_subnet_ids=[{subnets[0]}, {subnets[1]}]",
                f"network.public_subnet_ids=[{subnets[2]}, {subnets[3]}]",
            ],
        )
        mocks, exports = run_recipe(recipe, args, request.context(simulated=True))

    created = {r.type for r in mocks.resources}
    for network_type in ("aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/natGateway:NatGateway", "aws:ec2/internetGateway:InternetGateway"):
        assert network_type not in created
    (group,) = mocks.of_type("aws:eks/nodeGroup:NodeGroup")
    assert group.inputs["subnetIds"] == subnets[:2]
    assert exports["vpc_id"] == vpc


def test_gpu_node_group_is_off_by_default_and_tainted_when_on() -> None:
    mocks, _ = _run("dev", "cluster.gpu_nodes.enabled=true")

    gpu = [g for g in mocks.of_type("aws:eks/nodeGroup:NodeGroup") if g.name.endswith("gpu-nodes")]
    assert len(gpu) == 1
    assert gpu[0].inputs["taints"][0]["key"] == "nvidia.com/gpu"


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        pytest.param(["cluster.nodes.min=3", "cluster.nodes.desired=2"], r"need min <= desired <= max \(got 3, 2, 2\)", id="nodes-out-of-order"),
        pytest.param(["cluster.gpu_nodes.max=1", "cluster.gpu_nodes.desired=2"], r"need min <= desired <= max \(got 0, 2, 1\)", id="gpu-out-of-order"),
        pytest.param(["network.cidr=10.0.0.0/24"], "too small", id="small-vpc"),
        pytest.param(["network.vpc_id=vpc-1"], r"at least 2 private subnets, in different AZs, for EKS \(got 0\)", id="byo-vpc-without-subnets"),
        pytest.param(["network.az_count=5"], "az_count", id="too-many-zones"),
        pytest.param(["database.storage_gb=200", "database.max_storage_gb=100"], "need storage_gb <= max_storage_gb", id="db-ceiling"),
        pytest.param(
            ["mlflow.replicas=2"],
            r"^invalid settings for recipe 'aws': mlflow.replicas=2 needs a database \(database.enabled, or mlflow.backend_store_uri\)",
            id="replicas-on-sqlite",
        ),
        pytest.param(["node_instance_type=m5.large"], r"^--set node_instance_type: 'node_instance_type' is now 'cluster.nodes.instance_type' \(renamed in provisioner 0.3\)$", id="renamed-key"),
        pytest.param(["database.multi_az=true"], r"'multi_az' is now 'high_availability'", id="renamed-nested-key"),
    ],
)
def test_bad_aws_settings_are_refused_at_resolution(sets: list[str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        resolve_request(AwsRecipe(), env="dev", sets=sets)


def test_subnet_cidrs_split_the_vpc_per_zone() -> None:
    public, private = subnet_cidrs("10.40.0.0/16", 3)

    assert public == ["10.40.0.0/20", "10.40.16.0/20", "10.40.32.0/20"]
    assert private == ["10.40.128.0/20", "10.40.144.0/20", "10.40.160.0/20"]
    with pytest.raises(ValueError, match="too small"):
        subnet_cidrs("10.0.0.0/24", 2)


def test_irsa_trust_is_limited_to_one_service_account() -> None:
    trust = irsa_trust("arn:aws:iam::1:oidc-provider/oidc.eks/x", "https://oidc.eks/x", "ml-pipelines", "runner")

    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    assert condition == {"oidc.eks/x:sub": "system:serviceaccount:ml-pipelines:runner", "oidc.eks/x:aud": "sts.amazonaws.com"}
