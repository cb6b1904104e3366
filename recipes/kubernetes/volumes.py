"""The one shape of a data volume claim the Kubernetes components make (MLflow's SQLite, the S3 store)."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s


def data_claim(
    name: str, metadata: k8s.meta.v1.ObjectMetaArgs, *, size: str, storage_class: str, opts: pulumi.ResourceOptions
) -> k8s.core.v1.PersistentVolumeClaim:
    """A ReadWriteOnce claim of ``size``; an empty ``storage_class`` leaves it to the cluster's default class."""
    return k8s.core.v1.PersistentVolumeClaim(
        name,
        metadata=metadata,
        spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
            access_modes=["ReadWriteOnce"],
            resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": size}),
            storage_class_name=storage_class or None,
        ),
        opts=opts,
    )
