"""examples/embed-aws under mocks backed by moto: its own VPC, the embedded stack reusing it, registrable exports."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import pytest

from provisioner.engine.emulators import EmulationContext
from provisioner.engine.simulated import aws_emulation, run_program_with_mocks
from provisioner.recipe_api import RecipeContext
from provisioner.guardrails import StackResource, stack_violations
from recipes.aws.recipe import AwsOutputs, AwsRecipe, aws_registration
from tests.examples import EXAMPLES, load_example
from tests.recipes.mocks import RecordingMocks

REGION = "eu-west-1"
PROJECT = "embed-aws"
PULUMI_STACK = "dev"
CLUSTER = f"{PROJECT}-{PULUMI_STACK}"
NETWORK_TYPES = (
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/eip:Eip",
    "aws:ec2/routeTable:RouteTable",
)


@dataclass
class Run:
    mocks: RecordingMocks
    exports: dict[str, Any]
    moto_cluster: dict[str, Any]
    moto_vpc_ids: list[str]
    moto_cluster_subnet_vpcs: set[str]


@pytest.fixture(scope="module")
def run() -> Run:
    """One run of the example's main() as `pulumi up` would run it (stack dev, env staging)."""
    example = load_example("embed-aws", "embed_aws")
    saved = os.environ.get("PULUMI_CONFIG")
    os.environ["PULUMI_CONFIG"] = json.dumps({"aws:region": REGION, f"{PROJECT}:env": "staging"})
    try:
        with aws_emulation(REGION):
            import boto3

            mocks = RecordingMocks(EmulationContext(stack=PULUMI_STACK, project=PROJECT, region=REGION))
            exports = run_program_with_mocks(example.main, mocks, PROJECT, PULUMI_STACK, False)
            ec2 = boto3.client("ec2", region_name=REGION)
            cluster = boto3.client("eks", region_name=REGION).describe_cluster(name=CLUSTER)["cluster"]
            vpcs = [vpc["VpcId"] for vpc in ec2.describe_vpcs()["Vpcs"]]
            subnets = ec2.describe_subnets(SubnetIds=cluster["resourcesVpcConfig"]["subnetIds"])["Subnets"]
    finally:
        if saved is None:
            os.environ.pop("PULUMI_CONFIG", None)
        else:
            os.environ["PULUMI_CONFIG"] = saved
    return Run(mocks, {key: value.value for key, value in exports.items()}, cluster, vpcs, {s["VpcId"] for s in subnets})


def _own(run: Run, resource_type: str) -> list[str]:
    return [r.resource_id for r in run.mocks.of_type(resource_type)]


def test_the_example_is_a_complete_pulumi_project() -> None:
    folder = EXAMPLES / "embed-aws"

    assert "name: embed-aws" in (folder / "Pulumi.yaml").read_text()
    assert "python" in (folder / "Pulumi.yaml").read_text()
    requirements = (folder / "requirements.txt").read_text()
    assert "pip install -e ../.." in requirements
    assert {"provisioner", "pulumi>=3.200,<4", "pulumi-aws>=7.0,<8"} <= {line.strip() for line in requirements.splitlines()}
    assert "from embed_aws import main" in (folder / "__main__.py").read_text()
    readme = (folder / "README.md").read_text()
    assert "pulumi up" in readme and "provisioner register --from-stack ." in readme


def test_exactly_one_vpc_exists_and_it_is_the_examples_own(run: Run) -> None:
    (vpc,) = run.mocks.of_type("aws:ec2/vpc:Vpc")

    assert vpc.name == "team-vpc"
    assert run.exports["vpc_id"] == vpc.resource_id
    assert vpc.resource_id in run.moto_vpc_ids  # moto also has its default VPC, which nothing here created


def test_the_embedded_stack_creates_no_network_of_its_own(run: Run) -> None:
    for resource_type in NETWORK_TYPES:
        assert all(r.name.startswith("team-") for r in run.mocks.of_type(resource_type)), resource_type
    assert len(run.mocks.of_type("aws:ec2/subnet:Subnet")) == 4
    assert len(run.mocks.of_type("aws:ec2/natGateway:NatGateway")) == 1
    assert len(run.mocks.of_type("aws:ec2/internetGateway:InternetGateway")) == 1
    (vpc,) = run.mocks.of_type("aws:ec2/vpc:Vpc")
    subnets = run.mocks.of_type("aws:ec2/subnet:Subnet")
    assert {s.inputs["vpcId"] for s in subnets} == {vpc.resource_id}
    assert len({s.inputs["availabilityZone"] for s in subnets}) == 2


def test_the_nat_routes_the_private_subnets_and_the_igw_the_public_ones(run: Run) -> None:
    (nat,) = run.mocks.of_type("aws:ec2/natGateway:NatGateway")
    (igw,) = run.mocks.of_type("aws:ec2/internetGateway:InternetGateway")
    public = {r.resource_id for r in run.mocks.of_type("aws:ec2/subnet:Subnet") if "public" in r.name}
    routes = {r.name: r.inputs for r in run.mocks.of_type("aws:ec2/route:Route")}

    assert nat.inputs["subnetId"] in public
    assert routes["team-private-default"]["natGatewayId"] == nat.resource_id
    assert routes["team-public-default"]["gatewayId"] == igw.resource_id


def test_eks_cluster_and_node_group_use_the_given_subnets(run: Run) -> None:
    subnets = {r.name: r.resource_id for r in run.mocks.of_type("aws:ec2/subnet:Subnet")}
    private = [subnets["team-private-0"], subnets["team-private-1"]]
    public = [subnets["team-public-0"], subnets["team-public-1"]]
    (cluster,) = run.mocks.of_type("aws:eks/cluster:Cluster")
    (group,) = run.mocks.of_type("aws:eks/nodeGroup:NodeGroup")

    assert cluster.inputs["vpcConfig"]["subnetIds"] == private + public
    assert group.inputs["subnetIds"] == private
    assert sorted(run.moto_cluster["resourcesVpcConfig"]["subnetIds"]) == sorted(private + public)
    assert run.moto_cluster_subnet_vpcs == {run.exports["vpc_id"]}
    assert run.exports["private_subnet_ids"] == private and run.exports["public_subnet_ids"] == public


def test_exports_hold_everything_the_aws_registration_reads(run: Run) -> None:
    context = RecipeContext("aws", "staging", "team-ml")

    plan = aws_registration(AwsOutputs.read(run.exports), context)

    assert {c.type for c in plan.components} == {
        "orchestrator", "artifact_store", "container_registry", "experiment_tracker", "model_registry", "step_operator", "image_builder",
    }
    (connector,) = plan.connectors
    assert connector.configuration == {"role_arn": run.exports["connector_role_arn"], "region": REGION}
    assert run.exports["cluster_name"] == CLUSTER
    assert run.exports["mlflow_password"] and run.exports["mlflow_username"]
    assert AwsRecipe().summary(AwsOutputs.read(run.exports), context)  # the how-to lines read only exported keys too


def test_the_plan_from_the_exports_registers(run: Run) -> None:
    from provisioner.registry.service import Registry

    context = RecipeContext("aws", "staging", "team-ml")

    record = Registry.open().apply_deployment(aws_registration(AwsOutputs.read(run.exports), context), context)

    assert record.stack == "team-ml" and len(record.components) == 7 and record.connectors == ["team-ml-aws"]


def test_every_resource_carries_the_stack_tags_and_passes_the_guardrails(run: Run) -> None:
    resources = [StackResource(r.type, r.name, r.resource_id, r.inputs) for r in run.mocks.resources]

    assert stack_violations(resources, "staging") == []
