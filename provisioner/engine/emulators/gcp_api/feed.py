"""What the simulated deploy tells the fake GCP API: each emulated resource as the REST API would list it.

A view takes the emulator's id and state (Pulumi's camelCase outputs) and returns the collection,
the key (the REST path; a bucket: its name), the project and the JSON body the real API returns.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from provisioner.engine.emulators.gcp_api.store import (
    ADDRESSES,
    BUCKETS,
    CLUSTERS,
    INSTANCES,
    NETWORKS,
    REPOSITORIES,
    SERVICE_ACCOUNTS,
    SUBNETWORKS,
    FakeApiError,
    GcpFakeStore,
)

COMPUTE_LINK = "https://www.googleapis.com/compute/v1"


class RestResource(NamedTuple):
    collection: str
    key: str
    project: str
    body: dict[str, Any]


def _link(reference: Any) -> str:
    """A compute self link for a reference given as a path or already as a link."""
    text = str(reference or "")
    return text if text.startswith("https://") else f"{COMPUTE_LINK}/{text}"


def _with_labels(body: dict[str, Any], field: str, labels: Any) -> dict[str, Any]:
    """The real APIs omit an empty label map."""
    if labels:
        body[field] = {str(key): str(value) for key, value in dict(labels).items()}
    return body


def bucket(resource_id: str, state: dict[str, Any]) -> RestResource:
    body = {
        "kind": "storage#bucket", "id": resource_id, "name": resource_id, "selfLink": state.get("selfLink"),
        "projectNumber": str(state.get("projectNumber", "")), "location": state.get("location"), "locationType": "region",
        "storageClass": state.get("storageClass"), "timeCreated": state.get("timeCreated"), "updated": state.get("updated"),
        "iamConfiguration": {
            "uniformBucketLevelAccess": {"enabled": bool(state.get("uniformBucketLevelAccess"))},
            "publicAccessPrevention": state.get("publicAccessPrevention"),
        },
        "versioning": {"enabled": bool((state.get("versioning") or {}).get("enabled"))},
    }
    return RestResource(BUCKETS, resource_id, str(state.get("project")), _with_labels(body, "labels", state.get("labels")))


def repository(resource_id: str, state: dict[str, Any]) -> RestResource:
    body = {"name": resource_id, "format": state.get("format"), "mode": state.get("mode"), "createTime": state.get("createTime"),
            "updateTime": state.get("updateTime"), "sizeBytes": "0"}
    return RestResource(REPOSITORIES, resource_id, str(state.get("project")), _with_labels(body, "labels", state.get("labels")))


def cluster(resource_id: str, state: dict[str, Any]) -> RestResource:
    body = {"name": state.get("name"), "location": state.get("location"), "selfLink": state.get("selfLink"), "status": "RUNNING",
            "endpoint": state.get("endpoint"), "currentMasterVersion": state.get("masterVersion"),
            "network": str(state.get("network") or "").rsplit("/", 1)[-1], "subnetwork": str(state.get("subnetwork") or "").rsplit("/", 1)[-1],
            "labelFingerprint": state.get("labelFingerprint")}
    return RestResource(CLUSTERS, resource_id, str(state.get("project")), _with_labels(body, "resourceLabels", state.get("resourceLabels")))


def sql_instance(resource_id: str, state: dict[str, Any]) -> RestResource:
    project, settings = str(state.get("project")), dict(state.get("settings") or {})
    body = {
        "kind": "sql#instance", "name": resource_id, "project": project, "region": state.get("region"),
        "databaseVersion": state.get("databaseVersion"), "state": "RUNNABLE", "backendType": "SECOND_GEN",
        "instanceType": state.get("instanceType"), "connectionName": state.get("connectionName"), "ipAddresses": state.get("ipAddresses"),
        "selfLink": f"https://sqladmin.googleapis.com/v1/projects/{project}/instances/{resource_id}",
        "settings": _with_labels({
            "tier": settings.get("tier"), "availabilityType": settings.get("availabilityType"),
            "dataDiskSizeGb": str(settings.get("diskSize", "")), "ipConfiguration": settings.get("ipConfiguration"),
            "deletionProtectionEnabled": bool(settings.get("deletionProtectionEnabled", False)),
        }, "userLabels", settings.get("userLabels")),
    }
    return RestResource(INSTANCES, f"projects/{project}/instances/{resource_id}", project, body)


def network(resource_id: str, state: dict[str, Any]) -> RestResource:
    body = {"kind": "compute#network", "id": state.get("networkId"), "name": state.get("name"), "selfLink": state.get("selfLink"),
            "autoCreateSubnetworks": state.get("autoCreateSubnetworks"), "routingConfig": {"routingMode": state.get("routingMode")},
            "mtu": state.get("mtu")}
    return RestResource(NETWORKS, resource_id, str(state.get("project")), body)


def subnetwork(resource_id: str, state: dict[str, Any]) -> RestResource:
    project = str(state.get("project"))
    body = {"kind": "compute#subnetwork", "id": str(state.get("subnetworkId")), "name": state.get("name"),
            "network": _link(state.get("network")), "region": f"{COMPUTE_LINK}/projects/{project}/regions/{state.get('region')}",
            "ipCidrRange": state.get("ipCidrRange"), "gatewayAddress": state.get("gatewayAddress"),
            "secondaryIpRanges": state.get("secondaryIpRanges"), "privateIpGoogleAccess": state.get("privateIpGoogleAccess"),
            "fingerprint": state.get("fingerprint"), "creationTimestamp": state.get("creationTimestamp"), "selfLink": state.get("selfLink")}
    return RestResource(SUBNETWORKS, resource_id, project, body)


def global_address(resource_id: str, state: dict[str, Any]) -> RestResource:
    body = {"kind": "compute#address", "name": state.get("name"), "address": state.get("address"), "addressType": state.get("addressType"),
            "purpose": state.get("purpose"), "prefixLength": state.get("prefixLength"), "network": _link(state.get("network")),
            "status": "RESERVED", "labelFingerprint": state.get("labelFingerprint"), "creationTimestamp": state.get("creationTimestamp"),
            "selfLink": state.get("selfLink")}
    return RestResource(ADDRESSES, resource_id, str(state.get("project")), _with_labels(body, "labels", state.get("labels")))


def service_account(resource_id: str, state: dict[str, Any]) -> RestResource:
    body = {"name": resource_id, "projectId": state.get("project"), "uniqueId": state.get("uniqueId"), "email": state.get("email"),
            "displayName": state.get("displayName", ""), "disabled": bool(state.get("disabled"))}
    return RestResource(SERVICE_ACCOUNTS, resource_id, str(state.get("project")), body)


def publish(view: RestResource, store: GcpFakeStore | None = None) -> None:
    """Create or update the resource in the fake API."""
    (store or GcpFakeStore()).put(view.collection, view.key, view.project, view.body)


def present(view: RestResource, store: GcpFakeStore | None = None) -> bool:
    """Whether the fake API still holds the resource."""
    return view.key in (store or GcpFakeStore()).read().collection(view.collection)


def withdraw(view: RestResource, *, force: bool = False, store: GcpFakeStore | None = None) -> None:
    """Delete the resource from the fake API, refused as the real API refuses; one already gone is no error."""
    try:
        (store or GcpFakeStore()).delete(view.collection, view.key, force=force)
    except FakeApiError as exc:
        if exc.code != 404:
            raise
