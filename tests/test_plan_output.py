"""The plan shows what will be made: each resource's inputs (secrets masked), and one line per big item."""

from __future__ import annotations

import json
from typing import Any

import pytest

from provisioner.engine.base import Op, ResourceRecord
from provisioner.engine.simulated import UNKNOWN_INPUT, mask_secrets
from provisioner.secrets import MASK
from tests.helpers import deploy_cli

pytestmark = pytest.mark.usefixtures("aws_endpoint")

# Pulumi's wire format of a secret input, as the mocks receive it.
SECRET = "4dabf18193072939515e22adb298388d"
SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270"
PLAN = ("aws", "--env", "staging", "--plan", "--simulate", "--set", "cluster.kubernetes_version=1.35")


def _inputs_of(resources: list[dict[str, Any]], resource_type: str) -> list[dict[str, Any]]:
    return [r["inputs"] for r in resources if r["type"] == resource_type]


def test_aws_staging_plan_json_carries_each_resources_inputs_with_secrets_masked() -> None:
    result = deploy_cli(*PLAN, "--output", "json")

    assert result.exit_code == 0, result.stderr
    resources = json.loads(result.stdout)["resources"]
    assert all(isinstance(r["inputs"], dict) for r in resources)
    [cluster] = _inputs_of(resources, "aws:eks/cluster:Cluster")
    assert cluster["version"] == "1.35"
    [nodes] = _inputs_of(resources, "aws:eks/nodeGroup:NodeGroup")
    assert nodes["instanceTypes"] == ["t3.xlarge"]
    assert nodes["scalingConfig"] == {"minSize": 1, "maxSize": 4, "desiredSize": 2}
    [database] = _inputs_of(resources, "aws:rds/instance:Instance")
    assert (database["engine"], database["engineVersion"], database["instanceClass"]) == ("postgres", "16", "db.t4g.small")
    assert database["password"] == MASK
    assert cluster["roleArn"] == UNKNOWN_INPUT  # made by another resource of the plan
    [auth] = [r["inputs"] for r in resources if r["type"] == "kubernetes:core/v1:Secret" and "auth" in r["name"]]
    assert auth["stringData"] == MASK


def test_aws_staging_plan_table_names_the_key_settings_of_the_big_items() -> None:
    result = deploy_cli(*PLAN)

    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "aws-staging-cluster-eks: EKS, Kubernetes 1.35" in lines
    assert "aws-staging-cluster-general-nodes: node group, 2 x t3.xlarge (scales 1-4)" in lines
    assert "aws-staging-mlflow-db-postgres: RDS postgres 16, db.t4g.small" in lines


def test_secret_inputs_are_masked_wherever_they_are_nested() -> None:
    password = "s3cr3t-generated-value"
    inputs = {
        "password": {SECRET: SECRET_VALUE, "value": password},
        "env": [{"name": "A", "value": {SECRET: SECRET_VALUE, "value": password}}],
        "plain": {"engine": "postgres"},
    }

    shown = mask_secrets(inputs)

    assert shown == {"password": MASK, "env": [{"name": "A", "value": MASK}], "plain": {"engine": "postgres"}}


def test_a_record_shows_only_its_masked_inputs_and_none_when_the_engine_gave_none() -> None:
    masked = ResourceRecord(
        urn="u", type="aws:rds/instance:Instance", name="db", op=Op.CREATE,
        inputs={"password": "s3cr3t-generated-value"}, shown_inputs={"password": MASK},
    )
    unmasked = ResourceRecord(urn="u", type="t", name="n", op=Op.CREATE, inputs={"password": "s3cr3t-generated-value"})

    assert masked.model_dump(mode="json")["inputs"] == {"password": MASK}
    assert "s3cr3t-generated-value" not in masked.model_dump_json() + unmasked.model_dump_json()
    assert unmasked.model_dump(mode="json")["inputs"] is None
    assert masked.inputs == {"password": "s3cr3t-generated-value"}  # kept plain for the cost estimate


def _generated_passwords() -> list[str]:
    """The values the simulated deploy generated for every RandomPassword, read from its sealed state."""
    from provisioner.engine.simulated_state import SimulatedStateStore
    from provisioner.paths import home
    from provisioner.secrets import LocalFernetBackend

    store = SimulatedStateStore(home() / "simulated", LocalFernetBackend(home() / "secrets.key"))
    state = store.load("provisioner-aws", "staging")
    assert state is not None
    return [
        store.unseal(r.sealed_state)["result"] for r in state.resources if r.type == "random:index/randomPassword:RandomPassword"
    ]


def test_a_deploy_shows_inputs_but_no_generated_password() -> None:
    result = deploy_cli("aws", "--env", "staging", "--simulate", "--yes", "--output", "json")

    assert result.exit_code == 0, result.stderr
    resources = json.loads(result.stdout)["resources"]
    [database] = _inputs_of(resources, "aws:rds/instance:Instance")
    assert database["password"] == MASK
    passwords = _generated_passwords()
    assert len(passwords) == 3 and all(len(p) >= 32 for p in passwords)
    assert [p for p in passwords if p in result.stdout + result.stderr] == []
