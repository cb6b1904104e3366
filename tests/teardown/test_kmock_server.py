"""The kmock emulator helper holds what the official client writes, filters lists and stops on time."""

from __future__ import annotations

import time

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.teardown.kmock_server import KubeEmulatorServer, field_selector_matches, label_selector_matches
from tests.teardown.kube_objects import claim, core_for, namespace, names, service


def pod(core: client.CoreV1Api, ns: str, name: str, labels: dict[str, str]) -> None:
    spec = client.V1PodSpec(containers=[client.V1Container(name="main", image="busybox")])
    core.create_namespaced_pod(ns, client.V1Pod(metadata=client.V1ObjectMeta(name=name, labels=labels), spec=spec))


def test_objects_persist_and_list_with_label_and_field_selectors(kube_api: str) -> None:
    core = core_for(kube_api)
    namespace(core, "apps")
    pod(core, "apps", "web-1", {"app": "web", "tier": "front"})
    pod(core, "apps", "db-1", {"app": "db"})
    service(core, "apps", "web", kind="LoadBalancer")
    service(core, "apps", "db", kind="ClusterIP")
    claim(core, "apps", "db-data")

    assert names(core.list_namespaced_pod("apps", label_selector="app=web").items) == ["web-1"]
    assert names(core.list_namespaced_pod("apps", label_selector="app in (web, db),!tier").items) == ["db-1"]
    assert names(core.list_namespaced_pod("apps", field_selector="metadata.name!=web-1").items) == ["db-1"]
    assert names(core.list_service_for_all_namespaces(field_selector="spec.type=LoadBalancer").items) == ["web"]
    assert core.read_namespaced_persistent_volume_claim("db-data", "apps").metadata.namespace == "apps"


def test_objects_can_be_deleted_and_are_then_gone(kube_api: str) -> None:
    core = core_for(kube_api)
    namespace(core, "apps")
    pod(core, "apps", "web-1", {"app": "web"})

    core.delete_namespaced_pod("web-1", "apps")

    assert core.list_namespaced_pod("apps").items == []
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_pod("web-1", "apps")
    assert missing.value.status == 404


def test_namespaces_are_created_read_listed_and_missing_ones_are_404(kube_api: str) -> None:
    core = core_for(kube_api)
    namespace(core, "apps")

    assert core.read_namespace("apps").status.phase == "Active"
    assert "apps" in names(core.list_namespace().items)
    with pytest.raises(ApiException) as missing:
        core.read_namespace("nope")
    assert missing.value.status == 404


def test_a_malformed_selector_is_a_400(kube_api: str) -> None:
    with pytest.raises(ApiException) as bad:
        core_for(kube_api).list_namespaced_pod("default", label_selector="app in web")
    assert bad.value.status == 400


def test_selector_matching_rules() -> None:
    labels = {"app": "web", "tier": "front"}
    assert label_selector_matches(labels, "app=web,tier==front")
    assert label_selector_matches(labels, "app!=db,tier notin (back, middle),app")
    assert not label_selector_matches(labels, "!tier")
    assert field_selector_matches({"metadata": {"name": "x"}, "spec": {"type": "LoadBalancer"}}, "metadata.name=x,spec.type==LoadBalancer")
    assert field_selector_matches({"metadata": {"name": "x"}}, "status.phase=")


def test_servers_start_on_distinct_free_ports_and_stop_quickly() -> None:
    started = time.monotonic()
    with KubeEmulatorServer() as first, KubeEmulatorServer() as second:
        assert first.url != second.url
        core_for(first.url).list_namespace()  # leaves a keep-alive connection open
    assert time.monotonic() - started < 5
    with pytest.raises(RuntimeError):
        _ = first.url
