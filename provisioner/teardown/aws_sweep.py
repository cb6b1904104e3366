"""Find and delete what is left of a stack on AWS, by its tags: ``provisioner:stack`` and the
``kubernetes.io/cluster/<name>`` tags Kubernetes puts on the load balancers, volumes and ENIs it creates.

Every call has short timeouts and few retries, and every loop is bounded by rounds and a deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import BaseModel, Field

from provisioner.pricing import aws_monthly_cost

STACK_TAG = "provisioner:stack"
# Deletion order: what holds other things goes first.
ORDER = {
    "eks-nodegroup": 0, "eks-cluster": 1, "load-balancer": 2, "classic-load-balancer": 2,
    "ec2-instance": 3, "rds-instance": 3, "nat-gateway": 4, "network-interface": 5, "ebs-volume": 5,
    "elastic-ip": 6, "rds-snapshot": 6, "rds-subnet-group": 7, "security-group": 8, "subnet": 9,
    "route-table": 9, "internet-gateway": 10, "vpc": 11, "ecr-repository": 12, "s3-bucket": 12,
    "iam-role": 13, "oidc-provider": 13, "unknown": 99,
}
DATA_KINDS = frozenset({"s3-bucket", "rds-instance", "rds-snapshot"})


class Leftover(BaseModel):
    """One cloud resource that still carries the stack's tags."""

    kind: str
    id: str
    region: str
    monthly_cost: float | None = Field(None, description="USD per month; None when unknown")
    detail: str = ""

    @property
    def data(self) -> bool:
        return self.kind in DATA_KINDS

    @property
    def billable(self) -> bool:
        """Costs money while it exists; an unknown price counts as billable."""
        return self.monthly_cost is None or self.monthly_cost > 0


class SweepResult(BaseModel):
    deleted: list[Leftover] = Field(default_factory=list)
    kept: list[Leftover] = Field(default_factory=list)
    remaining: list[Leftover] = Field(default_factory=list)
    errors: dict[str, str] = Field(default_factory=dict)
    rounds: int = 0
    timed_out: bool = False


def _code(exc: Exception) -> str:
    return str((getattr(exc, "response", None) or {}).get("Error", {}).get("Code", ""))


def _gone(exc: Exception) -> bool:
    code = _code(exc)
    return code.endswith(("NotFound", "NotFoundFault", ".NotFound")) or code in ("NoSuchBucket", "NoSuchEntity", "DBInstanceNotFound")


class AwsSweeper:
    """Finds and deletes the resources tagged for one stack in one region."""

    def __init__(self, stack: str, region: str, cluster_name: str | None = None, *, call_timeout_s: float = 20) -> None:
        self.stack = stack
        self.region = region
        self.cluster_tag = f"kubernetes.io/cluster/{cluster_name or stack}"
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

    def _ours(self, tags: Any) -> bool:
        pairs = {t.get("Key"): t.get("Value") for t in tags or []} if isinstance(tags, list) else dict(tags or {})
        return pairs.get(STACK_TAG) == self.stack or self.cluster_tag in pairs

    def _leftover(self, kind: str, resource_id: str, detail: str = "", **price: Any) -> Leftover:
        return Leftover(kind=kind, id=resource_id, region=self.region, monthly_cost=aws_monthly_cost(kind, **price), detail=detail)

    # ----- finding -------------------------------------------------------------------------

    def find(self) -> list[Leftover]:
        """Everything still tagged for the stack, in deletion order."""
        found: dict[tuple[str, str], Leftover] = {}
        for finder in (self._ec2, self._load_balancers, self._eks, self._rds, self._s3, self._ecr, self._iam):
            for leftover in finder():
                found[(leftover.kind, leftover.id)] = leftover
        known_ids = {leftover.id for leftover in found.values()} | self._gone_ids
        for leftover in self._tagged_elsewhere(known_ids):
            found[(leftover.kind, leftover.id)] = leftover
        return sorted(found.values(), key=lambda item: (ORDER.get(item.kind, 50), item.id))

    def cluster_leftovers(self) -> list[Leftover]:
        """Load balancers and volumes Kubernetes made for the cluster (a cheap check to poll)."""
        found = [item for item in self._load_balancers()]
        for volume in self._client("ec2").describe_volumes(Filters=[{"Name": "tag-key", "Values": [self.cluster_tag]}])["Volumes"]:
            found.append(self._leftover("ebs-volume", volume["VolumeId"], size_gb=volume["Size"]))
        return found

    def _ec2_filters(self) -> list[list[dict[str, Any]]]:
        return [[{"Name": f"tag:{STACK_TAG}", "Values": [self.stack]}], [{"Name": "tag-key", "Values": [self.cluster_tag]}]]

    def _ec2(self) -> Iterator[Leftover]:
        ec2 = self._client("ec2")
        for filters in self._ec2_filters():
            for reservation in ec2.describe_instances(Filters=filters)["Reservations"]:
                for instance in reservation["Instances"]:
                    if instance["State"]["Name"] not in ("terminated", "shutting-down"):
                        yield self._leftover("ec2-instance", instance["InstanceId"], instance["InstanceType"], instance_type=instance["InstanceType"])
            for volume in ec2.describe_volumes(Filters=filters)["Volumes"]:
                yield self._leftover("ebs-volume", volume["VolumeId"], f"{volume['Size']} GiB", size_gb=volume["Size"])
            for interface in ec2.describe_network_interfaces(Filters=filters)["NetworkInterfaces"]:
                yield self._leftover("network-interface", interface["NetworkInterfaceId"], interface.get("SubnetId", ""))
            for gateway in ec2.describe_nat_gateways(Filter=filters)["NatGateways"]:
                if gateway["State"] in ("pending", "available"):
                    yield self._leftover("nat-gateway", gateway["NatGatewayId"])
                else:
                    self._gone_ids.add(gateway["NatGatewayId"])  # deleted gateways stay listed for a while
            for address in ec2.describe_addresses(Filters=filters)["Addresses"]:
                yield self._leftover("elastic-ip", address["AllocationId"], address.get("PublicIp", ""))
            for group in ec2.describe_security_groups(Filters=filters)["SecurityGroups"]:
                if group["GroupName"] != "default":
                    yield self._leftover("security-group", group["GroupId"], group["GroupName"])
            for subnet in ec2.describe_subnets(Filters=filters)["Subnets"]:
                yield self._leftover("subnet", subnet["SubnetId"], subnet["CidrBlock"])
            for table in ec2.describe_route_tables(Filters=filters)["RouteTables"]:
                if not any(a.get("Main") for a in table.get("Associations", [])):
                    yield self._leftover("route-table", table["RouteTableId"])
            for gateway in ec2.describe_internet_gateways(Filters=filters)["InternetGateways"]:
                yield self._leftover("internet-gateway", gateway["InternetGatewayId"])
            for vpc in ec2.describe_vpcs(Filters=filters)["Vpcs"]:
                yield self._leftover("vpc", vpc["VpcId"], vpc["CidrBlock"])

    def _load_balancers(self) -> Iterator[Leftover]:
        elbv2 = self._client("elbv2")
        arns = [lb["LoadBalancerArn"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]]
        for start in range(0, len(arns), 20):
            for description in elbv2.describe_tags(ResourceArns=arns[start : start + 20])["TagDescriptions"]:
                if self._ours(description["Tags"]):
                    yield self._leftover("load-balancer", description["ResourceArn"])
        elb = self._client("elb")
        names = [lb["LoadBalancerName"] for lb in elb.describe_load_balancers()["LoadBalancerDescriptions"]]
        for start in range(0, len(names), 20):
            for description in elb.describe_tags(LoadBalancerNames=names[start : start + 20])["TagDescriptions"]:
                if self._ours(description["Tags"]):
                    yield self._leftover("classic-load-balancer", description["LoadBalancerName"])

    def _eks(self) -> Iterator[Leftover]:
        eks = self._client("eks")
        for name in eks.list_clusters()["clusters"]:
            cluster = eks.describe_cluster(name=name)["cluster"]
            if not self._ours(cluster.get("tags")) and name != self.cluster_tag.rsplit("/", 1)[-1]:
                continue
            for group_name in eks.list_nodegroups(clusterName=name)["nodegroups"]:
                group = eks.describe_nodegroup(clusterName=name, nodegroupName=group_name)["nodegroup"]
                types = group.get("instanceTypes") or [""]
                yield self._leftover(
                    "eks-nodegroup", f"{name}:{group_name}", ",".join(types), instance_type=types[0],
                    count=group.get("scalingConfig", {}).get("desiredSize", 1), capacity_type=group.get("capacityType"),
                )
            yield self._leftover("eks-cluster", name)

    def _rds(self) -> Iterator[Leftover]:
        rds = self._client("rds")
        for instance in rds.describe_db_instances()["DBInstances"]:
            if self._ours(instance.get("TagList")):
                yield self._leftover(
                    "rds-instance", instance["DBInstanceIdentifier"], instance["DBInstanceClass"],
                    instance_class=instance["DBInstanceClass"], multi_az=instance.get("MultiAZ"), storage_gb=instance.get("AllocatedStorage", 0),
                )
        for snapshot in rds.describe_db_snapshots()["DBSnapshots"]:  # manual and automated: both are data
            tags = rds.list_tags_for_resource(ResourceName=snapshot["DBSnapshotArn"])["TagList"]
            if self._ours(tags):
                yield self._leftover("rds-snapshot", snapshot["DBSnapshotIdentifier"], size_gb=snapshot.get("AllocatedStorage", 0))
        for group in rds.describe_db_subnet_groups()["DBSubnetGroups"]:
            tags = rds.list_tags_for_resource(ResourceName=group["DBSubnetGroupArn"])["TagList"]
            if self._ours(tags):
                yield self._leftover("rds-subnet-group", group["DBSubnetGroupName"])

    def _s3(self) -> Iterator[Leftover]:
        s3 = self._client("s3")
        for bucket in s3.list_buckets()["Buckets"]:
            try:
                tags = s3.get_bucket_tagging(Bucket=bucket["Name"])["TagSet"]
            except Exception:
                continue
            if self._ours(tags):
                size = sum(o.get("Size", 0) for o in s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", []))
                yield self._leftover("s3-bucket", bucket["Name"], size_gb=size / 2**30)

    def _ecr(self) -> Iterator[Leftover]:
        ecr = self._client("ecr")
        for repository in ecr.describe_repositories()["repositories"]:
            tags = ecr.list_tags_for_resource(resourceArn=repository["repositoryArn"])["tags"]
            if self._ours(tags):
                yield self._leftover("ecr-repository", repository["repositoryName"])

    def _iam(self) -> Iterator[Leftover]:
        iam = self._client("iam")
        for role in iam.list_roles()["Roles"]:
            if self._ours(iam.list_role_tags(RoleName=role["RoleName"])["Tags"]):
                yield self._leftover("iam-role", role["RoleName"])
        for provider in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
            tags = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=provider["Arn"])["Tags"]
            if self._ours(tags):
                yield self._leftover("oidc-provider", provider["Arn"])

    def _tagged_elsewhere(self, known_ids: set[str]) -> Iterator[Leftover]:
        """Anything the tagging API knows that the per-service finders did not cover."""
        tagging = self._client("resourcegroupstaggingapi")
        for tag_filter in ({"Key": STACK_TAG, "Values": [self.stack]}, {"Key": self.cluster_tag}):
            for mapping in tagging.get_resources(TagFilters=[tag_filter])["ResourceTagMappingList"]:
                arn = mapping["ResourceARN"]
                if any(arn == known or arn.endswith((f"/{known}", f":{known}")) for known in known_ids):
                    continue
                yield Leftover(kind="unknown", id=arn, region=self.region, monthly_cost=None, detail="no deleter for this type")

    # ----- deleting ------------------------------------------------------------------------

    def delete(self, leftover: Leftover, *, delete_data: bool) -> None:
        """Delete one leftover; raises when AWS refuses (the caller retries in a later round)."""
        handler: Callable[[Leftover, bool], None] | None = getattr(self, f"_delete_{leftover.kind.replace('-', '_')}", None)
        if handler is None:
            raise RuntimeError(f"provisioner cannot delete {leftover.kind} resources: delete {leftover.id} yourself")
        try:
            handler(leftover, delete_data)
        except Exception as exc:
            if not _gone(exc):
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
        versions = s3.list_object_versions(Bucket=item.id)
        objects = [
            {"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions.get("Versions", []) + versions.get("DeleteMarkers", [])
        ]
        for start in range(0, len(objects), 1000):
            s3.delete_objects(Bucket=item.id, Delete={"Objects": objects[start : start + 1000]})
        s3.delete_bucket(Bucket=item.id)

    def _delete_iam_role(self, item: Leftover, _: bool) -> None:
        iam = self._client("iam")
        for policy in iam.list_attached_role_policies(RoleName=item.id)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=item.id, PolicyArn=policy["PolicyArn"])
        for name in iam.list_role_policies(RoleName=item.id)["PolicyNames"]:
            iam.delete_role_policy(RoleName=item.id, PolicyName=name)
        for profile in iam.list_instance_profiles_for_role(RoleName=item.id)["InstanceProfiles"]:
            iam.remove_role_from_instance_profile(InstanceProfileName=profile["InstanceProfileName"], RoleName=item.id)
        iam.delete_role(RoleName=item.id)

    def _delete_oidc_provider(self, item: Leftover, _: bool) -> None:
        self._client("iam").delete_open_id_connect_provider(OpenIDConnectProviderArn=item.id)

    def unlock_databases(self) -> list[str]:
        """Turn deletion protection off on the stack's databases (for --delete-data); returns their ids."""
        rds = self._client("rds")
        unlocked = []
        for instance in rds.describe_db_instances()["DBInstances"]:
            if self._ours(instance.get("TagList")) and instance.get("DeletionProtection"):
                rds.modify_db_instance(DBInstanceIdentifier=instance["DBInstanceIdentifier"], DeletionProtection=False, ApplyImmediately=True)
                unlocked.append(instance["DBInstanceIdentifier"])
        return unlocked

    # ----- the sweep -----------------------------------------------------------------------

    def sweep(
        self,
        *,
        delete_data: bool,
        keep_ids: set[str] = frozenset(),  # type: ignore[assignment]
        deadline_s: float = 600,
        max_rounds: int = 5,
        on_event: Callable[[str], None] | None = None,
    ) -> SweepResult:
        """Delete what is tagged for the stack, in rounds, until nothing deletable is left or time runs out.

        Data (buckets, databases, snapshots) is kept unless ``delete_data``; ``keep_ids`` are
        resources kept on purpose (what a retained database needs).
        """
        say = on_event or (lambda _message: None)
        result = SweepResult()
        deadline = time.monotonic() + deadline_s
        for round_number in range(1, max_rounds + 1):
            result.rounds = round_number
            targets = [item for item in self.find() if not self._kept(item, delete_data, keep_ids)]
            if not targets:
                break
            progress = False
            for item in targets:
                if time.monotonic() > deadline:
                    result.timed_out = True
                    break
                try:
                    self.delete(item, delete_data=delete_data)
                except Exception as exc:
                    result.errors[f"{item.kind} {item.id}"] = " ".join(str(exc).split())
                    say(f"  sweep round {round_number}: could not delete {item.kind} {item.id}: {result.errors[f'{item.kind} {item.id}']}")
                    continue
                result.errors.pop(f"{item.kind} {item.id}", None)
                result.deleted.append(item)
                progress = True
                say(f"  sweep round {round_number}: deleted {item.kind} {item.id}")
            if result.timed_out or not progress:
                break
        remaining = self.find()
        result.kept = [item for item in remaining if self._kept(item, delete_data, keep_ids)]
        result.remaining = [item for item in remaining if not self._kept(item, delete_data, keep_ids)]
        return result

    @staticmethod
    def _kept(item: Leftover, delete_data: bool, keep_ids: set[str]) -> bool:
        return item.id in keep_ids or (item.data and not delete_data)
