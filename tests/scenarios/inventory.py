"""An independent count of what moto holds, by the deployment id each resource is tagged with.

Written apart from the sweeper on purpose: the tests must not judge the sweep with its own eyes.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import boto3

REGION = "eu-west-1"
DEPLOYMENT_TAG = "provisioner:deployment"


def _tags(items: Any) -> dict[str, str]:
    if isinstance(items, dict):
        return {str(k): str(v) for k, v in items.items()}
    return {t.get("Key", t.get("key")): t.get("Value", t.get("value")) for t in items or []}


def resources_by_deployment() -> Counter[str]:
    """How many live resources carry each deployment id, across every service the recipes use."""
    return Counter(deployment for _id, deployment in tagged_resources())


def tagged_resources() -> list[tuple[str, str]]:
    """(resource id, deployment id) of every live resource tagged with a deployment id."""
    found: list[tuple[str, dict[str, str]]] = []
    ec2 = boto3.client("ec2", region_name=REGION)
    found += [(v["VpcId"], _tags(v.get("Tags"))) for v in ec2.describe_vpcs()["Vpcs"]]
    found += [(s["SubnetId"], _tags(s.get("Tags"))) for s in ec2.describe_subnets()["Subnets"]]
    found += [(g["GroupId"], _tags(g.get("Tags"))) for g in ec2.describe_security_groups()["SecurityGroups"]]
    found += [(g["InternetGatewayId"], _tags(g.get("Tags"))) for g in ec2.describe_internet_gateways()["InternetGateways"]]
    found += [(a["AllocationId"], _tags(a.get("Tags"))) for a in ec2.describe_addresses()["Addresses"]]
    found += [
        (n["NatGatewayId"], _tags(n.get("Tags"))) for n in ec2.describe_nat_gateways()["NatGateways"] if n["State"] in ("pending", "available")
    ]
    found += [(r["RouteTableId"], _tags(r.get("Tags"))) for r in ec2.describe_route_tables()["RouteTables"]]
    s3 = boto3.client("s3", region_name=REGION)
    for bucket in s3.list_buckets()["Buckets"]:
        try:
            found.append((bucket["Name"], _tags(s3.get_bucket_tagging(Bucket=bucket["Name"])["TagSet"])))
        except Exception:
            found.append((bucket["Name"], {}))
    eks = boto3.client("eks", region_name=REGION)
    for name in eks.list_clusters()["clusters"]:
        cluster = eks.describe_cluster(name=name)["cluster"]
        found.append((name, _tags(cluster.get("tags"))))
        for group in eks.list_nodegroups(clusterName=name)["nodegroups"]:
            found.append((f"{name}:{group}", _tags(eks.describe_nodegroup(clusterName=name, nodegroupName=group)["nodegroup"].get("tags"))))
    rds = boto3.client("rds", region_name=REGION)
    found += [(d["DBInstanceIdentifier"], _tags(d.get("TagList"))) for d in rds.describe_db_instances()["DBInstances"]]
    for snapshot in rds.describe_db_snapshots()["DBSnapshots"]:
        found.append((snapshot["DBSnapshotIdentifier"], _tags(rds.list_tags_for_resource(ResourceName=snapshot["DBSnapshotArn"])["TagList"])))
    ecr = boto3.client("ecr", region_name=REGION)
    for repository in ecr.describe_repositories()["repositories"]:
        found.append((repository["repositoryName"], _tags(ecr.list_tags_for_resource(resourceArn=repository["repositoryArn"])["tags"])))
    iam = boto3.client("iam", region_name=REGION)
    for role in iam.list_roles()["Roles"]:
        found.append((role["RoleName"], _tags(iam.list_role_tags(RoleName=role["RoleName"])["Tags"])))
    for provider in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
        found.append((provider["Arn"], _tags(iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=provider["Arn"])["Tags"])))
    return [(resource_id, tags[DEPLOYMENT_TAG]) for resource_id, tags in found if DEPLOYMENT_TAG in tags]


def deployment_id(state_file: Any) -> str:
    import json
    from pathlib import Path

    return str(json.loads(Path(state_file).read_text())["deployment_id"])
