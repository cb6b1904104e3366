"""`deploy-stack aws` end to end with --simulate on a moto server: what moto holds is what was registered."""

from __future__ import annotations

from pathlib import Path

import json

import boto3
import pytest

from tests.helpers import cli_json, deploy_cli, destroy_cli, registry_rows, s3_buckets

pytestmark = pytest.mark.usefixtures("aws_endpoint")
REGION = "eu-west-1"


@pytest.fixture()
def staging() -> dict[str, object]:
    result = deploy_cli("aws", "--env", "staging", "--simulate", "--output", "json")
    assert result.exit_code == 0, result.stderr
    outcome: dict[str, object] = json.loads(result.stdout)
    return outcome


def test_staging_registers_the_mapped_components_and_connector(staging: dict[str, object]) -> None:
    stack = cli_json("stack", "describe", "aws-staging")

    flavors = {t: c["flavor"] for t, c in stack["components"].items()}
    assert flavors == {
        "orchestrator": "kubernetes",
        "artifact_store": "s3",
        "container_registry": "aws",
        "experiment_tracker": "mlflow",
        "model_registry": "mlflow",
        "step_operator": "sagemaker",
        "image_builder": "aws",
    }
    connector = stack["components"]["artifact_store"]["connector"]
    assert connector["name"] == "aws-staging-aws" and connector["auth_method"] == "iam-role"
    assert connector["env"] == "staging"
    for component_type in ("orchestrator", "artifact_store", "container_registry", "step_operator", "image_builder"):
        assert stack["components"][component_type]["connector"]["name"] == "aws-staging-aws"
    assert stack["components"]["experiment_tracker"]["config"]["tracking_password"].startswith("{{secret:")


def test_registered_configs_point_at_what_moto_holds(staging: dict[str, object]) -> None:
    stack = cli_json("stack", "describe", "aws-staging")
    components = stack["components"]
    eks = boto3.client("eks", region_name=REGION)
    iam = boto3.client("iam", region_name=REGION)

    assert components["artifact_store"]["config"]["path"] == f"s3://{s3_buckets()[0]}"
    repositories = boto3.client("ecr", region_name=REGION).describe_repositories()["repositories"]
    assert [r["repositoryUri"] for r in repositories] == [components["container_registry"]["config"]["uri"]]
    cluster_name = components["orchestrator"]["config"]["kubernetes_context"]
    assert eks.list_clusters()["clusters"] == [cluster_name]
    assert len(eks.list_nodegroups(clusterName=cluster_name)["nodegroups"]) == 1
    role_arns = {r["Arn"] for r in iam.list_roles()["Roles"]}
    assert components["step_operator"]["config"]["role"] in role_arns
    assert components["artifact_store"]["connector"]["configuration"]["role_arn"] in role_arns
    (database,) = boto3.client("rds", region_name=REGION).describe_db_instances()["DBInstances"]
    assert database["PubliclyAccessible"] is False and database["StorageEncrypted"] is True


def test_every_moto_resource_carries_the_stack_tags(staging: dict[str, object]) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    tagged = ec2.describe_tags(Filters=[{"Name": "tag:provisioner:stack", "Values": ["aws-staging"]}])["Tags"]
    kinds = {t["ResourceType"] for t in tagged}

    assert {"vpc", "subnet", "internet-gateway", "route-table", "security-group"} <= kinds
    (nat,) = ec2.describe_nat_gateways(Filter=[{"Name": "state", "Values": ["available"]}])["NatGateways"]
    assert {"Key": "provisioner:stack", "Value": "aws-staging"} in nat["Tags"]
    bucket_tags = boto3.client("s3").get_bucket_tagging(Bucket=s3_buckets()[0])["TagSet"]
    assert {"Key": "provisioner:env", "Value": "staging"} in bucket_tags


def test_prod_plan_lists_resources_and_creates_nothing() -> None:
    result = deploy_cli("aws", "--env", "prod", "--plan", "--simulate", "--output", "json")

    assert result.exit_code == 0, result.stderr
    outcome = json.loads(result.stdout)
    types = {r["type"] for r in outcome["resources"]}
    assert {"aws:eks/cluster:Cluster", "aws:rds/instance:Instance", "aws:s3/bucket:Bucket", "aws:ecr/repository:Repository"} <= types
    assert sum(1 for r in outcome["resources"] if r["type"] == "aws:ec2/natGateway:NatGateway") == 3
    assert s3_buckets() == []
    assert boto3.client("eks", region_name=REGION).list_clusters()["clusters"] == []
    assert all(rows == [] for rows in registry_rows().values())


def test_dev_deploy_then_destroy_leaves_moto_and_registry_empty() -> None:
    from tests.scenarios.inventory import resources_by_deployment

    assert deploy_cli("aws", "--env", "dev", "--simulate").exit_code == 0
    deployed = resources_by_deployment()
    # One deployment; the tagged resources of a dev stack that the inventory reads: 1 VPC, 4 subnets, 1 security
    # group, 1 internet gateway, 1 EIP, 1 NAT, 3 route tables, 1 bucket, 1 cluster, 1 node group, 1 ECR repo,
    # 8 IAM roles (the EBS CSI driver's and the CodeBuild project's among them), 1 OIDC provider. The CodeBuild
    # project and its log group are synthesized, not in moto.
    assert list(deployed.values()) == [25]

    result = destroy_cli("aws", "--env", "dev", "--simulate", "--yes")

    assert result.exit_code == 0, result.stderr
    assert resources_by_deployment() == {}  # read by an inventory of its own, every service the recipe uses
    assert s3_buckets() == []
    assert boto3.client("eks", region_name=REGION).list_clusters()["clusters"] == []
    assert [v["VpcId"] for v in boto3.client("ec2", region_name=REGION).describe_vpcs()["Vpcs"] if not v["IsDefault"]] == []
    assert all(rows == [] for rows in registry_rows().values())


def test_a_real_aws_deploy_without_the_pulumi_cli_exits_2_with_the_hint_and_creates_nothing(tmp_path: Path) -> None:
    import os

    from provisioner.engine.pulumi import INSTALL_HINT

    os.environ["PATH"] = str(tmp_path)
    home = Path(os.environ["PROVISIONER_HOME"])

    result = deploy_cli("aws", "--env", "staging")

    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"error: {INSTALL_HINT}"]
    assert not (home / "state").exists() and not (home / "pulumi").exists()  # no Pulumi stack, no workspace
    assert s3_buckets() == []  # nothing created in the emulator either
    assert all(rows == [] for rows in registry_rows().values())


def test_unknown_region_exits_2_before_anything_is_created() -> None:
    result = deploy_cli("aws", "--env", "dev", "--region", "mars-north-1", "--simulate")

    assert result.exit_code == 2
    assert "unknown region 'mars-north-1'" in result.stderr
    assert s3_buckets() == []
    assert all(rows == [] for rows in registry_rows().values())
