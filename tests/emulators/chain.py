"""A realistic AWS stack created resource by resource through the emulators, in dependency order."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from provisioner.engine.emulators import EmulationContext, handler_for

TAGS = {"provisioner:stack": "mlops-dev", "provisioner:env": "dev"}
THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
DB_PASSWORD = "s3cr3t-Passw0rd-never-in-state"


def as_wire(value: Any) -> Any:
    """Inputs as Pulumi's mocks deliver them: every number a float (protobuf Struct has no integers)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {key: as_wire(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_wire(item) for item in value]
    return value


@dataclass
class Created:
    """One resource as the engine would record it."""

    type: str
    name: str
    id: str
    state: dict[str, Any]
    inputs: dict[str, Any]


@dataclass
class Chain:
    """Every created resource by logical name, in creation order."""

    ctx: EmulationContext
    resources: dict[str, Created] = field(default_factory=dict)

    def add(self, type_token: str, name: str, inputs: dict[str, Any]) -> Created:
        wire = as_wire(inputs)
        resource_id, state = handler_for(type_token).create(name, type_token, wire, self.ctx)
        created = Created(type_token, name, resource_id, state, wire)
        self.resources[name] = created
        return created

    def __getitem__(self, name: str) -> Created:
        return self.resources[name]

    def destroy(self) -> None:
        """Delete everything in reverse creation order, as the engine does."""
        for created in reversed(list(self.resources.values())):
            handler_for(created.type).delete(created.id, created.state, self.ctx)


def _trust(principal: dict[str, Any], action: str = "sts:AssumeRole", condition: dict[str, Any] | None = None) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def build_chain(ctx: EmulationContext, *, tags: dict[str, str] | None = None) -> Chain:
    """vpc -> subnets -> igw -> eip -> nat -> route tables -> routes -> associations -> security group
    -> IAM roles -> EKS cluster -> OIDC provider -> node group -> bucket and settings -> ECR -> RDS."""
    tags = dict(tags or TAGS)
    chain = Chain(ctx)
    vpc = chain.add("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16", "enableDnsHostnames": True, "enableDnsSupport": True, "tags": tags})
    subnets = {
        "public-a": ("10.0.0.0/20", "eu-west-1a", True),
        "private-a": ("10.0.32.0/20", "eu-west-1a", False),
        "private-b": ("10.0.48.0/20", "eu-west-1b", False),
    }
    for key, (cidr, zone, public) in subnets.items():
        chain.add("aws:ec2/subnet:Subnet", f"subnet-{key}", {
            "vpcId": vpc.id, "cidrBlock": cidr, "availabilityZone": zone, "mapPublicIpOnLaunch": public,
            "tags": {**tags, "Name": f"mlops-{key}"},
        })
    igw = chain.add("aws:ec2/internetGateway:InternetGateway", "igw", {"vpcId": vpc.id, "tags": tags})
    eip = chain.add("aws:ec2/eip:Eip", "nat-eip", {"domain": "vpc", "tags": tags})
    nat = chain.add("aws:ec2/natGateway:NatGateway", "nat", {"allocationId": eip.id, "subnetId": chain["subnet-public-a"].id, "tags": tags})
    public_rt = chain.add("aws:ec2/routeTable:RouteTable", "rt-public", {"vpcId": vpc.id, "tags": tags})
    private_rt = chain.add("aws:ec2/routeTable:RouteTable", "rt-private", {"vpcId": vpc.id, "tags": tags})
    chain.add("aws:ec2/route:Route", "route-public", {"routeTableId": public_rt.id, "destinationCidrBlock": "0.0.0.0/0", "gatewayId": igw.id})
    chain.add("aws:ec2/route:Route", "route-private", {"routeTableId": private_rt.id, "destinationCidrBlock": "0.0.0.0/0", "natGatewayId": nat.id})
    for key, table in (("public-a", public_rt), ("private-a", private_rt), ("private-b", private_rt)):
        chain.add("aws:ec2/routeTableAssociation:RouteTableAssociation", f"assoc-{key}", {"subnetId": chain[f"subnet-{key}"].id, "routeTableId": table.id})
    chain.add("aws:ec2/securityGroup:SecurityGroup", "db-sg", {
        "vpcId": vpc.id,
        "description": "PostgreSQL from inside the VPC",
        "ingress": [{"protocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrBlocks": ["10.0.0.0/16"]}],
        "egress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}],
        "tags": tags,
    })
    private_subnets = [chain["subnet-private-a"].id, chain["subnet-private-b"].id]

    cluster_role = chain.add("aws:iam/role:Role", "cluster-role", {"assumeRolePolicy": _trust({"Service": "eks.amazonaws.com"}), "tags": tags})
    chain.add("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "cluster-policy-0", {
        "role": cluster_role.id, "policyArn": "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
    })
    node_role = chain.add("aws:iam/role:Role", "node-role", {"assumeRolePolicy": _trust({"Service": "ec2.amazonaws.com"}), "path": "/mlops/", "tags": tags})
    for index, policy in enumerate(("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")):
        chain.add("aws:iam/rolePolicyAttachment:RolePolicyAttachment", f"node-policy-{index}", {
            "role": node_role.id, "policyArn": f"arn:aws:iam::aws:policy/{policy}",
        })
    cluster = chain.add("aws:eks/cluster:Cluster", "cluster", {
        "roleArn": cluster_role.state["arn"],
        "version": "1.34",
        "vpcConfig": {"subnetIds": private_subnets, "endpointPrivateAccess": True, "endpointPublicAccess": True},
        "enabledClusterLogTypes": ["api", "audit"],
        "accessConfig": {"authenticationMode": "API_AND_CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": True},
        "tags": tags,
    })
    issuer = cluster.state["identities"][0]["oidcs"][0]["issuer"]
    oidc = chain.add("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "oidc", {
        "url": issuer, "clientIdLists": ["sts.amazonaws.com"], "thumbprintLists": [THUMBPRINT], "tags": tags,
    })
    chain.add("aws:eks/nodeGroup:NodeGroup", "workers", {
        "clusterName": cluster.id,
        "nodeRoleArn": node_role.state["arn"],
        "subnetIds": private_subnets,
        "instanceTypes": ["t3.large"],
        "scalingConfig": {"desiredSize": 2, "minSize": 1, "maxSize": 3},
        "capacityType": "ON_DEMAND",
        "amiType": "AL2_x86_64",
        "diskSize": 50,
        "labels": {"workload": "ml"},
        "taints": [{"key": "dedicated", "value": "ml", "effect": "NO_SCHEDULE"}],
        "tags": tags,
    })

    bucket = chain.add("aws:s3/bucket:Bucket", "artifacts", {"forceDestroy": True, "tags": tags})
    chain.add("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "artifacts-sse", {
        "bucket": bucket.id,
        "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}, "bucketKeyEnabled": True}],
    })
    chain.add("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "artifacts-pab", {
        "bucket": bucket.id, "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True,
    })
    chain.add("aws:s3/bucketPolicy:BucketPolicy", "artifacts-policy", {"bucket": bucket.id, "policy": json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [bucket.state["arn"], f"{bucket.state['arn']}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }],
    })})
    chain.add("aws:s3/bucketVersioning:BucketVersioning", "artifacts-versioning", {"bucket": bucket.id, "versioningConfiguration": {"status": "Enabled"}})
    provider_host = issuer.removeprefix("https://")
    irsa = chain.add("aws:iam/role:Role", "mlflow-irsa", {
        "assumeRolePolicy": _trust(
            {"Federated": oidc.id}, "sts:AssumeRoleWithWebIdentity",
            {"StringEquals": {f"{provider_host}:sub": "system:serviceaccount:mlflow:mlflow"}},
        ),
        "tags": tags,
    })
    chain.add("aws:iam/rolePolicy:RolePolicy", "mlflow-irsa-s3", {"role": irsa.id, "policy": json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": f"{bucket.state['arn']}/*"}],
    })})

    repository = chain.add("aws:ecr/repository:Repository", "images", {
        "imageScanningConfiguration": {"scanOnPush": True},
        "imageTagMutability": "IMMUTABLE",
        "encryptionConfigurations": [{"encryptionType": "AES256"}],
        "forceDelete": True,
        "tags": tags,
    })
    chain.add("aws:ecr/lifecyclePolicy:LifecyclePolicy", "images-lifecycle", {"repository": repository.id, "policy": json.dumps({"rules": [{
        "rulePriority": 1, "description": "expire untagged images",
        "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14},
        "action": {"type": "expire"},
    }]})})

    subnet_group = chain.add("aws:rds/subnetGroup:SubnetGroup", "db-subnets", {"subnetIds": private_subnets, "tags": tags})
    chain.add("aws:rds/instance:Instance", "db", {
        "engine": "postgres", "engineVersion": "16", "instanceClass": "db.t4g.micro",
        "allocatedStorage": 20, "maxAllocatedStorage": 100, "dbName": "mlflow", "username": "mlflow", "password": DB_PASSWORD,
        "dbSubnetGroupName": subnet_group.id, "vpcSecurityGroupIds": [chain["db-sg"].id],
        "storageEncrypted": True, "publiclyAccessible": False, "deletionProtection": False,
        "skipFinalSnapshot": False, "finalSnapshotIdentifier": f"{ctx.stack}-db-final",
        "backupRetentionPeriod": 7, "multiAz": False, "tags": tags,
    })
    return chain
