"""Find and delete what is left of one deployment on AWS.

Ownership is proven, never assumed: a resource is swept only when the sweep has read its tags
itself and they carry this deployment's id, or, for what Kubernetes made (load balancers,
volumes, ENIs, security groups), when it is tagged for a cluster our state holds and sits in
that cluster's VPC (volumes: in the cluster's availability zones). A server-side tag filter is
never trusted: moto, for one, ignores some. Every list call goes through a boto3 paginator where
one exists; a resource whose tags cannot be read is reported as unreadable, never skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from provisioner.aws_errors import error_code, is_not_found
from provisioner.pricing import aws_monthly_cost
from provisioner.recipe_api import TAG_DEPLOYMENT, TAG_ENV, TAG_STACK
from provisioner.teardown.sweep_report import (
    Leftover,
    RoundSweeper,
    SweepResult,
    SweepScope,
)

__all__ = ["AwsSweeper", "Leftover", "SweepResult", "SweepScope"]

# Deletion order: what holds other things goes first.
ORDER = {
    "eks-nodegroup": 0, "eks-cluster": 1, "load-balancer": 2, "classic-load-balancer": 2,
    "ec2-instance": 3, "rds-instance": 3, "nat-gateway": 4, "network-interface": 5, "ebs-volume": 5,
    "elastic-ip": 6, "rds-snapshot": 6, "rds-subnet-group": 7, "security-group": 8, "subnet": 9,
    "route-table": 9, "internet-gateway": 10, "vpc": 11, "ecr-repository": 12, "s3-bucket": 12,
    "iam-role": 13, "oidc-provider": 13, "unknown": 99, "unreadable": 99,
}
CLUSTER_TAG_PREFIX = "kubernetes.io/cluster/"


@dataclass(frozen=True)
class _Tags:
    """The tags read on one resource, with where it sits."""

    tags: dict[str, str]
    vpc_id: str | None = None
    zone: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)




def _tag_dict(tags: Any) -> dict[str, str]:
    if isinstance(tags, list):
        return {str(t.get("Key", t.get("key"))): str(t.get("Value", t.get("value", ""))) for t in tags}
    return {str(k): str(v) for k, v in (tags or {}).items()}


class AwsSweeper(RoundSweeper):
    """Finds and deletes the resources of one deployment in one region, or only surveys a stack's tags."""

    def __init__(
        self,
        scope: SweepScope | None,
        region: str,
        *,
        survey_stack: str | None = None,
        call_timeout_s: float = 20,
        page_size: int | None = None,
    ) -> None:
        super().__init__(scope, survey_stack, page_size)
        self.region = region
        self._clients: dict[str, Any] = {}
        self._call_timeout_s = call_timeout_s
        self._gone_ids: set[str] = set()

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            import boto3
            from botocore.config import Config

            config = Config(
                connect_timeout=self._call_timeout_s, read_timeout=self._call_timeout_s, retries={"max_attempts": 2, "mode": "standard"}
            )
            self._clients[service] = boto3.client(service, region_name=self.region, config=config)
        return self._clients[service]

    def _pages(self, service: str, operation: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every page of a list call (a single call where boto3 has no paginator for it)."""
        client = self._client(service)
        if client.can_paginate(operation):
            config = {"PageSize": self.page_size} if self.page_size else {}
            yield from client.get_paginator(operation).paginate(**params, PaginationConfig=config)
        else:
            yield getattr(client, operation)(**params)

    # ----- ownership -----------------------------------------------------------------------

    def cluster_zones(self, subnet_ids: list[str]) -> tuple[str, ...]:
        """The zones of our clusters' subnets and of ``subnet_ids`` (read before anything is deleted)."""
        zones: set[str] = set()
        subnets = set(subnet_ids)
        for name in self.scope.clusters if self.scope else ():
            try:
                subnets.update(self._client("eks").describe_cluster(name=name)["cluster"].get("resourcesVpcConfig", {}).get("subnetIds") or [])
            except Exception as exc:
                if not is_not_found(exc):
                    raise
        for subnet_id in sorted(subnets):
            try:
                zones.update(s["AvailabilityZone"] for s in self._client("ec2").describe_subnets(SubnetIds=[subnet_id])["Subnets"])
            except Exception as exc:
                if not is_not_found(exc) and error_code(exc) != "InvalidSubnetID.NotFound":
                    raise
        return tuple(sorted(zones))

    def _matches(self, found: _Tags, *, cluster_made: bool = False) -> bool:
        """Whether the sweep may act on a resource whose tags it has read itself."""
        if self.scope is None:
            return found.tags.get(TAG_STACK) == self.survey_stack
        if found.tags.get(TAG_DEPLOYMENT) == self.scope.deployment_id:
            return True
        if not cluster_made or not any(f"{CLUSTER_TAG_PREFIX}{name}" in found.tags for name in self.scope.clusters):
            return False
        if found.vpc_id is not None:
            return found.vpc_id in self.scope.vpc_ids
        if found.zone is not None:
            return found.zone in self.scope.zones
        return False

    def _leftover(self, kind: str, resource_id: str, found: _Tags, detail: str = "", **price: Any) -> Leftover:
        return Leftover(
            kind=kind, id=resource_id, region=self.region, monthly_cost=aws_monthly_cost(kind, region=self.region, **price), detail=detail,
            deployment=found.tags.get(TAG_DEPLOYMENT), env=found.tags.get(TAG_ENV), stack=found.tags.get(TAG_STACK),
        )

    def _unreadable(self, kind: str, resource_id: str, exc: Exception) -> Leftover:
        message = " ".join(str(exc).split())
        return Leftover(kind="unreadable", id=resource_id, region=self.region, detail=f"{kind}: could not read its tags: {message}")

    def _judged(self, kind: str, resource_id: str, read_tags: Callable[[], Any], **price: Any) -> Iterator[Leftover]:
        """Read one resource's tags ourselves: yield it if it is ours, as unreadable if its tags cannot be read."""
        try:
            tags = _Tags(_tag_dict(read_tags()))
        except Exception as exc:
            if not is_not_found(exc):  # gone meanwhile: nothing to do; anything else is reported, never skipped
                yield self._unreadable(kind, resource_id, exc)
            return
        if self._matches(tags):
            yield self._leftover(kind, resource_id, tags, **price)

    # ----- finding -------------------------------------------------------------------------

    def find(self) -> list[Leftover]:
        """Everything this sweeper may act on (or, surveying, everything tagged for the stack), in deletion order."""
        found: dict[tuple[str, str], Leftover] = {}
        for finder in (self._ec2, self._load_balancers, self._eks, self._rds, self._s3, self._ecr, self._iam):
            for leftover in finder():
                found[(leftover.kind, leftover.id)] = leftover
        known_ids = {leftover.id for leftover in found.values()} | self._gone_ids
        for leftover in self._tagged_elsewhere(known_ids):
            found[(leftover.kind, leftover.id)] = leftover
        return sorted(found.values(), key=lambda item: (ORDER.get(item.kind, 50), item.id))

    def cluster_leftovers(self) -> list[Leftover]:
        """Load balancers and volumes Kubernetes made for our clusters (a cheap check to poll)."""
        found = list(self._load_balancers())
        for page in self._pages("ec2", "describe_volumes"):
            for volume in page["Volumes"]:
                tags = _Tags(_tag_dict(volume.get("Tags")), zone=volume.get("AvailabilityZone"))
                if self._matches(tags, cluster_made=True) and tags.tags.get(TAG_DEPLOYMENT) is None:
                    found.append(self._leftover("ebs-volume", volume["VolumeId"], tags, size_gb=volume["Size"]))
        return found

    def _ec2(self) -> Iterator[Leftover]:
        for page in self._pages("ec2", "describe_instances"):
            for reservation in page["Reservations"]:
                for instance in reservation["Instances"]:
                    tags = _Tags(_tag_dict(instance.get("Tags")), vpc_id=instance.get("VpcId"))
                    if instance["State"]["Name"] not in ("terminated", "shutting-down") and self._matches(tags, cluster_made=True):
                        kind_type = instance["InstanceType"]
                        yield self._leftover("ec2-instance", instance["InstanceId"], tags, kind_type, instance_type=kind_type)
        for page in self._pages("ec2", "describe_volumes"):
            for volume in page["Volumes"]:
                tags = _Tags(_tag_dict(volume.get("Tags")), zone=volume.get("AvailabilityZone"))
                if self._matches(tags, cluster_made=True):
                    yield self._leftover("ebs-volume", volume["VolumeId"], tags, f"{volume['Size']} GiB", size_gb=volume["Size"])
        for page in self._pages("ec2", "describe_network_interfaces"):
            for interface in page["NetworkInterfaces"]:
                tags = _Tags(_tag_dict(interface.get("TagSet")), vpc_id=interface.get("VpcId"))
                if self._matches(tags, cluster_made=True):
                    yield self._leftover("network-interface", interface["NetworkInterfaceId"], tags, interface.get("SubnetId", ""))
        for page in self._pages("ec2", "describe_nat_gateways"):
            for gateway in page["NatGateways"]:
                tags = _Tags(_tag_dict(gateway.get("Tags")), vpc_id=gateway.get("VpcId"))
                if not self._matches(tags):
                    continue
                if gateway["State"] in ("pending", "available"):
                    yield self._leftover("nat-gateway", gateway["NatGatewayId"], tags)
                else:
                    self._gone_ids.add(gateway["NatGatewayId"])  # deleted gateways stay listed for a while
        for page in self._pages("ec2", "describe_addresses"):
            for address in page["Addresses"]:
                tags = _Tags(_tag_dict(address.get("Tags")))
                if self._matches(tags):
                    yield self._leftover("elastic-ip", address["AllocationId"], tags, address.get("PublicIp", ""))
        for page in self._pages("ec2", "describe_security_groups"):
            for group in page["SecurityGroups"]:
                tags = _Tags(_tag_dict(group.get("Tags")), vpc_id=group.get("VpcId"))
                if group["GroupName"] != "default" and self._matches(tags, cluster_made=True):
                    yield self._leftover("security-group", group["GroupId"], tags, group["GroupName"])
        for page in self._pages("ec2", "describe_subnets"):
            for subnet in page["Subnets"]:
                tags = _Tags(_tag_dict(subnet.get("Tags")))
                if self._matches(tags):
                    yield self._leftover("subnet", subnet["SubnetId"], tags, subnet["CidrBlock"])
        for page in self._pages("ec2", "describe_route_tables"):
            for table in page["RouteTables"]:
                tags = _Tags(_tag_dict(table.get("Tags")))
                if self._matches(tags) and not any(a.get("Main") for a in table.get("Associations", [])):
                    yield self._leftover("route-table", table["RouteTableId"], tags)
        for page in self._pages("ec2", "describe_internet_gateways"):
            for gateway in page["InternetGateways"]:
                tags = _Tags(_tag_dict(gateway.get("Tags")))
                if self._matches(tags):
                    yield self._leftover("internet-gateway", gateway["InternetGatewayId"], tags)
        for page in self._pages("ec2", "describe_vpcs"):
            for vpc in page["Vpcs"]:
                tags = _Tags(_tag_dict(vpc.get("Tags")))
                if self._matches(tags):
                    yield self._leftover("vpc", vpc["VpcId"], tags, vpc["CidrBlock"])

    def _load_balancers(self) -> Iterator[Leftover]:
        balancers = [lb for page in self._pages("elbv2", "describe_load_balancers") for lb in page["LoadBalancers"]]
        vpc_of = {lb["LoadBalancerArn"]: lb.get("VpcId") for lb in balancers}
        arns = list(vpc_of)
        for start in range(0, len(arns), 20):
            for description in self._client("elbv2").describe_tags(ResourceArns=arns[start : start + 20])["TagDescriptions"]:
                tags = _Tags(_tag_dict(description["Tags"]), vpc_id=vpc_of.get(description["ResourceArn"]))
                if self._matches(tags, cluster_made=True):
                    yield self._leftover("load-balancer", description["ResourceArn"], tags)
        classic = [lb for page in self._pages("elb", "describe_load_balancers") for lb in page["LoadBalancerDescriptions"]]
        classic_vpc = {lb["LoadBalancerName"]: lb.get("VPCId") for lb in classic}
        names = list(classic_vpc)
        for start in range(0, len(names), 20):
            for description in self._client("elb").describe_tags(LoadBalancerNames=names[start : start + 20])["TagDescriptions"]:
                tags = _Tags(_tag_dict(description["Tags"]), vpc_id=classic_vpc.get(description["LoadBalancerName"]))
                if self._matches(tags, cluster_made=True):
                    yield self._leftover("classic-load-balancer", description["LoadBalancerName"], tags)

    def _eks(self) -> Iterator[Leftover]:
        eks = self._client("eks")
        for page in self._pages("eks", "list_clusters"):
            for name in page["clusters"]:
                try:
                    cluster = eks.describe_cluster(name=name)["cluster"]
                except Exception as exc:
                    if is_not_found(exc):
                        continue
                    yield self._unreadable("eks-cluster", name, exc)
                    continue
                cluster_tags = _Tags(_tag_dict(cluster.get("tags")))
                cluster_ours = self._matches(cluster_tags)
                for group_page in self._pages("eks", "list_nodegroups", clusterName=name):
                    for group_name in group_page["nodegroups"]:
                        group = eks.describe_nodegroup(clusterName=name, nodegroupName=group_name)["nodegroup"]
                        group_tags = _Tags(_tag_dict(group.get("tags")))
                        # A node group inside a cluster we own must go before the cluster can.
                        if not (cluster_ours or self._matches(group_tags)):
                            continue
                        types = group.get("instanceTypes") or [""]
                        yield self._leftover(
                            "eks-nodegroup", f"{name}:{group_name}", group_tags if group_tags.tags else cluster_tags, ",".join(types),
                            instance_type=types[0], count=group.get("scalingConfig", {}).get("desiredSize", 1),
                            capacity_type=group.get("capacityType"),
                        )
                if cluster_ours:
                    yield self._leftover("eks-cluster", name, cluster_tags)

    def _rds(self) -> Iterator[Leftover]:
        rds = self._client("rds")
        for page in self._pages("rds", "describe_db_instances"):
            for instance in page["DBInstances"]:
                tags = _Tags(_tag_dict(instance.get("TagList")))
                if self._matches(tags):
                    yield self._leftover(
                        "rds-instance", instance["DBInstanceIdentifier"], tags, instance["DBInstanceClass"],
                        instance_class=instance["DBInstanceClass"], multi_az=instance.get("MultiAZ"),
                        storage_gb=instance.get("AllocatedStorage", 0),
                    )
        for page in self._pages("rds", "describe_db_snapshots"):  # manual and automated: both are data
            for snapshot in page["DBSnapshots"]:
                arn = snapshot["DBSnapshotArn"]
                yield from self._judged(
                    "rds-snapshot", snapshot["DBSnapshotIdentifier"], lambda: rds.list_tags_for_resource(ResourceName=arn)["TagList"],
                    size_gb=snapshot.get("AllocatedStorage", 0),
                )
        for page in self._pages("rds", "describe_db_subnet_groups"):
            for group in page["DBSubnetGroups"]:
                arn = group["DBSubnetGroupArn"]
                yield from self._judged(
                    "rds-subnet-group", group["DBSubnetGroupName"], lambda: rds.list_tags_for_resource(ResourceName=arn)["TagList"]
                )

    def _s3(self) -> Iterator[Leftover]:
        s3 = self._client("s3")
        for page in self._pages("s3", "list_buckets"):
            for bucket in page["Buckets"]:
                try:
                    tags = _Tags(_tag_dict(s3.get_bucket_tagging(Bucket=bucket["Name"])["TagSet"]))
                except Exception as exc:
                    if error_code(exc) == "NoSuchTagSet" or is_not_found(exc):
                        continue  # an untagged bucket proves nothing: it is not ours to delete
                    yield self._unreadable("s3-bucket", bucket["Name"], exc)
                    continue
                if self._matches(tags):
                    size = sum(
                        item.get("Size", 0)
                        for objects in self._pages("s3", "list_objects_v2", Bucket=bucket["Name"])
                        for item in objects.get("Contents", [])
                    )
                    yield self._leftover("s3-bucket", bucket["Name"], tags, size_gb=size / 2**30)

    def _ecr(self) -> Iterator[Leftover]:
        ecr = self._client("ecr")
        for page in self._pages("ecr", "describe_repositories"):
            for repository in page["repositories"]:
                arn = repository["repositoryArn"]
                yield from self._judged("ecr-repository", repository["repositoryName"], lambda: ecr.list_tags_for_resource(resourceArn=arn)["tags"])

    def _iam(self) -> Iterator[Leftover]:
        iam = self._client("iam")
        for page in self._pages("iam", "list_roles"):
            for role in page["Roles"]:
                name = role["RoleName"]
                yield from self._judged(
                    "iam-role", name, lambda: [tag for tags_page in self._pages("iam", "list_role_tags", RoleName=name) for tag in tags_page["Tags"]]
                )
        for provider in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:  # no paginator: one call
            arn = provider["Arn"]
            yield from self._judged("oidc-provider", arn, lambda: iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"])

    def _tagged_elsewhere(self, known_ids: set[str]) -> Iterator[Leftover]:
        """Anything the tagging API knows that the per-service finders did not cover (reported, never deleted)."""
        if self.scope is not None:
            tag_filter = {"Key": TAG_DEPLOYMENT, "Values": [self.scope.deployment_id]}
        else:
            tag_filter = {"Key": TAG_STACK, "Values": [self.survey_stack or ""]}
        for page in self._pages("resourcegroupstaggingapi", "get_resources", TagFilters=[tag_filter]):
            for mapping in page["ResourceTagMappingList"]:
                arn = mapping["ResourceARN"]
                tags = _Tags(_tag_dict(mapping.get("Tags")))
                if not self._matches(tags):  # the filter is a hint: read the tags ourselves
                    continue
                if any(arn == known or arn.endswith((f"/{known}", f":{known}")) for known in known_ids):
                    continue
                leftover = self._leftover("unknown", arn, tags, "no deleter for this type")
                leftover.monthly_cost = None
                yield leftover

    # ----- deleting ------------------------------------------------------------------------

    def delete(self, leftover: Leftover, *, delete_data: bool) -> None:
        """Delete one leftover; raises when AWS refuses (the caller retries in a later round)."""
        self._require_scope()
        handler: Callable[[Leftover, bool], None] | None = getattr(self, f"_delete_{leftover.kind.replace('-', '_')}", None)
        if handler is None:
            raise RuntimeError(f"provisioner cannot delete {leftover.kind} resources: delete {leftover.id} yourself")
        try:
            handler(leftover, delete_data)
        except Exception as exc:
            if not is_not_found(exc):
                raise

    def _delete_eks_nodegroup(self, item: Leftover, _: bool) -> None:
        cluster, group = item.id.split(":", 1)
        self._client("eks").delete_nodegroup(clusterName=cluster, nodegroupName=group)

    def _delete_eks_cluster(self, item: Leftover, _: bool) -> None:
        self._client("eks").delete_cluster(name=item.id)

    def _delete_load_balancer(self, item: Leftover, _: bool) -> None:
        self._client("elbv2").delete_load_balancer(LoadBalancerArn=item.id)

    def _delete_classic_load_balancer(self, item: Leftover, _: bool) -> None:
        self._client("elb").delete_load_balancer(LoadBalancerName=item.id)

    def _delete_ec2_instance(self, item: Leftover, _: bool) -> None:
        self._client("ec2").terminate_instances(InstanceIds=[item.id])

    def _delete_rds_instance(self, item: Leftover, delete_data: bool) -> None:
        rds = self._client("rds")
        if delete_data:
            rds.modify_db_instance(DBInstanceIdentifier=item.id, DeletionProtection=False, ApplyImmediately=True)
        rds.delete_db_instance(DBInstanceIdentifier=item.id, SkipFinalSnapshot=True, DeleteAutomatedBackups=True)

    def _delete_rds_snapshot(self, item: Leftover, _: bool) -> None:
        self._client("rds").delete_db_snapshot(DBSnapshotIdentifier=item.id)

    def _delete_rds_subnet_group(self, item: Leftover, _: bool) -> None:
        self._client("rds").delete_db_subnet_group(DBSubnetGroupName=item.id)

    def _delete_nat_gateway(self, item: Leftover, _: bool) -> None:
        self._client("ec2").delete_nat_gateway(NatGatewayId=item.id)

    def _delete_network_interface(self, item: Leftover, _: bool) -> None:
        ec2 = self._client("ec2")
        interface = ec2.describe_network_interfaces(NetworkInterfaceIds=[item.id])["NetworkInterfaces"][0]
        attachment = interface.get("Attachment") or {}
        if attachment.get("AttachmentId"):
            ec2.detach_network_interface(AttachmentId=attachment["AttachmentId"], Force=True)
        ec2.delete_network_interface(NetworkInterfaceId=item.id)

    def _delete_ebs_volume(self, item: Leftover, _: bool) -> None:
        ec2 = self._client("ec2")
        volume = ec2.describe_volumes(VolumeIds=[item.id])["Volumes"][0]
        for attachment in volume.get("Attachments", []):
            ec2.detach_volume(VolumeId=item.id, InstanceId=attachment["InstanceId"], Force=True)
        ec2.delete_volume(VolumeId=item.id)

    def _delete_elastic_ip(self, item: Leftover, _: bool) -> None:
        ec2 = self._client("ec2")
        address = ec2.describe_addresses(AllocationIds=[item.id])["Addresses"][0]
        if address.get("AssociationId"):
            ec2.disassociate_address(AssociationId=address["AssociationId"])
        ec2.release_address(AllocationId=item.id)

    def _delete_security_group(self, item: Leftover, _: bool) -> None:
        ec2 = self._client("ec2")
        group = ec2.describe_security_groups(GroupIds=[item.id])["SecurityGroups"][0]
        if group.get("IpPermissions"):
            ec2.revoke_security_group_ingress(GroupId=item.id, IpPermissions=group["IpPermissions"])
        if group.get("IpPermissionsEgress"):
            ec2.revoke_security_group_egress(GroupId=item.id, IpPermissions=group["IpPermissionsEgress"])
        ec2.delete_security_group(GroupId=item.id)

    def _delete_subnet(self, item: Leftover, _: bool) -> None:
        self._client("ec2").delete_subnet(SubnetId=item.id)

    def _delete_route_table(self, item: Leftover, _: bool) -> None:
        ec2 = self._client("ec2")
        table = ec2.describe_route_tables(RouteTableIds=[item.id])["RouteTables"][0]
        for association in table.get("Associations", []):
            if not association.get("Main") and association.get("RouteTableAssociationId"):
                ec2.disassociate_route_table(AssociationId=association["RouteTableAssociationId"])
        ec2.delete_route_table(RouteTableId=item.id)

    def _delete_internet_gateway(self, item: Leftover, _: bool) -> None:
        ec2 = self._client("ec2")
        gateway = ec2.describe_internet_gateways(InternetGatewayIds=[item.id])["InternetGateways"][0]
        for attachment in gateway.get("Attachments", []):
            ec2.detach_internet_gateway(InternetGatewayId=item.id, VpcId=attachment["VpcId"])
        ec2.delete_internet_gateway(InternetGatewayId=item.id)

    def _delete_vpc(self, item: Leftover, _: bool) -> None:
        self._client("ec2").delete_vpc(VpcId=item.id)

    def _delete_ecr_repository(self, item: Leftover, _: bool) -> None:
        self._client("ecr").delete_repository(repositoryName=item.id, force=True)

    def _delete_s3_bucket(self, item: Leftover, _: bool) -> None:
        s3 = self._client("s3")
        objects = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for page in self._pages("s3", "list_object_versions", Bucket=item.id)
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for start in range(0, len(objects), 1000):
            s3.delete_objects(Bucket=item.id, Delete={"Objects": objects[start : start + 1000]})
        s3.delete_bucket(Bucket=item.id)

    def _delete_iam_role(self, item: Leftover, _: bool) -> None:
        iam = self._client("iam")
        for page in self._pages("iam", "list_attached_role_policies", RoleName=item.id):
            for policy in page["AttachedPolicies"]:
                iam.detach_role_policy(RoleName=item.id, PolicyArn=policy["PolicyArn"])
        for page in self._pages("iam", "list_role_policies", RoleName=item.id):
            for name in page["PolicyNames"]:
                iam.delete_role_policy(RoleName=item.id, PolicyName=name)
        for page in self._pages("iam", "list_instance_profiles_for_role", RoleName=item.id):
            for profile in page["InstanceProfiles"]:
                iam.remove_role_from_instance_profile(InstanceProfileName=profile["InstanceProfileName"], RoleName=item.id)
        iam.delete_role(RoleName=item.id)

    def _delete_oidc_provider(self, item: Leftover, _: bool) -> None:
        self._client("iam").delete_open_id_connect_provider(OpenIDConnectProviderArn=item.id)

    def unlock_databases(self) -> list[str]:
        """Turn deletion protection off on the stack's databases (for --delete-data); returns their ids."""
        self._require_scope()
        rds = self._client("rds")
        unlocked = []
        for page in self._pages("rds", "describe_db_instances"):
            for instance in page["DBInstances"]:
                if self._matches(_Tags(_tag_dict(instance.get("TagList")))) and instance.get("DeletionProtection"):
                    rds.modify_db_instance(DBInstanceIdentifier=instance["DBInstanceIdentifier"], DeletionProtection=False, ApplyImmediately=True)
                    unlocked.append(instance["DBInstanceIdentifier"])
        return unlocked
