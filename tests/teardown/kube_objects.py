"""Small builders for objects created through the official client, shared by the teardown tests."""

from __future__ import annotations

from kubernetes import client


def core_for(url: str) -> client.CoreV1Api:
    """A test-side client of its own, independent of the code under test."""
    configuration = client.Configuration()
    configuration.host = url
    return client.CoreV1Api(client.ApiClient(configuration))


def namespace(core: client.CoreV1Api, name: str) -> None:
    """Create a namespace."""
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))


def service(core: client.CoreV1Api, ns: str, name: str, kind: str = "LoadBalancer", finalizers: list[str] | None = None) -> None:
    """Create a Service (LoadBalancer unless told), labelled app=<name>."""
    spec = client.V1ServiceSpec(type=kind, ports=[client.V1ServicePort(port=80)], selector={"app": name})
    meta = client.V1ObjectMeta(name=name, labels={"app": name}, finalizers=finalizers)
    core.create_namespaced_service(ns, client.V1Service(metadata=meta, spec=spec))


def claim(core: client.CoreV1Api, ns: str, name: str, finalizers: list[str] | None = None) -> None:
    """Create a 1 GiB ReadWriteOnce PersistentVolumeClaim."""
    spec = client.V1PersistentVolumeClaimSpec(
        access_modes=["ReadWriteOnce"], resources=client.V1VolumeResourceRequirements(requests={"storage": "1Gi"})
    )
    meta = client.V1ObjectMeta(name=name, finalizers=finalizers)
    core.create_namespaced_persistent_volume_claim(ns, client.V1PersistentVolumeClaim(metadata=meta, spec=spec))


def names(items: list[object]) -> list[str]:
    """The sorted names of listed objects."""
    return sorted(item.metadata.name for item in items)  # type: ignore[attr-defined]
