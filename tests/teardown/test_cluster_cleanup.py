"""clean_cluster against a kmock Kubernetes emulator, through the official client."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import kmock
import pytest
import yaml
from kubernetes import client
from pydantic import ValidationError

from provisioner.teardown.cluster import ClusterCleanup, ClusterTarget, api_client, clean_cluster
from tests.teardown.kmock_server import ClusterEmulator, KubeEmulatorServer
from tests.teardown.kube_objects import claim, core_for, namespace, names, service

MANAGED = ["mlflow", "ml-pipelines", "missing-ns"]


@pytest.fixture()
def stack(kube_api: str) -> client.CoreV1Api:
    """mlflow: an LB service, a ClusterIP service and a PVC; ml-pipelines: a PVC; other (unmanaged): an LB service."""
    core = core_for(kube_api)
    for name in ("mlflow", "ml-pipelines", "other"):
        namespace(core, name)
    service(core, "mlflow", "mlflow-lb")
    service(core, "mlflow", "mlflow-internal", kind="ClusterIP")
    claim(core, "mlflow", "mlflow-data")
    claim(core, "ml-pipelines", "minio-data")
    service(core, "other", "someone-elses-lb")
    return core


def test_deletes_load_balancers_and_claims_in_managed_namespaces_and_leaves_the_rest(kube_api: str, stack: client.CoreV1Api) -> None:
    events: list[str] = []

    result = clean_cluster(ClusterTarget(server=kube_api), MANAGED, timeout_s=10, poll_s=0.1, on_event=events.append)

    assert sorted(result.deleted) == [
        "ml-pipelines/PersistentVolumeClaim/minio-data",
        "mlflow/PersistentVolumeClaim/mlflow-data",
        "mlflow/Service/mlflow-lb",
    ]
    assert result.remaining == []
    assert result.skipped_namespaces == ["missing-ns"]
    assert result.error is None and not result.timed_out and not result.cloud_pending and result.clean
    assert names(stack.list_namespaced_service("mlflow").items) == ["mlflow-internal"]
    assert stack.list_namespaced_persistent_volume_claim("mlflow").items == []
    assert stack.list_namespaced_persistent_volume_claim("ml-pipelines").items == []
    assert names(stack.list_namespaced_service("other").items) == ["someone-elses-lb"]
    assert "deleted mlflow/Service/mlflow-lb" in events
    assert any("missing-ns" in event for event in events)


def test_result_round_trips_through_json(kube_api: str, stack: client.CoreV1Api) -> None:
    result = clean_cluster(ClusterTarget(server=kube_api), MANAGED, timeout_s=5, poll_s=0.1)

    dumped = json.dumps(result.model_dump(mode="json"))

    assert ClusterCleanup.model_validate_json(dumped) == result


def test_a_second_run_finds_nothing_to_delete(kube_api: str, stack: client.CoreV1Api) -> None:
    clean_cluster(ClusterTarget(server=kube_api), MANAGED, timeout_s=5, poll_s=0.1)

    again = clean_cluster(ClusterTarget(server=kube_api), MANAGED, timeout_s=5, poll_s=0.1)

    assert again.deleted == [] and again.remaining == [] and again.clean


def test_cloud_check_that_never_confirms_times_out_after_about_timeout_s(kube_api: str, stack: client.CoreV1Api) -> None:
    calls: list[float] = []

    def cloud_gone() -> bool:
        calls.append(time.monotonic())
        return False

    started = time.monotonic()
    result = clean_cluster(ClusterTarget(server=kube_api), MANAGED, timeout_s=1, poll_s=0.2, cloud_gone=cloud_gone)
    elapsed = time.monotonic() - started

    assert result.timed_out and result.cloud_pending and not result.clean
    assert 0.9 <= elapsed < 4 and 0.9 <= result.waited_s < 4
    assert len(result.deleted) == 3 and result.remaining == []  # the API side is done; the cloud is not
    assert len(calls) >= 3  # polled, not called once and slept


def test_cloud_check_is_asked_only_once_the_api_lists_nothing_and_ends_the_wait(kube_api: str, stack: client.CoreV1Api) -> None:
    answers = iter([False, False, True])

    result = clean_cluster(ClusterTarget(server=kube_api), MANAGED, timeout_s=10, poll_s=0.05, cloud_gone=lambda: next(answers))

    assert not result.timed_out and not result.cloud_pending and result.clean


def test_a_failing_cloud_check_is_reported_not_raised(kube_api: str, stack: client.CoreV1Api) -> None:
    def cloud_gone() -> bool:
        raise RuntimeError("elbv2 throttled")

    result = clean_cluster(ClusterTarget(server=kube_api), MANAGED, timeout_s=0.3, poll_s=0.1, cloud_gone=cloud_gone)

    assert result.timed_out and result.cloud_pending
    assert result.error is not None and "elbv2 throttled" in result.error


# kmock honours finalizers like a real API server: a DELETE only sets deletionTimestamp, and the
# object stays listed until something (here: the test, standing in for the service and PV
# controllers) empties metadata.finalizers. clean_cluster treats such objects as still there: it does
# not strip finalizers itself, because that would orphan exactly the cloud resources it must free.
LB_FINALIZER = "service.kubernetes.io/load-balancer-cleanup"
PVC_FINALIZER = "kubernetes.io/pvc-protection"


def test_objects_held_by_finalizers_are_listed_as_remaining_on_timeout(kube_api: str) -> None:
    core = core_for(kube_api)
    namespace(core, "mlflow")
    service(core, "mlflow", "mlflow-lb", finalizers=[LB_FINALIZER])
    claim(core, "mlflow", "mlflow-data", finalizers=[PVC_FINALIZER])

    started = time.monotonic()
    result = clean_cluster(ClusterTarget(server=kube_api), ["mlflow"], timeout_s=1, poll_s=0.2)

    assert time.monotonic() - started < 4
    assert result.timed_out and result.error is None
    assert result.remaining == ["mlflow/PersistentVolumeClaim/mlflow-data", "mlflow/Service/mlflow-lb"]
    assert sorted(result.deleted) == result.remaining  # asked once, not retried while terminating
    terminating = core.read_namespaced_persistent_volume_claim("mlflow-data", "mlflow")
    assert terminating.metadata.deletion_timestamp is not None
    assert terminating.metadata.finalizers == [PVC_FINALIZER]  # left for its controller


def test_waits_for_controllers_to_release_finalizers(kube_api: str) -> None:
    core = core_for(kube_api)
    namespace(core, "mlflow")
    service(core, "mlflow", "mlflow-lb", finalizers=[LB_FINALIZER])
    claim(core, "mlflow", "mlflow-data", finalizers=[PVC_FINALIZER])

    def controllers() -> None:
        core_for(kube_api).patch_namespaced_service("mlflow-lb", "mlflow", {"metadata": {"finalizers": []}})
        core_for(kube_api).patch_namespaced_persistent_volume_claim("mlflow-data", "mlflow", {"metadata": {"finalizers": []}})

    timer = threading.Timer(0.5, controllers)
    timer.start()
    try:
        result = clean_cluster(ClusterTarget(server=kube_api), ["mlflow"], timeout_s=10, poll_s=0.1)
    finally:
        timer.join(5)

    assert not result.timed_out and result.remaining == [] and result.clean
    assert 0.4 <= result.waited_s < 5
    assert core.list_namespaced_service("mlflow").items == []


def test_unreachable_api_is_reported_quickly_not_raised(closed_port: int) -> None:
    target = ClusterTarget(server=f"http://127.0.0.1:{closed_port}", connect_timeout_s=1, read_timeout_s=1)

    started = time.monotonic()
    result = clean_cluster(target, MANAGED, timeout_s=60, poll_s=0.1)

    assert time.monotonic() - started < 5
    assert result.error is not None and "cannot reach the Kubernetes API" in result.error
    assert result.deleted == [] and not result.timed_out and not result.clean


def test_api_that_never_answers_is_bounded_by_the_read_timeout(silent_port: int) -> None:
    target = ClusterTarget(server=f"http://127.0.0.1:{silent_port}", connect_timeout_s=0.5, read_timeout_s=0.5)

    started = time.monotonic()
    result = clean_cluster(target, MANAGED, timeout_s=60, poll_s=0.1)

    assert time.monotonic() - started < 5
    assert result.error is not None and "timed out" in result.error.lower()


def kubeconfig_for(url: str) -> str:
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "elsewhere",
        "clusters": [{"name": "sim", "cluster": {"server": url}}, {"name": "nowhere", "cluster": {"server": "http://127.0.0.1:9"}}],
        "users": [{"name": "nobody", "user": {}}],
        "contexts": [{"name": "sim", "context": {"cluster": "sim", "user": "nobody"}},
                     {"name": "elsewhere", "context": {"cluster": "nowhere", "user": "nobody"}}],
    })


def test_kubeconfig_target_uses_its_context_and_not_the_users_kube_config(kube_api: str, stack: client.CoreV1Api, tmp_path: Path) -> None:
    (tmp_path / "broken-kubeconfig").write_text("this: [is not a kubeconfig")
    os.environ["KUBECONFIG"] = str(tmp_path / "broken-kubeconfig")
    os.environ["HOME"] = str(tmp_path)
    default_host = client.Configuration.get_default_copy().host

    result = clean_cluster(ClusterTarget(kubeconfig=kubeconfig_for(kube_api), context="sim"), MANAGED, timeout_s=5, poll_s=0.1)

    assert len(result.deleted) == 3 and result.clean
    assert client.Configuration.get_default_copy().host == default_host  # global configuration untouched


def test_kubeconfig_as_json_text_works_too(kube_api: str) -> None:
    as_json = json.dumps(yaml.safe_load(kubeconfig_for(kube_api)))

    api = api_client(ClusterTarget(kubeconfig=as_json, context="sim"))

    assert api.configuration.host == kube_api


def test_a_bad_kubeconfig_or_context_is_reported_not_raised(kube_api: str) -> None:
    broken = clean_cluster(ClusterTarget(kubeconfig="clusters: [oops"), ["mlflow"], timeout_s=5)
    unknown = clean_cluster(ClusterTarget(kubeconfig=kubeconfig_for(kube_api), context="nope"), ["mlflow"], timeout_s=5)

    assert broken.error is not None and "cannot build a client" in broken.error
    assert unknown.error is not None and "nope" in unknown.error


def test_a_target_needs_exactly_one_way_in_and_hides_the_kubeconfig() -> None:
    with pytest.raises(ValidationError):
        ClusterTarget()
    with pytest.raises(ValidationError):
        ClusterTarget(server="http://127.0.0.1:1", kubeconfig="{}")
    assert "token" not in repr(ClusterTarget(kubeconfig="users: [{user: {token: s3cret}}]"))


def test_an_api_that_refuses_to_list_is_reported_with_its_status_not_raised() -> None:
    def forbid_services(emulator: ClusterEmulator) -> None:
        forbidden = {"kind": "Status", "code": 403, "reason": "Forbidden", "message": 'services is forbidden: User "ci" cannot list'}
        emulator[kmock.action.LIST, kmock.resource("v1/services")] << 403 << forbidden

    with KubeEmulatorServer(configure=forbid_services) as server:
        namespace(core_for(server.url), "mlflow")
        result = clean_cluster(ClusterTarget(server=server.url), ["mlflow"], timeout_s=5, poll_s=0.1)

    assert result.error is not None and "HTTP 403" in result.error and "forbidden" in result.error
    assert result.deleted == [] and not result.timed_out
