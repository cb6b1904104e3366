"""S3Store: an in-cluster S3-compatible artifact store (SeaweedFS) for clusters without a cloud bucket.

One pod runs ``weed server -s3`` (master, volume server, filer and S3 gateway). Clients use the S3
gateway, which checks the generated keys. The master and filer APIs have no authentication, so a
NetworkPolicy lets only the bucket job reach them (enforced where the cluster's CNI supports it).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from recipes.kubernetes import defaults
from recipes.kubernetes.labels import k8s_labels
from recipes.kubernetes.settings import ObjectStoreSettings
from recipes.kubernetes.volumes import data_claim

APP = "s3store"


def render_s3_identities(access_key: str, secret_key: str) -> str:
    """SeaweedFS's ``-s3.config`` file: one identity with the generated keys; anonymous requests get nothing."""
    if not access_key or not secret_key:
        raise ValueError("the object store's access and secret keys must not be empty")
    identity = {
        "name": "provisioner",
        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    return json.dumps({"identities": [identity]}, indent=2)


def server_args(*, config_path: str) -> list[str]:
    """``weed server`` with the S3 gateway on, its data on the volume."""
    return [
        "server",
        f"-dir={defaults.S3STORE_DATA_DIR}",
        "-ip.bind=0.0.0.0",
        "-s3",
        f"-s3.port={defaults.S3STORE_S3_PORT}",
        f"-s3.config={config_path}",
        f"-master.volumeSizeLimitMB={defaults.S3STORE_VOLUME_SIZE_LIMIT_MB}",
        "-volume.max=0",  # as many volumes as the disk holds
    ]


def bucket_script(buckets: Sequence[str], *, master: str, filer: str) -> str:
    """Create each bucket (idempotent), then fail unless every one is listed, so the Job retries until they are."""
    shell = f"weed shell -master={shlex.quote(master)} -filer={shlex.quote(filer)}"
    names = " ".join(shlex.quote(bucket) for bucket in buckets)
    return (
        f"for b in {names}; do echo \"s3.bucket.create -name $b\" | {shell}; done; "
        f"listing=$(echo s3.bucket.list | {shell}); "
        f"for b in {names}; do echo \"$listing\" | grep -qw \"$b\" || {{ echo \"bucket $b not created yet\"; exit 1; }}; done"
    )


@dataclass
class S3StoreArgs:
    """Where the store runs, how much it stores, and the buckets it creates."""

    namespace: pulumi.Input[str]
    buckets: Sequence[str] = (defaults.ARTIFACT_BUCKET,)
    settings: ObjectStoreSettings = field(default_factory=ObjectStoreSettings)
    image: str = defaults.S3STORE_IMAGE
    tags: Mapping[str, str] = field(default_factory=dict)


class S3Store(pulumi.ComponentResource):
    """SeaweedFS with generated S3 keys in a Secret, a volume, a Service, and a job that creates the buckets."""

    endpoint: pulumi.Output[str]
    access_key: pulumi.Output[str]
    secret_key: pulumi.Output[str]

    def __init__(self, name: str, args: S3StoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("provisioner:kubernetes:S3Store", name, None, opts)
        self._name = name
        self._args = args
        self._labels = k8s_labels(args.tags, APP)
        child = pulumi.ResourceOptions(parent=self)
        access = random.RandomString(
            f"{name}-access-key", length=defaults.S3STORE_ACCESS_KEY_LENGTH, special=False, lower=False, opts=child
        )
        password = random.RandomPassword(f"{name}-secret-key", length=defaults.PASSWORD_LENGTH, special=False, opts=child)
        config = pulumi.Output.all(access.result, password.result).apply(lambda keys: render_s3_identities(keys[0], keys[1]))
        secret = k8s.core.v1.Secret(
            f"{name}-credentials",
            metadata=self._metadata("credentials"),
            type="Opaque",
            string_data={defaults.S3STORE_CONFIG_FILE: pulumi.Output.secret(config)},
            opts=child,
        )
        claim = data_claim(
            f"{name}-data", self._metadata("data"), size=args.settings.storage_size, storage_class=args.settings.storage_class, opts=child
        )
        deployment = self._create_deployment(secret, claim)
        service = self._create_service()
        self._create_network_policy()
        host = pulumi.Output.concat(service.metadata.name, ".", args.namespace, ".svc.cluster.local")
        self.endpoint = pulumi.Output.concat("http://", host, f":{defaults.S3STORE_S3_PORT}")
        self._create_bucket_job(host, deployment)
        self.access_key = access.result
        self.secret_key = pulumi.Output.secret(password.result)
        self.register_outputs({"endpoint": self.endpoint, "access_key": self.access_key, "secret_key": self.secret_key})

    def _metadata(self, suffix: str) -> k8s.meta.v1.ObjectMetaArgs:
        return k8s.meta.v1.ObjectMetaArgs(
            name=f"{self._name}-{suffix}" if suffix else self._name, namespace=self._args.namespace, labels=self._labels
        )

    def _selector(self, role: str = "server") -> dict[str, str]:
        return {"app.kubernetes.io/name": APP, "app.kubernetes.io/instance": self._name, "app.kubernetes.io/component": role}

    @staticmethod
    def _admin_ports() -> list[tuple[str, int]]:
        """The unauthenticated master and filer ports (HTTP and gRPC) the bucket job uses."""
        grpc = defaults.S3STORE_GRPC_OFFSET
        return [
            ("master", defaults.S3STORE_MASTER_PORT),
            ("master-grpc", defaults.S3STORE_MASTER_PORT + grpc),
            ("filer", defaults.S3STORE_FILER_PORT),
            ("filer-grpc", defaults.S3STORE_FILER_PORT + grpc),
        ]

    def _create_deployment(self, secret: k8s.core.v1.Secret, claim: k8s.core.v1.PersistentVolumeClaim) -> k8s.apps.v1.Deployment:
        probe = k8s.core.v1.TCPSocketActionArgs(port=defaults.S3STORE_S3_PORT)
        ports = [("s3", defaults.S3STORE_S3_PORT), *self._admin_ports()]
        return k8s.apps.v1.Deployment(
            f"{self._name}-server",
            metadata=self._metadata("server"),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=1,
                strategy=k8s.apps.v1.DeploymentStrategyArgs(type="Recreate"),  # one pod owns the volume
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
                                name="seaweedfs",
                                image=self._args.image,
                                args=server_args(config_path=f"{defaults.S3STORE_CONFIG_DIR}/{defaults.S3STORE_CONFIG_FILE}"),
                                ports=[k8s.core.v1.ContainerPortArgs(name=port_name, container_port=port) for port_name, port in ports],
                                readiness_probe=k8s.core.v1.ProbeArgs(tcp_socket=probe, initial_delay_seconds=5, period_seconds=10),
                                liveness_probe=k8s.core.v1.ProbeArgs(tcp_socket=probe, initial_delay_seconds=30, period_seconds=20),
                                resources=k8s.core.v1.ResourceRequirementsArgs(**defaults.S3STORE_RESOURCES.as_dict()),
                                security_context=k8s.core.v1.SecurityContextArgs(
                                    allow_privilege_escalation=False, capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"])
                                ),
                                volume_mounts=[
                                    k8s.core.v1.VolumeMountArgs(name="data", mount_path=defaults.S3STORE_DATA_DIR),
                                    k8s.core.v1.VolumeMountArgs(name="config", mount_path=defaults.S3STORE_CONFIG_DIR, read_only=True),
                                ],
                            )
                        ],
                        volumes=[
                            k8s.core.v1.VolumeArgs(
                                name="data",
                                persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(claim_name=claim.metadata.name),
                            ),
                            k8s.core.v1.VolumeArgs(name="config", secret=k8s.core.v1.SecretVolumeSourceArgs(secret_name=secret.metadata.name)),
                        ],
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_service(self) -> k8s.core.v1.Service:
        ports = [("s3", defaults.S3STORE_S3_PORT), *self._admin_ports()]
        return k8s.core.v1.Service(
            f"{self._name}-svc",
            metadata=self._metadata(""),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                selector=self._selector(),
                ports=[k8s.core.v1.ServicePortArgs(name=port_name, port=port, target_port=port) for port_name, port in ports],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_network_policy(self) -> k8s.networking.v1.NetworkPolicy:
        return k8s.networking.v1.NetworkPolicy(
            f"{self._name}-ingress",
            metadata=self._metadata("ingress"),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=self._selector()),
                policy_types=["Ingress"],
                ingress=[
                    # The S3 gateway checks the keys: any pod may call it.
                    k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                        ports=[k8s.networking.v1.NetworkPolicyPortArgs(port=defaults.S3STORE_S3_PORT, protocol="TCP")]
                    ),
                    k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                        from_=[
                            k8s.networking.v1.NetworkPolicyPeerArgs(
                                pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=self._selector("buckets"))
                            )
                        ],
                        ports=[k8s.networking.v1.NetworkPolicyPortArgs(port=port, protocol="TCP") for _, port in self._admin_ports()],
                    ),
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_bucket_job(self, host: pulumi.Output[str], deployment: k8s.apps.v1.Deployment) -> k8s.batch.v1.Job:
        script = host.apply(
            lambda address: bucket_script(
                self._args.buckets,
                master=f"{address}:{defaults.S3STORE_MASTER_PORT}",
                filer=f"{address}:{defaults.S3STORE_FILER_PORT}",
            )
        )
        return k8s.batch.v1.Job(
            f"{self._name}-buckets",
            metadata=self._metadata("buckets"),
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=6,
                ttl_seconds_after_finished=600,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels={**self._labels, **self._selector("buckets")}),
                    spec=k8s.core.v1.PodSpecArgs(
                        restart_policy="OnFailure",
                        automount_service_account_token=False,
                        security_context=k8s.core.v1.PodSecurityContextArgs(run_as_user=1000, run_as_group=1000, run_as_non_root=True),
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="create-buckets",
                                image=self._args.image,  # the same image: `weed shell` makes the buckets
                                command=["sh", "-c", script],
                                resources=k8s.core.v1.ResourceRequirementsArgs(
                                    requests={"cpu": "50m", "memory": "64Mi"}, limits={"cpu": "200m", "memory": "128Mi"}
                                ),
                                security_context=k8s.core.v1.SecurityContextArgs(
                                    allow_privilege_escalation=False, capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"])
                                ),
                            )
                        ],
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[deployment]),
        )
