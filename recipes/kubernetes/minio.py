"""MinioStore: an in-cluster S3-compatible artifact store for clusters without a cloud bucket."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from recipes.kubernetes import defaults
from recipes.kubernetes.labels import k8s_labels
from recipes.kubernetes.settings import MinioSettings


@dataclass
class MinioStoreArgs:
    """Where MinIO runs, how much it stores, and the buckets it creates."""

    namespace: pulumi.Input[str]
    buckets: Sequence[str] = (defaults.MINIO_BUCKET,)
    settings: MinioSettings = field(default_factory=MinioSettings)
    image: str = defaults.MINIO_IMAGE
    client_image: str = defaults.MINIO_CLIENT_IMAGE
    tags: Mapping[str, str] = field(default_factory=dict)


class MinioStore(pulumi.ComponentResource):
    """MinIO with generated root credentials, a volume, and a job that creates the buckets."""

    endpoint: pulumi.Output[str]
    access_key: pulumi.Output[str]
    secret_key: pulumi.Output[str]

    def __init__(self, name: str, args: MinioStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("provisioner:kubernetes:MinioStore", name, None, opts)
        self._name = name
        self._args = args
        self._labels = k8s_labels(args.tags, "minio")
        child = pulumi.ResourceOptions(parent=self)
        password = random.RandomPassword(f"{name}-root-password", length=defaults.PASSWORD_LENGTH, special=False, opts=child)
        secret = k8s.core.v1.Secret(
            f"{name}-credentials",
            metadata=self._metadata("credentials"),
            string_data={
                "MINIO_ROOT_USER": defaults.MINIO_ROOT_USER,
                "MINIO_ROOT_PASSWORD": pulumi.Output.secret(password.result),
            },
            opts=child,
        )
        claim = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-data",
            metadata=self._metadata("data"),
            spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                access_modes=["ReadWriteOnce"],
                resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": args.settings.storage_size}),
                storage_class_name=(args.settings.storage_class or None),
            ),
            opts=child,
        )
        deployment = self._create_deployment(secret, claim)
        service = k8s.core.v1.Service(
            f"{name}-svc",
            metadata=self._metadata(""),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                selector=self._selector(),
                ports=[k8s.core.v1.ServicePortArgs(name="s3", port=defaults.MINIO_API_PORT, target_port=defaults.MINIO_API_PORT)],
            ),
            opts=child,
        )
        self.endpoint = pulumi.Output.concat(
            "http://", service.metadata.name, ".", args.namespace, ".svc.cluster.local:", str(defaults.MINIO_API_PORT)
        )
        self._create_bucket_job(secret, deployment)
        self.access_key = pulumi.Output.from_input(defaults.MINIO_ROOT_USER)
        self.secret_key = pulumi.Output.secret(password.result)
        self.register_outputs({"endpoint": self.endpoint, "access_key": self.access_key, "secret_key": self.secret_key})

    def _metadata(self, suffix: str) -> k8s.meta.v1.ObjectMetaArgs:
        return k8s.meta.v1.ObjectMetaArgs(
            name=f"{self._name}-{suffix}" if suffix else self._name, namespace=self._args.namespace, labels=self._labels
        )

    def _selector(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": "minio", "app.kubernetes.io/instance": self._name}

    def _create_deployment(self, secret: k8s.core.v1.Secret, claim: k8s.core.v1.PersistentVolumeClaim) -> k8s.apps.v1.Deployment:
        probe = k8s.core.v1.HTTPGetActionArgs(path="/minio/health/live", port=defaults.MINIO_API_PORT)
        return k8s.apps.v1.Deployment(
            f"{self._name}-server",
            metadata=self._metadata("server"),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=1,
                strategy=k8s.apps.v1.DeploymentStrategyArgs(type="Recreate"),
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=self._selector()),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels={**self._labels, **self._selector()}),
                    spec=k8s.core.v1.PodSpecArgs(
                        automount_service_account_token=False,
                        security_context=k8s.core.v1.PodSecurityContextArgs(
                            run_as_user=1000, run_as_group=1000, fs_group=1000, run_as_non_root=True
                        ),
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="minio",
                                image=self._args.image,
                                args=["server", "/data"],
                                env_from=[k8s.core.v1.EnvFromSourceArgs(secret_ref=k8s.core.v1.SecretEnvSourceArgs(name=secret.metadata.name))],
                                ports=[k8s.core.v1.ContainerPortArgs(name="s3", container_port=defaults.MINIO_API_PORT)],
                                readiness_probe=k8s.core.v1.ProbeArgs(http_get=probe, initial_delay_seconds=5, period_seconds=10),
                                liveness_probe=k8s.core.v1.ProbeArgs(http_get=probe, initial_delay_seconds=30, period_seconds=20),
                                resources=k8s.core.v1.ResourceRequirementsArgs(**defaults.MINIO_RESOURCES.as_dict()),
                                security_context=k8s.core.v1.SecurityContextArgs(
                                    allow_privilege_escalation=False, capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"])
                                ),
                                volume_mounts=[k8s.core.v1.VolumeMountArgs(name="data", mount_path="/data")],
                            )
                        ],
                        volumes=[
                            k8s.core.v1.VolumeArgs(
                                name="data",
                                persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(claim_name=claim.metadata.name),
                            )
                        ],
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_bucket_job(self, secret: k8s.core.v1.Secret, deployment: k8s.apps.v1.Deployment) -> k8s.batch.v1.Job:
        script = 'mc alias set store "$ENDPOINT" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" && ' + " && ".join(
            f"mc mb --ignore-existing store/{bucket}" for bucket in self._args.buckets
        )
        return k8s.batch.v1.Job(
            f"{self._name}-buckets",
            metadata=self._metadata("buckets"),
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=6,
                ttl_seconds_after_finished=600,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=self._labels),
                    spec=k8s.core.v1.PodSpecArgs(
                        restart_policy="OnFailure",
                        automount_service_account_token=False,
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="create-buckets",
                                image=self._args.client_image,
                                command=["sh", "-c", script],
                                env=[k8s.core.v1.EnvVarArgs(name="ENDPOINT", value=self.endpoint)],
                                env_from=[k8s.core.v1.EnvFromSourceArgs(secret_ref=k8s.core.v1.SecretEnvSourceArgs(name=secret.metadata.name))],
                                resources=k8s.core.v1.ResourceRequirementsArgs(
                                    requests={"cpu": "50m", "memory": "64Mi"}, limits={"cpu": "200m", "memory": "128Mi"}
                                ),
                            )
                        ],
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[deployment]),
        )
