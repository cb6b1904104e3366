"""The dependency graph is the one the Pulumi SDK sends at registration, not a guess from matching strings."""

from __future__ import annotations

import json
from typing import Any

from provisioner.engine.simulated import Registration, key_of, run_program_with_mocks
from tests.helpers import deploy_cli


class _EchoMocks:
    """Every resource gets an id and its inputs back; the monitor fills ``registrations``."""

    def __init__(self) -> None:
        self.registrations: dict[str, Registration] = {}

    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: Any) -> dict[str, Any]:
        return {}


def _program() -> None:
    import pulumi
    import pulumi_aws as aws

    class Network(pulumi.ComponentResource):
        def __init__(self, name: str) -> None:
            super().__init__("test:index:Network", name)
            self.vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block="10.0.0.0/16", opts=pulumi.ResourceOptions(parent=self))
            self.subnet = aws.ec2.Subnet(f"{name}-subnet", vpc_id=self.vpc.id, cidr_block="10.0.1.0/24",
                                         opts=pulumi.ResourceOptions(parent=self))

    network = Network("net")
    firewall = aws.ec2.SecurityGroup("sg", vpc_id=network.vpc.id)
    bucket = aws.s3.Bucket("bucket")
    aws.s3.BucketPolicy("policy", bucket=bucket.id,
                        policy=pulumi.Output.all(bucket.id, network.subnet.id).apply(lambda ids: json.dumps({"ids": ids})))
    aws.s3.Bucket("after-sg", opts=pulumi.ResourceOptions(depends_on=[firewall]))
    aws.s3.Bucket("alone")


def test_each_resource_depends_on_exactly_what_the_program_declares() -> None:
    mocks = _EchoMocks()

    run_program_with_mocks(_program, mocks, "graph", "test", preview=True)

    graph = {key.split("::")[1]: sorted(key_of(urn).split("::")[1] for urn in reg.dependencies)
             for key, reg in mocks.registrations.items() if not key.startswith(("test:index", "pulumi:pulumi:Stack"))}
    assert graph == {
        "net-vpc": [],
        "net-subnet": ["net-vpc"],
        "sg": ["net-vpc"],
        "bucket": [],
        "policy": ["bucket", "net-subnet"],
        "after-sg": ["sg"],
        "alone": [],
    }
    parents = {key.split("::")[1]: reg.parent for key, reg in mocks.registrations.items()}
    assert parents["net-subnet"] == parents["net-vpc"] == "urn:pulumi:test::graph::test:index:Network::net"
    assert mocks.registrations["aws:ec2/subnet:Subnet::net-subnet"].urn == (
        "urn:pulumi:test::graph::test:index:Network$aws:ec2/subnet:Subnet::net-subnet"
    )


def test_the_plan_json_lists_each_resources_dependencies_by_urn(demo_recipe: object, aws_endpoint: str) -> None:
    plan = deploy_cli("demo", "--env", "dev", "--simulate", "--plan", "--output", "json")

    assert plan.exit_code == 0, plan.stderr
    resources = {r["name"]: r for r in json.loads(plan.stdout)["resources"]}
    bucket, password = resources["demo-dev-artifacts"], resources["demo-dev-tracker-password"]
    assert bucket["dependencies"] == []
    assert password["dependencies"] == [bucket["urn"]]  # the program's depends_on=[bucket]
    assert bucket["urn"] == "urn:pulumi:dev::provisioner-demo::aws:s3/bucket:Bucket::demo-dev-artifacts"


def test_mlflows_data_claim_waits_for_the_default_storage_class_it_binds_to(aws_endpoint: str) -> None:
    """aws dev keeps MLflow's SQLite on a claim with no class named: it needs the recipe's default class first.

    A depends_on given to the MlflowServer component would not reach the claim (Pulumi components pass
    no dependencies to their children, pulumi/pulumi#8721), so the claim itself must carry it."""
    plan = deploy_cli("aws", "--env", "dev", "--simulate", "--plan", "--output", "json")

    assert plan.exit_code == 0, plan.stderr
    resources = {r["name"]: r for r in json.loads(plan.stdout)["resources"]}
    claim, storage_class = resources["aws-dev-mlflow-data"], resources["aws-dev-storage-class"]
    assert storage_class["urn"] in claim["dependencies"]
