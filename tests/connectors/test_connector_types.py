"""Connector types are plugins: built-ins and third-party types are found through entry points alike."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from provisioner.connectors import (
    ConnectorTypeSpec,
    ReachableResources,
    VerifyReport,
    connector_type,
    connector_type_names,
)
from provisioner.connectors.aws import AwsConnectorType
from provisioner.errors import InputError
from provisioner.registry import connector_schemas
from provisioner.registry.connector_schemas import ConnectorSchema, validate_connector_class
from provisioner.registry.flavors import FlavorConfig
from provisioner.registry.models import Connector, ResourceType
from tests.helpers import cli, cli_json

DEMO = ("connector", "register", "store", "-t", "demo", "-a", "token", "-c", "endpoint=https://demo.example")


def _register_demo(token: str = "demo-token") -> None:
    result = cli(*DEMO, "--value-in-args", "-c", f"token={token}")
    assert result.exit_code == 0, result.output
    assert result.stderr == "Registered demo connector 'store' (token).\n"


def test_built_in_connector_types_are_found_through_entry_points() -> None:
    assert connector_type_names() == ["aws", "gcp", "kubernetes"]
    assert [type(connector_type(name)).__qualname__ for name in connector_type_names()] == [
        "AwsConnectorType",
        "GcpConnectorType",
        "KubernetesConnectorType",
    ]


class _Impostor(AwsConnectorType):
    """A plugin's class that claims the name aws."""


def test_a_plugin_cannot_replace_a_built_in_connector_type(monkeypatch: pytest.MonkeyPatch) -> None:
    def entry_point(cls: type, dist: str) -> SimpleNamespace:
        return SimpleNamespace(name="aws", value=cls.__qualname__, dist=SimpleNamespace(name=dist), load=lambda: cls)

    found = [entry_point(_Impostor, "some-plugin"), entry_point(AwsConnectorType, "provisioner")]
    monkeypatch.setattr(connector_schemas, "entry_points", lambda group: found)

    assert type(connector_type("aws")) is AwsConnectorType


def test_connector_register_refuses_an_unknown_type_naming_the_known_ones() -> None:
    result = cli("connector", "register", "c1", "-t", "azure", "-a", "implicit")

    assert result.exit_code == 2
    assert result.stderr == "error: unknown connector type 'azure' (known: aws, gcp, kubernetes)\n"
    assert cli_json("connector", "list") == []


def test_connector_register_accepts_a_plugin_type_and_keeps_its_secret_as_a_reference(plugin_installed: Path) -> None:
    _register_demo()

    [connector] = cli_json("connector", "list")
    assert (connector["type"], connector["auth_method"], connector["resource_types"]) == ("demo", "token", ["s3-bucket"])
    assert connector["configuration"] == {
        "endpoint": "https://demo.example",
        "token": "{{secret:connector-store.token}}",
    }


def test_unknown_type_message_lists_plugin_types_too(plugin_installed: Path) -> None:
    result = cli("connector", "register", "c1", "-t", "azure", "-a", "implicit")

    assert result.exit_code == 2
    assert result.stderr == "error: unknown connector type 'azure' (known: aws, demo, gcp, kubernetes)\n"


def test_plugin_type_refuses_an_auth_method_it_does_not_have(plugin_installed: Path) -> None:
    result = cli("connector", "register", "store", "-t", "demo", "-a", "implicit")

    assert result.exit_code == 2
    assert result.stderr == "error: unknown auth method 'implicit' for demo connectors (allowed: token)\n"


def test_connector_verify_dispatches_to_the_plugin_type_with_the_resolved_secret(plugin_installed: Path) -> None:
    _register_demo()

    report = cli_json("connector", "verify", "store")

    assert report["identity"] == "demo-user"
    assert report["checks"] == [
        {
            "resource_type": "s3-bucket",
            "resource_id": "demo-bucket",
            "reachable": True,
            "message": "https://demo.example accepted the token",
        }
    ]


def test_connector_verify_of_a_plugin_type_exits_1_when_its_check_fails(plugin_installed: Path) -> None:
    _register_demo(token="wrong")

    result = cli("connector", "verify", "store")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "error: connector 'store' cannot reach s3-bucket demo-bucket"


def test_connector_list_resources_dispatches_to_the_plugin_type(plugin_installed: Path) -> None:
    _register_demo()

    assert cli_json("connector", "list-resources", "store")["resources"] == {"s3-bucket": ["demo-bucket"]}


def test_a_plugin_type_that_issues_no_credentials_is_refused(plugin_installed: Path) -> None:
    _register_demo()

    result = cli("connector", "credentials", "store", "--resource-id", "demo-bucket")

    assert result.exit_code == 2
    assert result.stderr == (
        "error: connector 'store' is a demo connector: only AWS iam-role connectors issue scoped credentials\n"
    )


def test_a_connector_whose_plugin_is_gone_still_lists_but_cannot_be_used(
    plugin_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(plugin_site))
    _register_demo()
    monkeypatch.undo()
    for name in [m for m in sys.modules if m.startswith("provisioner_test_plugin")]:
        del sys.modules[name]

    assert [c["name"] for c in cli_json("connector", "list")] == ["store"]
    result = cli("connector", "verify", "store")
    assert result.exit_code == 2
    assert result.stderr == "error: unknown connector type 'demo' (known: aws, gcp, kubernetes)\n"


class _Config(FlavorConfig):
    token: str


class _Complete(ConnectorTypeSpec):
    name = "complete"
    auth_methods = {"token": _Config}
    resource_types = (ResourceType.S3_BUCKET,)

    def verify(
        self,
        connector: Connector,
        config: Mapping[str, Any],
        resource_id: str | None = None,
        resource_type: ResourceType | None = None,
    ) -> VerifyReport:
        raise NotImplementedError

    def list_resources(self, connector: Connector, config: Mapping[str, Any]) -> ReachableResources:
        raise NotImplementedError


def _subclass(**attributes: object) -> type:
    return type("Broken", (_Complete,), attributes)


@pytest.mark.parametrize(
    ("candidate", "name", "message"),
    [
        pytest.param(object, "complete", "is not a subclass of provisioner ConnectorTypeSpec", id="not-a-subclass"),
        pytest.param(_Complete, "other", "is named 'complete', not 'other'", id="name-differs-from-entry-point"),
        pytest.param(_subclass(name="Bad Name"), "Bad Name", "is not 1-32 lowercase letters", id="bad-name"),
        pytest.param(_subclass(auth_methods={"token": dict}), "complete", "auth_methods must map names to FlavorConfig", id="config-not-a-model"),
        pytest.param(_subclass(auth_methods={}), "complete", "auth_methods must map names to FlavorConfig", id="no-auth-method"),
        pytest.param(_subclass(resource_types=("s3-bucket",)), "complete", "resource_types must be ResourceType", id="resource-type-a-string"),
    ],
)
def test_validate_connector_class_names_what_is_wrong(candidate: object, name: str, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        validate_connector_class(candidate, "entry point 'x' (m:C)", name)


def test_validate_connector_class_accepts_a_complete_type() -> None:
    assert validate_connector_class(_Complete, "entry point 'complete' (m:C)", "complete") is _Complete


class _SchemaOnly(ConnectorSchema):
    name = "aws"
    auth_methods = {"token": _Config}
    resource_types = (ResourceType.S3_BUCKET,)


class _NoListing(ConnectorTypeSpec):
    name = "aws"
    auth_methods = {"token": _Config}
    resource_types = (ResourceType.S3_BUCKET,)

    def verify(
        self,
        connector: Connector,
        config: Mapping[str, Any],
        resource_id: str | None = None,
        resource_type: ResourceType | None = None,
    ) -> VerifyReport:
        raise NotImplementedError


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        pytest.param(_SchemaOnly, "^connector type 'aws': _SchemaOnly is not a subclass of provisioner ConnectorTypeSpec$", id="schema-only"),
        pytest.param(_NoListing, "^entry point 'aws' \\(m:C\\): connector type class _NoListing does not implement list_resources$", id="abstract-method-left"),
    ],
)
def test_an_incomplete_connector_type_is_refused_when_loaded(
    monkeypatch: pytest.MonkeyPatch, cls: type, message: str
) -> None:
    found = [SimpleNamespace(name="aws", value="m:C", dist=SimpleNamespace(name="some-plugin"), load=lambda: cls)]
    monkeypatch.setattr(connector_schemas, "entry_points", lambda group: found)

    with pytest.raises(TypeError, match=message):
        connector_type("aws")


def test_a_type_without_credentials_support_refuses_them_with_an_input_error() -> None:
    connector = Connector.model_validate(
        {"name": "c", "type": "complete", "auth_method": "token", "created_at": "2026-01-01T00:00:00",
         "updated_at": "2026-01-01T00:00:00"}
    )
    with pytest.raises(InputError, match="^connector 'c' is a complete connector: only AWS iam-role"):
        _Complete().credentials(connector, {}, ResourceType.S3_BUCKET, "b")


def test_aws_type_declares_the_documented_auth_methods_and_resource_types() -> None:
    aws = AwsConnectorType()
    assert list(aws.auth_methods) == ["iam-role", "secret-key", "session-token", "implicit"]
    assert aws.resource_types == (
        ResourceType.AWS_GENERIC,
        ResourceType.S3_BUCKET,
        ResourceType.KUBERNETES_CLUSTER,
        ResourceType.DOCKER_REGISTRY,
    )
