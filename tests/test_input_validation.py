"""Every bad input stops deploy-stack with exit 2 and one line, before anything is written or created."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provisioner.input_rules import check_image_reference, check_vpc_cidr, parse_quantity
from tests.helpers import cli, deploy_cli, registry_rows, s3_buckets

AWS_BAD_SETTINGS = [
    pytest.param(
        "cluster.nodes.instance_type=t9.mega",
        "field 'cluster.nodes.instance_type': unknown EC2 instance type 't9.mega'",
        id="instance-type",
    ),
    pytest.param(
        "cluster.gpu_nodes.instance_type=g5.xlarg",
        "field 'cluster.gpu_nodes.instance_type': unknown EC2 instance type 'g5.xlarg' "
        "(closest: g5.xlarge, g5g.xlarge, g5.8xlarge)",
        id="gpu-instance-type",
    ),
    pytest.param(
        "cluster.kubernetes_version=banana",
        "field 'cluster.kubernetes_version': not a Kubernetes version: 'banana' (expected MAJOR.MINOR, e.g. 1.34)",
        id="kubernetes-version",
    ),
    pytest.param(
        "mlflow.cpu_request=lots",
        "field 'mlflow.cpu_request': not a Kubernetes quantity: 'lots' (e.g. 500m, 2, 512Mi, 4Gi)",
        id="cpu-request",
    ),
    pytest.param(
        "mlflow.memory_limit=1Gb",
        "field 'mlflow.memory_limit': not a Kubernetes quantity: '1Gb' (e.g. 500m, 2, 512Mi, 4Gi)",
        id="memory-limit",
    ),
    pytest.param(
        "mlflow.cpu_request=8",
        "field 'mlflow': mlflow.cpu_request=8 is more than mlflow.cpu_limit=",
        id="request-above-limit",
    ),
    pytest.param(
        "mlflow.image=ghcr.io/mlflow/mlflow:v3; rm -rf /",
        "field 'mlflow.image': not an image reference: 'ghcr.io/mlflow/mlflow:v3; rm -rf /' "
        "(expected [registry/]path[:tag][@sha256:digest])",
        id="image-with-shell",
    ),
    pytest.param(
        "cluster.nodes.max=1e20",
        "field 'cluster.nodes.max': 1e20 nodes is more than EKS allows in a managed node group (450)",
        id="too-many-nodes",
    ),
    pytest.param(
        "cluster.nodes.desired=451",
        "field 'cluster.nodes.desired': 451 nodes is more than EKS allows in a managed node group (450)",
        id="one-node-too-many",
    ),
    pytest.param(
        "network.cidr=0.0.0.0/0",
        "field 'network.cidr': the VPC 0.0.0.0/0 is not a private range: "
        "use one inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10",
        id="public-cidr",
    ),
    pytest.param(
        "network.cidr=10.0.0.0/8",
        "field 'network.cidr': the VPC 10.0.0.0/8 is too large: AWS allows /16 at most",
        id="cidr-too-large",
    ),
    pytest.param(
        "network.cidr=10.0.0.0/24",
        "field 'network.cidr': the VPC 10.0.0.0/24 is too small: use a /20 or larger",
        id="cidr-too-small",
    ),
]


def _assert_refused_with_nothing_written(args: tuple[str, ...], message: str) -> None:
    result = deploy_cli(*args, "--simulate")

    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr
    assert not (Path(os.environ["PROVISIONER_HOME"]) / "simulated").exists()
    assert all(rows == [] for rows in registry_rows().values())
    assert s3_buckets() == []
    import boto3

    assert boto3.client("eks").list_clusters()["clusters"] == []
    assert [v for v in boto3.client("ec2").describe_vpcs()["Vpcs"] if not v.get("IsDefault")] == []


@pytest.mark.usefixtures("aws_endpoint")
@pytest.mark.parametrize(("assignment", "message"), AWS_BAD_SETTINGS)
def test_bad_aws_setting_exits_2_before_anything_is_written(assignment: str, message: str) -> None:
    _assert_refused_with_nothing_written(("aws", "--env", "dev", "--set", assignment), f"invalid settings for recipe 'aws': {message}")


@pytest.mark.usefixtures("aws_endpoint")
@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        pytest.param(
            "cluster.nodes.machine_type=t9.mega",
            "field 'cluster.nodes.machine_type': not a Compute Engine machine type: 't9.mega' "
            "(e.g. e2-standard-4, n2-highmem-8, custom-4-16384)",
            id="machine-type",
        ),
        pytest.param(
            "cluster.nodes.max=1001",
            "field 'cluster.nodes.max': 1001 nodes is more than GKE allows in a node pool per zone (1000)",
            id="too-many-nodes",
        ),
        pytest.param(
            "mlflow.image=mlflow\n",
            "field 'mlflow.image': not an image reference: 'mlflow\\n'",
            id="image-with-newline",
        ),
    ],
)
def test_bad_gcp_setting_exits_2_before_anything_is_written(assignment: str, message: str) -> None:
    os.environ["GOOGLE_CLOUD_PROJECT"] = "demo-project"
    _assert_refused_with_nothing_written(("gcp", "--env", "dev", "--set", assignment), f"invalid settings for recipe 'gcp': {message}")


@pytest.mark.usefixtures("aws_endpoint")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(("aws", "--env", "dev", "--name", "aws-dev\n"), "invalid stack name 'aws-dev\\n'", id="stack-name"),
        pytest.param(("aws", "--env", "dev\n"), "invalid env name 'dev\\n'", id="env-name"),
    ],
)
def test_names_with_a_trailing_newline_are_refused(args: tuple[str, ...], message: str) -> None:
    _assert_refused_with_nothing_written(args, message)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(("component", "register", "local\n", "-t", "orchestrator", "-f", "local"), "field 'name'", id="component"),
        pytest.param(("secret", "set", "--value-in-args", "db\n", "password=x"), "invalid secret name 'db\\n'", id="secret"),
    ],
)
def test_registry_names_with_a_trailing_newline_are_refused(args: tuple[str, ...], message: str) -> None:
    result = cli(*args)

    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert all(rows == [] for rows in registry_rows().values())


@pytest.mark.parametrize(
    "reference",
    ["ghcr.io/mlflow/mlflow:v3.17.2-full", "localhost:5000/team/app", "python:3.12-slim", "busybox",
     "gcr.io/p/app@sha256:" + "a" * 64, "quay.io/org/app:v1@sha256:" + "b" * 64],
)
def test_real_image_references_are_accepted(reference: str) -> None:
    assert check_image_reference(reference) == reference


@pytest.mark.parametrize(
    "reference", ["mlflow:v1; rm -rf /", "mlflow:v1 ", "MLflow:v1", "app:", "app@sha256:short", "$(id)", "a//b"]
)
def test_bad_image_references_are_refused(reference: str) -> None:
    with pytest.raises(ValueError, match="not an image reference"):
        check_image_reference(reference)


@pytest.mark.parametrize(
    ("quantity", "amount"),
    [("500m", "0.5"), ("2", "2"), ("1.5", "1.5"), ("512Mi", str(512 * 2**20)), ("1Gi", str(2**30)),
     ("1G", str(10**9)), ("1e3", "1000"), ("1E", str(10**18))],
)
def test_kubernetes_quantities_parse_to_their_amount(quantity: str, amount: str) -> None:
    from decimal import Decimal

    assert parse_quantity(quantity) == Decimal(amount)


@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "172.16.0.0/20", "192.168.0.0/16", "100.64.0.0/16"])
def test_private_vpc_ranges_from_16_to_20_are_accepted(cidr: str) -> None:
    assert check_vpc_cidr(cidr) == cidr


@pytest.mark.parametrize("cidr", ["11.0.0.0/16", "100.128.0.0/16", "fd00::/48"])
def test_public_or_ipv6_vpc_ranges_are_refused(cidr: str) -> None:
    with pytest.raises(ValueError, match="is not a private range"):
        check_vpc_cidr(cidr)


@pytest.mark.parametrize("version", ["1.34.1", "1.34 ", "v1.34", "1"])
def test_kubernetes_versions_are_major_dot_minor_in_full(version: str) -> None:
    from provisioner.input_rules import check_kubernetes_version

    with pytest.raises(ValueError, match="not a Kubernetes version"):
        check_kubernetes_version(version)
