"""The sweep reads every page of every list call, and reports what it could not read instead of skipping it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from provisioner.teardown.aws_sweep import AwsSweeper, SweepScope

REGION = "eu-west-1"
OURS = "a" * 26
THEIRS = "b" * 26
# moto honours page sizes on these calls (it ignores them on most EC2 and ECR describes).
COVERED = {"ListRoles", "DescribeLoadBalancers"}


@pytest.fixture()
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _tags(deployment: str) -> list[dict[str, str]]:
    return [{"Key": "provisioner:stack", "Value": "aws-dev"}, {"Key": "provisioner:deployment", "Value": deployment}]


def _make(count: int) -> None:
    iam = boto3.client("iam", region_name=REGION)
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"] for i, z in enumerate("ab")]
    elbv2 = boto3.client("elbv2", region_name=REGION)
    for index in range(count):
        for deployment in (OURS, THEIRS):
            iam.create_role(RoleName=f"role-{deployment[0]}-{index}", AssumeRolePolicyDocument="{}", Tags=_tags(deployment))
            elbv2.create_load_balancer(Name=f"lb-{deployment[0]}-{index}", Subnets=subnets, Type="network", Tags=_tags(deployment))


def _count_calls(sweeper: AwsSweeper) -> Counter[str]:
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    for service in ("ec2", "elbv2", "elb", "eks", "rds", "s3", "ecr", "iam", "resourcegroupstaggingapi"):
        sweeper._client(service).meta.events.register("before-call", count)
    return calls


def test_the_sweep_fetches_every_page_and_finds_all_of_ours_and_none_of_theirs(aws: None) -> None:
    _make(6)
    sweeper = AwsSweeper(SweepScope("aws-dev", OURS), REGION, page_size=5)
    calls = _count_calls(sweeper)

    found = sweeper.find()

    assert {name: calls[name] for name in COVERED} == {"ListRoles": 3, "DescribeLoadBalancers": 4}  # 12 roles, 12 LBs: 5+5+2; and elb's own
    assert sorted(item.id for item in found if item.kind == "iam-role") == sorted(f"role-a-{i}" for i in range(6))
    assert len([item for item in found if item.kind == "load-balancer"]) == 6
    assert {item.deployment for item in found} == {OURS}


def test_a_bucket_whose_tags_cannot_be_read_is_reported_unreadable_never_skipped(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="locked-bucket", CreateBucketConfiguration={"LocationConstraint": REGION})
    sweeper = AwsSweeper(SweepScope("aws-dev", OURS), REGION)
    client = sweeper._client("s3")

    def refuse(**_: Any) -> None:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetBucketTagging")

    monkeypatch.setattr(client, "get_bucket_tagging", refuse)

    found = sweeper.find()

    assert [(item.kind, item.id) for item in found] == [("unreadable", "locked-bucket")]
    result = sweeper.sweep(delete_data=True, max_rounds=1)
    assert [(item.kind, item.id) for item in result.remaining] == [("unreadable", "locked-bucket")]
    assert result.deleted == []
    assert s3.list_buckets()["Buckets"][0]["Name"] == "locked-bucket"
