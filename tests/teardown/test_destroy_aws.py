"""destroy-stack aws with --simulate: what Kubernetes left behind, retries, data retention, leftovers.

Runs on a moto server (AWS) and kmock (the cluster's API)."""

from __future__ import annotations

import json
import os
import time

import boto3
import pytest

from provisioner.teardown.flow import SIMULATED_KUBE_API_ENV
from tests.helpers import cli_json, deploy_cli, destroy_cli, registry_rows, s3_buckets
from tests.teardown.kube_objects import claim, core_for, namespace, service

pytestmark = pytest.mark.usefixtures("aws_endpoint")
REGION = "eu-west-1"
STACK_TAG = "provisioner:stack"


@pytest.fixture()
def cluster_api(kube_api: str) -> str:
    """The simulated cluster's API: destroy-stack --simulate cleans it up first."""
    os.environ[SIMULATED_KUBE_API_ENV] = kube_api
    return kube_api


def _kubernetes_leftovers_in_aws(stack: str) -> dict[str, str]:
    """What a LoadBalancer Service and a PVC make on AWS, tagged for the cluster as Kubernetes does."""
    ec2 = boto3.client("ec2", region_name=REGION)
    tag = [{"Key": f"kubernetes.io/cluster/{stack}", "Value": "owned"}]
    subnets = ec2.describe_subnets(Filters=[{"Name": f"tag:{STACK_TAG}", "Values": [stack]}, {"Name": "tag-key", "Values": ["kubernetes.io/role/internal-elb"]}])["Subnets"]
    subnet_ids = [s["SubnetId"] for s in subnets]
    balancer = boto3.client("elbv2", region_name=REGION).create_load_balancer(
        Name=f"k8s-{stack}-mlflow", Subnets=subnet_ids, Type="network", Scheme="internal", Tags=tag
    )["LoadBalancers"][0]["LoadBalancerArn"]
    volume = ec2.create_volume(
        AvailabilityZone=subnets[0]["AvailabilityZone"], Size=20, TagSpecifications=[{"ResourceType": "volume", "Tags": tag}]
    )["VolumeId"]
    interface = ec2.create_network_interface(
        SubnetId=subnet_ids[0], TagSpecifications=[{"ResourceType": "network-interface", "Tags": tag}]
    )["NetworkInterface"]["NetworkInterfaceId"]
    return {"load_balancer": balancer, "volume": volume, "interface": interface}


def _tagged_in_moto(stack: str) -> list[str]:
    """Every resource moto still holds that is tagged for the stack or its cluster (checked per service)."""
    ec2 = boto3.client("ec2", region_name=REGION)
    found: list[str] = []
    for filters in ([{"Name": f"tag:{STACK_TAG}", "Values": [stack]}], [{"Name": "tag-key", "Values": [f"kubernetes.io/cluster/{stack}"]}]):
        found += [v["VpcId"] for v in ec2.describe_vpcs(Filters=filters)["Vpcs"]]
        found += [s["SubnetId"] for s in ec2.describe_subnets(Filters=filters)["Subnets"]]
        found += [g["GroupId"] for g in ec2.describe_security_groups(Filters=filters)["SecurityGroups"]]
        found += [i["NetworkInterfaceId"] for i in ec2.describe_network_interfaces(Filters=filters)["NetworkInterfaces"]]
        found += [v["VolumeId"] for v in ec2.describe_volumes(Filters=filters)["Volumes"]]
        found += [g["InternetGatewayId"] for g in ec2.describe_internet_gateways(Filters=filters)["InternetGateways"]]
        found += [a["AllocationId"] for a in ec2.describe_addresses(Filters=filters)["Addresses"]]
        found += [n["NatGatewayId"] for n in ec2.describe_nat_gateways(Filter=filters)["NatGateways"] if n["State"] != "deleted"]
        found += [r["RouteTableId"] for r in ec2.describe_route_tables(Filters=filters)["RouteTables"]]
    elbv2 = boto3.client("elbv2", region_name=REGION)
    found += [lb["LoadBalancerArn"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]]
    found += s3_buckets()
    found += boto3.client("eks", region_name=REGION).list_clusters()["clusters"]
    found += [d["DBInstanceIdentifier"] for d in boto3.client("rds", region_name=REGION).describe_db_instances()["DBInstances"]]
    found += [r["repositoryName"] for r in boto3.client("ecr", region_name=REGION).describe_repositories()["repositories"]]
    iam = boto3.client("iam", region_name=REGION)
    found += [r["RoleName"] for r in iam.list_roles()["Roles"] if any(t["Key"] == STACK_TAG for t in iam.list_role_tags(RoleName=r["RoleName"])["Tags"])]
    found += [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    return found


def test_destroy_removes_what_kubernetes_left_and_leaves_nothing(cluster_api: str) -> None:
    assert deploy_cli("aws", "--env", "staging", "--simulate").exit_code == 0
    made = _kubernetes_leftovers_in_aws("aws-staging")
    core = core_for(cluster_api)
    namespace(core, "mlflow")
    service(core, "mlflow", "mlflow-public")
    claim(core, "mlflow", "mlflow-data")

    result = destroy_cli("aws", "--env", "staging", "--simulate", "--yes")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert _tagged_in_moto("aws-staging") == []
    assert [s.metadata.name for s in core.list_namespaced_service("mlflow").items if s.spec.type == "LoadBalancer"] == []
    assert core.list_namespaced_persistent_volume_claim("mlflow").items == []
    assert all(rows == [] for rows in registry_rows().values())
    assert "Nothing of aws-staging is left" in result.stdout
    assert "Destroy attempt 1: failed" in result.stdout and "DependencyViolation" in result.stdout
    assert "Destroy attempt 2: ok" in result.stdout
    ec2 = boto3.client("ec2", region_name=REGION)
    assert ec2.describe_network_interfaces(Filters=[{"Name": "network-interface-id", "Values": [made["interface"]]}])["NetworkInterfaces"] == []
    assert ec2.describe_volumes(Filters=[{"Name": "volume-id", "Values": [made["volume"]]}])["Volumes"] == []
    assert boto3.client("elbv2", region_name=REGION).describe_load_balancers()["LoadBalancers"] == []


def test_a_deploy_that_failed_halfway_is_destroyed_fully() -> None:
    os.environ["PROVISIONER_SIMULATE_FAIL"] = "aws-staging-mlflow-db-postgres"
    failed = deploy_cli("aws", "--env", "staging", "--simulate")
    assert failed.exit_code == 1 and "aws-staging-mlflow-db-postgres" in failed.stderr
    del os.environ["PROVISIONER_SIMULATE_FAIL"]
    assert _tagged_in_moto("aws-staging") != []

    result = destroy_cli("aws", "--env", "staging", "--simulate", "--yes")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert _tagged_in_moto("aws-staging") == []
    assert all(rows == [] for rows in registry_rows().values())


def test_prod_keeps_the_bucket_and_database_by_default_and_deletes_them_on_request() -> None:
    assert deploy_cli("aws", "--env", "prod", "--simulate", "--yes").exit_code == 0
    bucket = s3_buckets()[0]
    rds = boto3.client("rds", region_name=REGION)

    kept = destroy_cli("aws", "--env", "prod", "--simulate", "--yes", "--output", "json")

    assert kept.exit_code == 0, kept.stdout + kept.stderr
    report = json.loads(kept.stdout)["report"]
    kept_ids = {r["message"] for r in report["kept_resources"]}
    (database,) = rds.describe_db_instances()["DBInstances"]
    assert bucket in kept_ids and database["DBInstanceIdentifier"] in kept_ids
    assert s3_buckets() == [bucket]
    assert boto3.client("eks", region_name=REGION).list_clusters()["clusters"] == []
    assert cli_json("stack", "list") == []

    deleted = destroy_cli("aws", "--env", "prod", "--simulate", "--yes", "--delete-data")

    assert deleted.exit_code == 0, deleted.stdout + deleted.stderr
    assert s3_buckets() == []
    assert rds.describe_db_instances()["DBInstances"] == []
    assert _tagged_in_moto("aws-prod") == []


def test_keep_data_keeps_the_bucket_in_staging_too() -> None:
    assert deploy_cli("aws", "--env", "staging", "--simulate").exit_code == 0

    result = destroy_cli("aws", "--env", "staging", "--simulate", "--yes", "--keep-data")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert len(s3_buckets()) == 1
    assert "Kept" in result.stdout


def _deployment_id(stack: str) -> str:
    (entry,) = [s for s in cli_json("stack", "list") if s["name"] == stack]
    return str(entry["labels"]["deployment"])


def test_a_leftover_that_cannot_be_deleted_fails_the_destroy_with_a_report_and_never_hangs() -> None:
    assert deploy_cli("aws", "--env", "dev", "--simulate").exit_code == 0
    sns = boto3.client("sns", region_name=REGION)
    ours = [{"Key": STACK_TAG, "Value": "aws-dev"}, {"Key": "provisioner:deployment", "Value": _deployment_id("aws-dev")}]
    topic = sns.create_topic(Name="aws-dev-alerts", Tags=ours)["TopicArn"]
    # Same stack tag, another deployment: not ours, so neither reported as ours nor touched.
    sns.create_topic(Name="aws-dev-neighbour", Tags=[{"Key": STACK_TAG, "Value": "aws-dev"}, {"Key": "provisioner:deployment", "Value": "x" * 26}])
    started = time.monotonic()

    result = destroy_cli("aws", "--env", "dev", "--simulate", "--yes", "--output", "json")

    assert time.monotonic() - started < 60
    assert result.exit_code == 1
    remaining = json.loads(result.stdout)["report"]["remaining"]
    assert [(item["id"], item["monthly_cost"]) for item in remaining] == [(topic, None)]
    assert "still there" in result.stderr
    assert [s["name"] for s in cli_json("stack", "list")] == ["aws-dev"]  # the registry still tells what exists


def test_second_destroy_says_there_is_nothing_to_destroy() -> None:
    assert deploy_cli("aws", "--env", "dev", "--simulate").exit_code == 0
    assert destroy_cli("aws", "--env", "dev", "--simulate", "--yes").exit_code == 0

    again = destroy_cli("aws", "--env", "dev", "--simulate", "--yes")

    assert again.exit_code == 0
    assert "Nothing to destroy" in again.stdout


ORPHAN = "orphanorphanorphanorphan01"


def _tagged_vpc(cidr: str, deployment: str) -> str:
    ec2 = boto3.client("ec2", region_name=REGION)
    tags = [{"Key": STACK_TAG, "Value": "aws-dev"}, {"Key": "provisioner:env", "Value": "dev"}, {"Key": "provisioner:deployment", "Value": deployment}]
    return str(ec2.create_vpc(CidrBlock=cidr, TagSpecifications=[{"ResourceType": "vpc", "Tags": tags}])["Vpc"]["VpcId"])


def _vpc_exists(vpc: str) -> bool:
    return bool(boto3.client("ec2", region_name=REGION).describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Vpcs"])


def test_with_no_state_destroy_deletes_nothing_and_names_the_deployments_it_found() -> None:
    vpc = _tagged_vpc("10.7.0.0/16", ORPHAN)

    result = destroy_cli("aws", "--env", "dev", "--simulate", "--yes")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert _vpc_exists(vpc)
    assert "Nothing to destroy here" in result.stdout
    assert f"1 resource(s) carry the stack's tag with deployment id {ORPHAN}, env dev." in result.stdout
    assert f"--adopt DEPLOYMENT_ID" in result.stdout


def test_adopt_deletes_only_the_resources_of_that_deployment() -> None:
    orphan = _tagged_vpc("10.7.0.0/16", ORPHAN)
    other = _tagged_vpc("10.8.0.0/16", "y" * 26)

    result = destroy_cli("aws", "--env", "dev", "--simulate", "--yes", "--adopt", ORPHAN)

    assert result.exit_code == 0, result.stdout + result.stderr
    assert not _vpc_exists(orphan)
    assert _vpc_exists(other)
    assert f"Adopted deployment {ORPHAN} of aws-dev." in result.stdout


def test_adopt_refuses_a_malformed_id_before_anything_happens() -> None:
    vpc = _tagged_vpc("10.7.0.0/16", ORPHAN)

    result = destroy_cli("aws", "--env", "dev", "--simulate", "--yes", "--adopt", "ORPHAN; rm -rf /")

    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: --adopt takes a deployment id")
    assert _vpc_exists(vpc)


def test_adopt_refuses_a_deployment_of_another_stack_or_env() -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    tags = [{"Key": STACK_TAG, "Value": "team-b"}, {"Key": "provisioner:env", "Value": "dev"}, {"Key": "provisioner:deployment", "Value": ORPHAN}]
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": tags}])["Vpc"]["VpcId"]
    prod = _tagged_vpc("10.8.0.0/16", "p" * 26)
    ec2.create_tags(Resources=[prod], Tags=[{"Key": "provisioner:env", "Value": "prod"}])

    other_stack = destroy_cli("aws", "--env", "dev", "--simulate", "--yes", "--adopt", ORPHAN)
    other_env = destroy_cli("aws", "--env", "dev", "--simulate", "--yes", "--adopt", "p" * 26)

    assert other_stack.exit_code == 2
    assert other_stack.stderr.strip().splitlines()[-1] == (
        f"error: deployment {ORPHAN} belongs to stack team-b, not 'aws-dev': nothing was destroyed"
    )
    assert other_env.exit_code == 2 and "its tags say stack 'aws-dev' is env 'prod', not 'dev'" in other_env.stderr
    assert _vpc_exists(vpc) and _vpc_exists(prod)


def test_adopt_is_refused_where_the_stack_has_state() -> None:
    assert deploy_cli("aws", "--env", "dev", "--simulate").exit_code == 0

    result = destroy_cli("aws", "--env", "dev", "--simulate", "--yes", "--adopt", ORPHAN)

    assert result.exit_code == 2
    assert "this home has state for 'aws-dev': destroy it without --adopt" in result.stderr
    assert cli_json("stack", "list")[0]["name"] == "aws-dev"
