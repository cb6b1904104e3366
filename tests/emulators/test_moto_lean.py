"""The lean in-process moto: the same data and refusals as plain moto, without the start-up work."""

from __future__ import annotations

import json
import os

import botocore.session
import pytest

from provisioner.engine.emulators import aws_iam
from provisioner.engine.emulators.moto_lean import LOAD_DEFAULT_AMIS_ENV, lean_moto, shared_botocore_data


def test_sessions_share_one_loader_with_the_same_data_only_inside_the_block() -> None:
    plain = botocore.session.Session()
    with shared_botocore_data():
        first, second = botocore.session.Session(), botocore.session.Session()
        assert first.get_component("data_loader") is second.get_component("data_loader")
        assert first.get_available_regions("eks") == plain.get_available_regions("eks")
        assert first.get_available_partitions() == plain.get_available_partitions()
        assert first.get_service_model("rds").operation_names == plain.get_service_model("rds").operation_names
    after = botocore.session.Session()
    assert after.get_component("data_loader") is not first.get_component("data_loader")


def test_a_session_with_its_own_data_path_keeps_its_own_loader(tmp_path: object) -> None:
    with shared_botocore_data():
        shared = botocore.session.Session().get_component("data_loader")
        own = botocore.session.Session()
        own.set_config_variable("data_path", str(tmp_path))
        assert own.get_component("data_loader") is not shared


def test_no_default_amis_unless_the_user_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LOAD_DEFAULT_AMIS_ENV, raising=False)
    with lean_moto():
        assert os.environ[LOAD_DEFAULT_AMIS_ENV] == "false"
    assert LOAD_DEFAULT_AMIS_ENV not in os.environ

    monkeypatch.setenv(LOAD_DEFAULT_AMIS_ENV, "true")
    with lean_moto():
        assert os.environ[LOAD_DEFAULT_AMIS_ENV] == "true"
    assert os.environ[LOAD_DEFAULT_AMIS_ENV] == "true"


def test_ec2_under_lean_moto_still_refuses_what_it_refused() -> None:
    import boto3
    from moto import mock_aws

    with lean_moto(), mock_aws():
        ec2 = boto3.client("ec2", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing")
        assert ec2.describe_images(Owners=["amazon"])["Images"] == []
        with pytest.raises(ec2.exceptions.ClientError, match="InvalidParameterValue|InvalidVpc.Range"):
            ec2.create_vpc(CidrBlock="10.0.0.0/8")  # AWS allows /16 to /28 only
        zones = [zone["ZoneName"] for zone in ec2.describe_availability_zones()["AvailabilityZones"]]
        assert zones == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]


@pytest.mark.parametrize(
    "name",
    ["AmazonEKSClusterPolicy", "AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly",
     "AmazonEBSCSIDriverPolicy"],
)
def test_one_managed_policy_decodes_exactly_as_the_whole_copy_has_it(name: str) -> None:
    whole = aws_iam._moto_aws_managed_policies()
    assert aws_iam.moto_aws_managed_policy(name) == whole[name]


def test_every_fiftieth_policy_of_moto_decodes_alone_as_in_the_whole_copy() -> None:
    whole = aws_iam._moto_aws_managed_policies()
    names = sorted(whole)[::50]
    assert len(names) > 20
    for name in names:
        assert aws_iam.moto_aws_managed_policy(name) == whole[name], name


def test_a_policy_moto_does_not_have_is_none() -> None:
    assert aws_iam.moto_aws_managed_policy("NoSuchPolicyAnywhere") is None
    assert json.dumps(aws_iam.moto_aws_managed_policy("AmazonEKSClusterPolicy")).count("Statement") == 1
