"""What a registered stack becomes in ZenML: request bodies for its secrets, connector, components and stack.

Objects refer to each other by name here (``Ref``); push resolves them to ZenML ids as it creates them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from provisioner.errors import InputError
from provisioner.exports.zenml import zenml_configuration, zenml_flavor, zenml_secrets
from provisioner.registry.models import Connector

if TYPE_CHECKING:
    from provisioner.registry.service import Registry

ORDER = ("secret", "service_connector", "component", "stack")  # creation order; deletion runs backwards
PUSH_LABEL = "provisioner-push"  # its value is the push's random id, recorded in our registry first


@dataclass(frozen=True)
class Ref:
    """A reference to another pushed object, by kind and name, resolved to its ZenML id at push time."""

    kind: str
    name: str


@dataclass
class Desired:
    """One ZenML object as the stack wants it."""

    kind: str
    name: str
    body: dict[str, Any]
    depends_on: list[Ref] = field(default_factory=list)

    def digest(self) -> str:
        """What was sent, hashed (secret values included, so a changed value is an update; never stored in clear)."""
        return hashlib.sha256(json.dumps(self.body, sort_keys=True, default=_ref_name).encode()).hexdigest()


def _ref_name(value: Any) -> Any:
    if isinstance(value, Ref):
        return f"{value.kind}:{value.name}"
    raise TypeError(type(value).__name__)


def desired_objects(registry: Registry, stack_name: str, *, source: Mapping[str, str] | None = None) -> list[Desired]:
    """The stack's secrets, connectors, components and the stack itself, in creation order.

    ``source`` holds long-lived source credentials for connectors whose ZenML auth method needs them
    (aws iam-role: aws_access_key_id and aws_secret_access_key; gcp impersonation: service_account_json).
    """
    detail = registry.describe_stack(stack_name)
    objects: list[Desired] = []
    for secret_name, values in zenml_secrets(registry, stack_name, show_values=True).items():
        objects.append(Desired("secret", secret_name, {"name": secret_name, "private": False, "values": dict(values)}))
    connectors: dict[str, Connector] = {}
    for component in detail.components.values():
        if component.connector is not None and component.connector.name not in connectors:
            resolved = registry.describe_connector(component.connector.name, show_secrets=True)
            connectors[resolved.name] = resolved
            auth_method, configuration = zenml_auth(resolved, source)
            objects.append(Desired("service_connector", resolved.name, {
                "name": resolved.name,
                "connector_type": resolved.type,
                "auth_method": auth_method,
                "resource_types": list(resolved.resource_types),
                "configuration": configuration,
                "description": f"pushed by provisioner from connector {resolved.name!r}",
                "labels": dict(resolved.labels),
            }))
    components: dict[str, Ref] = {}
    for component_type, component in detail.components.items():
        configuration = zenml_configuration(component_type, component.flavor, component.config, component.name)
        body: dict[str, Any] = {
            "name": component.name, "type": component_type.value, "flavor": component.flavor,
            "configuration": configuration, "labels": dict(component.labels),
        }
        depends = []
        link = _connector_link(component_type, component.flavor, configuration, component.connector)
        if link is not None:
            body["connector"], body["connector_resource_id"] = Ref("service_connector", link[0]), link[1]
            depends.append(body["connector"])
        objects.append(Desired("component", component.name, body, depends))
        components[component_type.value] = Ref("component", component.name)
    objects.append(Desired("stack", detail.name, {
        "name": detail.name,
        "components": {kind: [ref] for kind, ref in components.items()},
        "labels": dict(detail.labels),
        "description": f"pushed by provisioner from stack {detail.name!r}",
    }, list(components.values())))
    return objects


def _connector_link(
    component_type: Any, flavor: str, configuration: Mapping[str, Any], connector: Connector | None,
) -> tuple[str, str | None] | None:
    """(connector name, resource id) when ZenML's flavor takes a connector for a resource ours offers."""
    schema = zenml_flavor(component_type, flavor)
    if connector is None or schema is None or schema.get("connector") is None:
        return None
    wanted = schema["connector"]
    if wanted["resource_type"] not in connector.resource_types:
        return None
    if wanted["connector_type"] not in (None, connector.type):
        return None
    attribute = wanted["resource_id_attr"]
    if attribute:
        return connector.name, str(configuration.get(attribute)) if configuration.get(attribute) else None
    if wanted["resource_type"] == "kubernetes-cluster":
        # Our recipes name the kubeconfig context after the cluster, the resource ZenML asks for.
        return connector.name, str(configuration.get("kubernetes_context") or "") or None
    return connector.name, None


def zenml_auth(connector: Connector, source: Mapping[str, str] | None) -> tuple[str, dict[str, Any]]:
    """ZenML's auth method and configuration for our connector (``connector`` has its secrets resolved).

    AWS iam-role becomes ZenML's ``implicit`` with the role (the ZenML server's own identity assumes
    it; ZenML needs ZENML_ENABLE_IMPLICIT_AUTH_METHODS=true), or ``iam-role`` when source keys are
    given. GCP impersonation needs a source key in ZenML, so it is refused without one.
    """
    config = dict(connector.configuration)
    kind, method = connector.type, connector.auth_method
    if kind == "aws":
        base = {"region": config["region"]}
        if method == "iam-role":
            if config.get("external_id"):
                raise InputError(f"connector {connector.name!r} assumes its role with an external id, which ZenML's AWS connector can't pass")
            if source:
                return "iam-role", {**base, "role_arn": config["role_arn"], **_keys(source, connector.name, "aws_access_key_id", "aws_secret_access_key")}
            return "implicit", {**base, "role_arn": config["role_arn"]}
        if method == "secret-key":
            return "secret-key", {**base, **_pick(config, "aws_access_key_id", "aws_secret_access_key")}
        if method == "session-token":
            return "sts-token", {**base, **_pick(config, "aws_access_key_id", "aws_secret_access_key", "aws_session_token")}
        if method == "implicit" and not config.get("profile"):
            return "implicit", base
    if kind == "gcp":
        if method == "impersonation":
            if not source:
                raise InputError(
                    f"connector {connector.name!r} impersonates {config['target_principal']}; ZenML's GCP connector needs a "
                    "source key for that: --zenml-source-secret NAME (a secret with the key service_account_json)"
                )
            return "impersonation", {**_pick(config, "project_id", "target_principal"), **_keys(source, connector.name, "service_account_json")}
        if method == "service-account":
            return "service-account", _pick(config, "project_id", "service_account_json")
        if method == "implicit":
            return "implicit", _pick(config, "project_id")
    if kind == "kubernetes" and method == "token":
        return "token", {"server": config["server"], "token": config["token"], "insecure": bool(config.get("insecure")),
                         **({"certificate_authority": config["certificate_authority"]} if config.get("certificate_authority") else {})}
    raise InputError(f"connector {connector.name!r} ({kind}, {method}) has no counterpart among ZenML's auth methods")


def _pick(config: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {key: config[key] for key in keys if config.get(key) not in (None, "")}


def _keys(source: Mapping[str, str], connector: str, *keys: str) -> dict[str, str]:
    missing = [key for key in keys if not source.get(key)]
    if missing:
        raise InputError(f"the source secret for connector {connector!r} lacks {', '.join(missing)}")
    return {key: source[key] for key in keys}
