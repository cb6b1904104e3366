"""The AWS emulators under in-process moto: each resource really exists in moto with the ids the
emulator returns, is tagged, reports its existence, and is gone after deletion in reverse order."""

from __future__ import annotations

import importlib
import inspect
import json
import os
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from provisioner.engine.emulators import EmulationContext, handler_for, invoke_for
from provisioner.engine.simulated import _EmulatorMocks, run_program_with_mocks
from tests.emulators.chain import DB_PASSWORD, TAGS, Chain, Created, as_wire, build_chain
from tests.recipes.mocks import RecordingMocks

REGION = "eu-west-1"
FAKE_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}
TEARDOWN_TAGS = {"provisioner:stack": "teardown-dev"}


@pytest.fixture(scope="module")
def moto_aws() -> Iterator[None]:
    """In-process moto with fake credentials for the whole module (the environment is restored after)."""
    from moto import mock_aws

    saved = dict(os.environ)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(FAKE_ENV)
    try:
        with mock_aws():
            yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def chain(moto_aws: None) -> Chain:
    """The whole stack, created once and left in place for the read-only checks."""
    return build_chain(EmulationContext(stack="dev", project="provisioner-aws", region=REGION))


@pytest.fixture(scope="module")
def destroyed(moto_aws: None) -> Chain:
    """A second stack, created and then deleted in reverse creation order."""
    doomed = build_chain(EmulationContext(stack="teardown", project="provisioner-aws", region=REGION), tags=TEARDOWN_TAGS)
    doomed.destroy()
    return doomed


def _client(chain: Chain, service: str) -> Any:
    return chain.ctx.aws(service)


def _tags(tag_list: list[dict[str, str]] | None) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in tag_list or []}


def _output_properties(type_token: str) -> set[str]:
    """The wire names of a pulumi_aws resource class's output properties."""
    module_path, _, class_name = type_token.split(":", 1)[1].partition(":")
    module = importlib.import_module(f"pulumi_aws.{module_path.split('/')[0]}")
    resource_class = getattr(module, class_name)
    return {
        member.fget._pulumi_name
        for _, member in inspect.getmembers(resource_class, lambda m: isinstance(m, property))
        if hasattr(member.fget, "_pulumi_name")
    }


# --- EC2 networking ---------------------------------------------------------------------------------


def test_vpc_outputs_are_the_ids_moto_holds(chain: Chain) -> None:
    ec2 = _client(chain, "ec2")
    vpc = chain["vpc"]

    described = ec2.describe_vpcs(VpcIds=[vpc.id])["Vpcs"][0]
    main_table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc.id]}, {"Name": "association.main", "Values": ["true"]}])
    default_group = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc.id]}, {"Name": "group-name", "Values": ["default"]}])
    assert described["CidrBlock"] == vpc.state["cidrBlock"] == "10.0.0.0/16"
    assert vpc.state["mainRouteTableId"] == main_table["RouteTables"][0]["RouteTableId"]
    assert vpc.state["defaultSecurityGroupId"] == default_group["SecurityGroups"][0]["GroupId"]
    assert vpc.state["arn"] == f"arn:aws:ec2:{REGION}:{described['OwnerId']}:vpc/{vpc.id}"
    assert ec2.describe_vpc_attribute(VpcId=vpc.id, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"] is True


def test_subnets_are_in_the_vpc_in_their_zones(chain: Chain) -> None:
    ec2 = _client(chain, "ec2")
    ids = [chain[f"subnet-{key}"].id for key in ("public-a", "private-a", "private-b")]

    described = {s["SubnetId"]: s for s in ec2.describe_subnets(SubnetIds=ids)["Subnets"]}

    assert set(described) == set(ids)
    for subnet_id in ids:
        subnet = next(c for c in chain.resources.values() if c.id == subnet_id)
        assert described[subnet_id]["VpcId"] == chain["vpc"].id
        assert described[subnet_id]["AvailabilityZone"] == subnet.state["availabilityZone"]
        assert described[subnet_id]["MapPublicIpOnLaunch"] is subnet.state["mapPublicIpOnLaunch"]
        assert subnet.state["arn"] == described[subnet_id]["SubnetArn"]


def test_internet_gateway_is_attached_to_the_vpc(chain: Chain) -> None:
    gateway = _client(chain, "ec2").describe_internet_gateways(InternetGatewayIds=[chain["igw"].id])["InternetGateways"][0]

    assert [a["VpcId"] for a in gateway["Attachments"]] == [chain["vpc"].id]


def test_nat_gateway_uses_the_elastic_ip_in_the_public_subnet(chain: Chain) -> None:
    ec2 = _client(chain, "ec2")
    nat, eip = chain["nat"], chain["nat-eip"]

    described = ec2.describe_nat_gateways(NatGatewayIds=[nat.id])["NatGateways"][0]
    address = ec2.describe_addresses(AllocationIds=[eip.id])["Addresses"][0]

    assert described["State"] == "available"
    assert described["SubnetId"] == chain["subnet-public-a"].id
    assert described["NatGatewayAddresses"][0]["AllocationId"] == eip.id == eip.state["allocationId"]
    assert nat.state["publicIp"] == eip.state["publicIp"] == address["PublicIp"]


def test_routes_send_default_traffic_to_the_gateways_and_subnets_use_their_tables(chain: Chain) -> None:
    ec2 = _client(chain, "ec2")

    def default_route(table: Created) -> dict[str, Any]:
        routes = ec2.describe_route_tables(RouteTableIds=[table.id])["RouteTables"][0]["Routes"]
        return next(r for r in routes if r.get("DestinationCidrBlock") == "0.0.0.0/0")

    assert default_route(chain["rt-public"])["GatewayId"] == chain["igw"].id
    assert default_route(chain["rt-private"])["NatGatewayId"] == chain["nat"].id
    assert chain["route-public"].id.startswith(f"r-{chain['rt-public'].id}")
    for key, table in (("public-a", "rt-public"), ("private-a", "rt-private"), ("private-b", "rt-private")):
        association = chain[f"assoc-{key}"]
        described = ec2.describe_route_tables(RouteTableIds=[chain[table].id])["RouteTables"][0]["Associations"]
        assert {"RouteTableAssociationId": association.id, "SubnetId": chain[f"subnet-{key}"].id} in [
            {k: a.get(k) for k in ("RouteTableAssociationId", "SubnetId")} for a in described
        ]


def test_security_group_has_exactly_the_given_rules(chain: Chain) -> None:
    group = chain["db-sg"]

    described = _client(chain, "ec2").describe_security_groups(GroupIds=[group.id])["SecurityGroups"][0]

    assert described["VpcId"] == chain["vpc"].id and described["GroupName"] == group.state["name"]
    assert [(p["IpProtocol"], p["FromPort"], p["ToPort"], [r["CidrIp"] for r in p["IpRanges"]]) for p in described["IpPermissions"]] == [
        ("tcp", 5432, 5432, ["10.0.0.0/16"])
    ]
    assert [(p["IpProtocol"], [r["CidrIp"] for r in p["IpRanges"]]) for p in described["IpPermissionsEgress"]] == [("-1", ["0.0.0.0/0"])]


def test_security_group_update_replaces_its_rules_and_keeps_its_id(chain: Chain) -> None:
    handler = handler_for("aws:ec2/securityGroup:SecurityGroup")
    inputs = {"vpcId": chain["vpc"].id, "ingress": [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.0.0.0/8"]}], "tags": TAGS}
    group_id, state = handler.create("web-sg", "aws:ec2/securityGroup:SecurityGroup", as_wire(inputs), chain.ctx)

    new_inputs = {**inputs, "ingress": [{"protocol": "tcp", "fromPort": 8443, "toPort": 8443, "cidrBlocks": ["10.1.0.0/16"]}], "tags": {"team": "ml"}}
    updated = handler.update(group_id, "web-sg", as_wire(new_inputs), state, chain.ctx)

    described = _client(chain, "ec2").describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    assert [(p["FromPort"], p["IpRanges"][0]["CidrIp"]) for p in described["IpPermissions"]] == [(8443, "10.1.0.0/16")]
    assert described["IpPermissionsEgress"] == []
    assert _tags(described["Tags"]) == {"team": "ml"} == updated["tagsAll"]
    assert updated["name"] == state["name"]
    handler.delete(group_id, updated, chain.ctx)


# --- IAM --------------------------------------------------------------------------------------------


def test_roles_hold_their_trust_policies_and_aws_managed_policy_attachments(chain: Chain) -> None:
    iam = _client(chain, "iam")
    cluster_role, node_role = chain["cluster-role"], chain["node-role"]

    role = iam.get_role(RoleName=cluster_role.id)["Role"]
    node_attached = {p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=node_role.id)["AttachedPolicies"]}

    assert role["Arn"] == cluster_role.state["arn"] and role["RoleId"] == cluster_role.state["uniqueId"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "eks.amazonaws.com"}
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=cluster_role.id)["AttachedPolicies"]] == [
        "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
    ]
    assert node_attached == {f"arn:aws:iam::aws:policy/{name}" for name in ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")}
    assert node_role.state["arn"].endswith(f":role/mlops/{node_role.id}")
    assert chain["cluster-policy-0"].id.startswith(f"{cluster_role.id}-")


def test_inline_role_policy_is_stored_under_role_colon_name(chain: Chain) -> None:
    policy = chain["mlflow-irsa-s3"]
    role, _, name = policy.id.partition(":")

    document = _client(chain, "iam").get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]

    assert role == chain["mlflow-irsa"].id and name == policy.state["name"]
    assert document["Statement"][0]["Resource"] == f"{chain['artifacts'].state['arn']}/*"


def test_oidc_provider_is_registered_for_moto_cluster_issuer(chain: Chain) -> None:
    provider = chain["oidc"]
    issuer = _client(chain, "eks").describe_cluster(name=chain["cluster"].id)["cluster"]["identity"]["oidc"]["issuer"]

    described = _client(chain, "iam").get_open_id_connect_provider(OpenIDConnectProviderArn=provider.id)

    assert provider.id == provider.state["arn"] and provider.state["url"] == issuer
    assert described["Url"] == issuer.removeprefix("https://")
    assert described["ClientIDList"] == ["sts.amazonaws.com"]
    trust = _client(chain, "iam").get_role(RoleName=chain["mlflow-irsa"].id)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Federated": provider.id}


# --- EKS --------------------------------------------------------------------------------------------


def test_cluster_outputs_are_what_moto_describe_cluster_reports(chain: Chain) -> None:
    cluster = chain["cluster"]

    described = _client(chain, "eks").describe_cluster(name=cluster.id)["cluster"]

    assert cluster.state["arn"] == described["arn"]
    assert cluster.state["endpoint"] == described["endpoint"]
    assert cluster.state["version"] == described["version"] == "1.34"
    assert cluster.state["status"] == described["status"] == "ACTIVE"
    assert cluster.state["certificateAuthority"] == {"data": described["certificateAuthority"]["data"]}
    assert cluster.state["identities"] == [{"oidcs": [{"issuer": described["identity"]["oidc"]["issuer"]}]}]
    assert cluster.state["vpcConfig"]["subnetIds"] == [chain["subnet-private-a"].id, chain["subnet-private-b"].id]
    assert cluster.state["enabledClusterLogTypes"] == ["api", "audit"]


def test_cluster_security_group_is_a_real_group_in_the_cluster_vpc(chain: Chain) -> None:
    vpc_config = chain["cluster"].state["vpcConfig"]

    group = _client(chain, "ec2").describe_security_groups(GroupIds=[vpc_config["clusterSecurityGroupId"]])["SecurityGroups"][0]

    assert group["VpcId"] == vpc_config["vpcId"] == chain["vpc"].id
    assert _tags(group["Tags"])["aws:eks:cluster-name"] == chain["cluster"].id


def test_node_group_is_in_moto_with_the_cluster_version_and_its_settings(chain: Chain) -> None:
    group = chain["workers"]
    cluster_name, _, group_name = group.id.partition(":")

    described = _client(chain, "eks").describe_nodegroup(clusterName=cluster_name, nodegroupName=group_name)["nodegroup"]

    assert cluster_name == chain["cluster"].id
    assert group.state["arn"] == described["nodegroupArn"] and group.state["status"] == "ACTIVE"
    assert described["version"] == "1.34"
    assert described["scalingConfig"] == {"desiredSize": 2, "minSize": 1, "maxSize": 3}
    assert described["taints"] == [{"key": "dedicated", "value": "ml", "effect": "NO_SCHEDULE"}]
    assert described["nodeRole"] == chain["node-role"].state["arn"]


def test_node_group_update_rescales_it_in_place(chain: Chain) -> None:
    group = chain["workers"]
    handler = handler_for(group.type)
    inputs = {key: value for key, value in group.state.items() if key not in ("arn", "status", "resources", "tagsAll")}

    updated = handler.update(group.id, group.name, as_wire({**inputs, "scalingConfig": {"desiredSize": 3, "minSize": 1, "maxSize": 5}}), group.state, chain.ctx)
    handler.update(group.id, group.name, inputs, updated, chain.ctx)

    assert updated["scalingConfig"] == {"desiredSize": 3, "minSize": 1, "maxSize": 5}
    assert updated["arn"] == group.state["arn"]


# --- S3, ECR, RDS -----------------------------------------------------------------------------------


def test_bucket_settings_are_applied_to_the_bucket(chain: Chain) -> None:
    s3 = _client(chain, "s3")
    bucket = chain["artifacts"].id

    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])

    assert encryption["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms" and encryption["BucketKeyEnabled"] is True
    assert block == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    assert policy["Statement"][0]["Sid"] == "DenyInsecureTransport"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert {chain[n].id for n in ("artifacts-sse", "artifacts-pab", "artifacts-policy", "artifacts-versioning")} == {bucket}


def test_ecr_repository_and_lifecycle_policy_are_in_moto(chain: Chain) -> None:
    ecr = _client(chain, "ecr")
    repository = chain["images"]

    described = ecr.describe_repositories(repositoryNames=[repository.id])["repositories"][0]
    lifecycle = json.loads(ecr.get_lifecycle_policy(repositoryName=repository.id)["lifecyclePolicyText"])

    assert repository.state["arn"] == described["repositoryArn"]
    assert repository.state["repositoryUrl"] == described["repositoryUri"]
    assert repository.state["registryId"] == described["registryId"]
    assert described["imageTagMutability"] == "IMMUTABLE" and described["imageScanningConfiguration"] == {"scanOnPush": True}
    assert lifecycle["rules"][0]["selection"]["countNumber"] == 14
    assert chain["images-lifecycle"].id == repository.id


def test_rds_instance_is_in_moto_in_its_subnet_group(chain: Chain) -> None:
    rds = _client(chain, "rds")
    instance, group = chain["db"], chain["db-subnets"]

    described = rds.describe_db_instances(DBInstanceIdentifier=instance.id)["DBInstances"][0]
    described_group = rds.describe_db_subnet_groups(DBSubnetGroupName=group.id)["DBSubnetGroups"][0]

    assert group.state["arn"] == described_group["DBSubnetGroupArn"] and described_group["VpcId"] == chain["vpc"].id
    assert described["DBSubnetGroup"]["DBSubnetGroupName"] == group.id
    assert instance.state["arn"] == described["DBInstanceArn"]
    assert instance.state["resourceId"] == described["DbiResourceId"]
    assert instance.state["address"] == described["Endpoint"]["Address"]
    assert instance.state["endpoint"] == f"{described['Endpoint']['Address']}:{described['Endpoint']['Port']}"
    assert instance.state["port"] == 5432
    assert [g["VpcSecurityGroupId"] for g in described["VpcSecurityGroups"]] == [chain["db-sg"].id]
    assert described["StorageEncrypted"] is True and described["MaxAllocatedStorage"] == 100


def test_rds_subnet_group_update_changes_its_subnets_and_keeps_its_name(chain: Chain) -> None:
    handler = handler_for("aws:rds/subnetGroup:SubnetGroup")
    inputs = as_wire({"subnetIds": [chain["subnet-private-a"].id, chain["subnet-private-b"].id], "tags": TAGS})
    name, state = handler.create("extra-subnets", "aws:rds/subnetGroup:SubnetGroup", inputs, chain.ctx)

    wider = [chain[f"subnet-{key}"].id for key in ("public-a", "private-a", "private-b")]
    updated = handler.update(name, "extra-subnets", {**inputs, "subnetIds": wider}, state, chain.ctx)

    described = chain.ctx.aws("rds").describe_db_subnet_groups(DBSubnetGroupName=name)["DBSubnetGroups"][0]
    assert sorted(s["SubnetIdentifier"] for s in described["Subnets"]) == sorted(wider) == sorted(updated["subnetIds"])
    assert updated["name"] == name and updated["arn"] == state["arn"]
    handler.delete(name, updated, chain.ctx)
    assert not handler.exists(name, updated, chain.ctx)


def test_rds_password_never_enters_the_state(chain: Chain) -> None:
    state = chain["db"].state

    assert "password" not in state
    assert DB_PASSWORD not in json.dumps(state)


def test_protected_db_instance_refuses_deletion_until_protection_is_updated_off(chain: Chain) -> None:
    handler = handler_for("aws:rds/instance:Instance")
    inputs = {
        "engine": "postgres", "instanceClass": "db.t4g.micro", "allocatedStorage": 20, "username": "admin", "password": "pw-12345678",
        "dbSubnetGroupName": chain["db-subnets"].id, "deletionProtection": True, "skipFinalSnapshot": True,
    }
    identifier, state = handler.create("protected-db", "aws:rds/instance:Instance", as_wire(inputs), chain.ctx)

    with pytest.raises(RuntimeError, match="InvalidParameterCombination"):
        handler.delete(identifier, state, chain.ctx)
    assert handler.exists(identifier, state, chain.ctx)

    unprotected = handler.update(identifier, "protected-db", as_wire({**inputs, "deletionProtection": False}), state, chain.ctx)
    handler.delete(identifier, unprotected, chain.ctx)
    assert not handler.exists(identifier, unprotected, chain.ctx)


# --- Across every type ------------------------------------------------------------------------------


def test_every_emulator_reports_its_resource_exists(chain: Chain) -> None:
    missing = [c.name for c in chain.resources.values() if not handler_for(c.type).exists(c.id, c.state, chain.ctx)]

    assert missing == []


def test_updating_every_resource_with_its_own_inputs_changes_no_output(chain: Chain) -> None:
    # The elastic IP was read before the NAT gateway took it; a later read sees the association.
    refreshed = {"nat-eip": {"associationId", "networkInterface", "privateIp"}}

    for created in chain.resources.values():
        after = handler_for(created.type).update(created.id, created.name, created.inputs, created.state, chain.ctx)
        changed = {k for k in set(after) | set(created.state) if after.get(k) != created.state.get(k)}
        assert changed <= refreshed.get(created.name, set()), (created.name, changed)


def test_every_state_holds_the_inputs_and_only_pulumi_aws_output_properties(chain: Chain) -> None:
    for created in chain.resources.values():
        allowed = _output_properties(created.type)
        assert set(created.state) <= allowed, (created.type, set(created.state) - allowed)
        assert set(created.inputs) - {"password"} <= set(created.state), created.name
        if "tags" in created.state:
            assert created.state["tagsAll"] == created.state["tags"], created.name


def test_tagged_resources_carry_their_tags_in_moto(chain: Chain) -> None:
    ec2, iam, eks, ecr, rds, s3 = (_client(chain, s) for s in ("ec2", "iam", "eks", "ecr", "rds", "s3"))
    ec2_ids = [chain[n].id for n in ("vpc", "subnet-public-a", "igw", "nat-eip", "nat", "rt-public", "db-sg")]

    tagged = {
        **{i: _tags(ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [i]}])["Tags"]) for i in ec2_ids},
        "role": _tags(iam.list_role_tags(RoleName=chain["cluster-role"].id)["Tags"]),
        "oidc": _tags(iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=chain["oidc"].id)["Tags"]),
        "cluster": eks.describe_cluster(name=chain["cluster"].id)["cluster"]["tags"],
        "nodegroup": eks.describe_nodegroup(clusterName=chain["cluster"].id, nodegroupName=chain["workers"].state["nodeGroupName"])["nodegroup"]["tags"],
        "repository": _tags(ecr.list_tags_for_resource(resourceArn=chain["images"].state["arn"])["tags"]),
        "db": _tags(rds.list_tags_for_resource(ResourceName=chain["db"].state["arn"])["TagList"]),
        "db-subnets": _tags(rds.list_tags_for_resource(ResourceName=chain["db-subnets"].state["arn"])["TagList"]),
        "bucket": _tags(s3.get_bucket_tagging(Bucket=chain["artifacts"].id)["TagSet"]),
    }

    untagged = {key: tags for key, tags in tagged.items() if not TAGS.items() <= tags.items()}
    assert untagged == {}


def test_resources_can_be_found_by_tag_through_ec2_filters(chain: Chain) -> None:
    found = _client(chain, "ec2").describe_vpcs(Filters=[{"Name": "tag:provisioner:stack", "Values": ["mlops-dev"]}])["Vpcs"]

    assert [vpc["VpcId"] for vpc in found] == [chain["vpc"].id]


# --- Deletion ---------------------------------------------------------------------------------------


def test_deleting_in_reverse_order_leaves_none_of_the_resources_in_moto(destroyed: Chain) -> None:
    ctx = destroyed.ctx
    still_there = [c.name for c in destroyed.resources.values() if handler_for(c.type).exists(c.id, c.state, ctx)]
    ec2 = ctx.aws("ec2")

    assert still_there == []
    assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [destroyed["vpc"].id]}])["Vpcs"] == []
    assert ec2.describe_security_groups(Filters=[{"Name": "tag:aws:eks:cluster-name", "Values": [destroyed["cluster"].id]}])["SecurityGroups"] == []
    assert destroyed["cluster"].id not in ctx.aws("eks").list_clusters()["clusters"]
    assert destroyed["artifacts"].id not in [b["Name"] for b in ctx.aws("s3").list_buckets()["Buckets"]]
    assert destroyed["images"].id not in [r["repositoryName"] for r in ctx.aws("ecr").describe_repositories()["repositories"]]
    assert destroyed["db"].id not in [i["DBInstanceIdentifier"] for i in ctx.aws("rds").describe_db_instances()["DBInstances"]]
    assert destroyed["cluster-role"].id not in [r["RoleName"] for r in ctx.aws("iam").list_roles()["Roles"]]
    tagged = ctx.aws("resourcegroupstaggingapi").get_resources(TagFilters=[{"Key": "provisioner:stack", "Values": ["teardown-dev"]}])
    # A deleted NAT gateway stays listed for a while in state "deleted", on AWS as in moto.
    deleted_nat = ec2.describe_nat_gateways(NatGatewayIds=[destroyed["nat"].id])["NatGateways"][0]
    assert deleted_nat["State"] == "deleted"
    assert [t["ResourceARN"] for t in tagged["ResourceTagMappingList"] if "natgateway/" not in t["ResourceARN"]] == []


def test_db_deletion_takes_the_requested_final_snapshot(destroyed: Chain) -> None:
    snapshots = destroyed.ctx.aws("rds").describe_db_snapshots(DBInstanceIdentifier=destroyed["db"].id)["DBSnapshots"]

    assert [s["DBSnapshotIdentifier"] for s in snapshots] == ["teardown-db-final"]


def test_deleting_again_is_not_an_error_and_brings_nothing_back(destroyed: Chain) -> None:
    destroyed.destroy()

    still_there = [
        name for name, created in destroyed.resources.items()
        if handler_for(created.type).exists(created.id, created.state, destroyed.ctx) and not _stays_listed(created)
    ]
    assert still_there == []


def _stays_listed(created: Created) -> bool:
    """Resources AWS (and moto) keep listing for a while after deletion: a NAT gateway in state deleted."""
    return created.type == "aws:ec2/natGateway:NatGateway"


# --- Invokes ----------------------------------------------------------------------------------------


def test_program_invokes_return_moto_zones_and_caller_identity(moto_aws: None) -> None:
    import pulumi
    import pulumi_aws as aws

    def program() -> None:
        zones = aws.get_availability_zones(state="available")
        identity = aws.get_caller_identity()
        pulumi.export("zones", zones.names)
        pulumi.export("zone_ids", zones.zone_ids)
        pulumi.export("account", identity.account_id)
        pulumi.export("arn", identity.arn)

    ctx = EmulationContext(stack="dev", project="provisioner-aws", region=REGION)
    outputs = run_program_with_mocks(program, RecordingMocks(ctx), ctx.project, ctx.stack, False)

    described = sorted(ctx.aws("ec2").describe_availability_zones()["AvailabilityZones"], key=lambda z: z["ZoneName"])
    identity = ctx.aws("sts").get_caller_identity()
    assert outputs["zones"].value == [z["ZoneName"] for z in described] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert outputs["zone_ids"].value == [z["ZoneId"] for z in described]
    assert outputs["account"].value == identity["Account"]
    assert outputs["arn"].value == identity["Arn"]


def test_program_resources_reach_moto_with_pulumi_aws_wire_names(moto_aws: None) -> None:
    import pulumi
    import pulumi_aws as aws

    def program() -> None:
        zones = aws.get_availability_zones(state="available")
        vpc = aws.ec2.Vpc("program-vpc", cidr_block="10.9.0.0/16", enable_dns_hostnames=True, tags={"app": "program"})
        subnet = aws.ec2.Subnet("program-subnet", vpc_id=vpc.id, cidr_block="10.9.1.0/24", availability_zone=zones.names[1])
        pulumi.export("vpc_id", vpc.id)
        pulumi.export("main_route_table", vpc.main_route_table_id)
        pulumi.export("subnet_zone", subnet.availability_zone)
        pulumi.export("subnet_arn", subnet.arn)

    ctx = EmulationContext(stack="dev", project="provisioner-aws", region=REGION)
    outputs = {k: v.value for k, v in run_program_with_mocks(program, RecordingMocks(ctx), ctx.project, ctx.stack, False).items()}

    ec2 = ctx.aws("ec2")
    vpc = ec2.describe_vpcs(VpcIds=[outputs["vpc_id"]])["Vpcs"][0]
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [outputs["vpc_id"]]}])["Subnets"][0]
    assert _tags(vpc["Tags"]) == {"app": "program"}
    assert outputs["main_route_table"].startswith("rtb-")
    assert subnet["AvailabilityZone"] == outputs["subnet_zone"] == "eu-west-1b"
    assert subnet["SubnetArn"] == outputs["subnet_arn"]


def test_simulated_engine_mocks_answer_known_invokes_and_return_nothing_for_others(moto_aws: None) -> None:
    ctx = EmulationContext(stack="dev", project="provisioner-aws", region=REGION)
    mocks = _EmulatorMocks(None, {}, None, ctx, preview=False, sink=None, fail_on=None)  # type: ignore[arg-type]

    zones = mocks.call(SimpleNamespace(token="aws:index/getAvailabilityZones:getAvailabilityZones", args={"state": "available"}))
    unknown = mocks.call(SimpleNamespace(token="aws:ec2/getAmi:getAmi", args={}))

    assert zones["names"] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"] and zones["id"] == REGION
    assert unknown == {}


def test_partition_and_region_invokes_describe_the_stack_region(moto_aws: None) -> None:
    ctx = EmulationContext(stack="dev", project="provisioner-aws", region=REGION)

    partition = invoke_for("aws:index/getPartition:getPartition")({}, ctx)  # type: ignore[misc]
    region = invoke_for("aws:index/getRegion:getRegion")({}, ctx)  # type: ignore[misc]

    assert partition == {"partition": "aws", "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws", "id": "aws"}
    assert region["name"] == region["region"] == region["id"] == REGION
    assert region["description"] == "Europe (Ireland)" and region["endpoint"] == f"ec2.{REGION}.amazonaws.com"


def test_a_waiter_that_gives_up_raises_timeout_naming_it(moto_aws: None) -> None:
    import boto3

    from provisioner.engine.emulators.aws_common import wait_for

    ec2 = boto3.client("ec2", region_name="eu-west-1")
    with pytest.raises(TimeoutError, match=r"^gave up waiting \(nat_gateway_available, 1s\)"):
        wait_for(ec2, "nat_gateway_available", timeout=1, NatGatewayIds=["nat-0123456789abcdef0"])
