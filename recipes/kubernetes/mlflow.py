"""MlflowServer: MLflow behind its basic-auth app, with a generated admin password."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from recipes.kubernetes import defaults
from recipes.kubernetes.auth import (
    port_forward_command,
    render_auth_config,
    server_command,
    sqlite_uri,
)
from recipes.kubernetes.labels import k8s_labels
from recipes.kubernetes.settings import MlflowSettings
from recipes.kubernetes.volumes import data_claim


@dataclass
class MlflowWiring:
    """What the composing stack connects the server to; its settings are an MlflowSettings."""

    namespace: pulumi.Input[str]
    artifacts_destination: pulumi.Input[str]
    # A database the stack made (RDS, Cloud SQL); None: settings.backend_store_uri, else SQLite on a volume.
    backend_store_uri: pulumi.Input[str] | None = None
    artifact_env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    artifact_secret_env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # e.g. {"eks.amazonaws.com/role-arn": ...} (IRSA) or {"iam.gke.io/gcp-service-account": ...}.
    service_account_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # Added to a LoadBalancer Service only, e.g. the cloud's load balancer type (AWS: an NLB).
    service_annotations: Mapping[str, str] = field(default_factory=dict)
    admin_username: str = defaults.MLFLOW_ADMIN_USER
    tags: Mapping[str, str] = field(default_factory=dict)
    # The node groups or pools the pods run on: the Deployment waits for ready pods, so it needs them first.
    ready_nodes: Sequence[pulumi.Resource] = ()
    # What the SQLite volume's claim binds through, e.g. the default StorageClass the stack makes. Given to the
    # claim itself: a component's depends_on does not reach its children (pulumi/pulumi#8721).
    volume_needs: Sequence[pulumi.Resource] = ()


class MlflowServer(pulumi.ComponentResource):
    """MLflow tracking server: nobody reaches it without the generated credentials."""

    tracking_uri: pulumi.Output[str]
    internal_uri: pulumi.Output[str]
    admin_username: pulumi.Output[str]
    admin_password: pulumi.Output[str]
    service_name: pulumi.Output[str]
    port_forward: pulumi.Output[str]

    def __init__(
        self, name: str, settings: MlflowSettings, wiring: MlflowWiring, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        backend = wiring.backend_store_uri if wiring.backend_store_uri is not None else (settings.backend_store_uri or None)
        problem = settings.backend_problem(database=backend is not None)
        if problem:
            raise ValueError(problem)
        super().__init__("provisioner:kubernetes:MlflowServer", name, None, opts)
        self._name = name
        self._settings = settings
        self._wiring = wiring
        self._backend = backend
        self._labels = k8s_labels(self._wiring.tags, "mlflow")
        child = pulumi.ResourceOptions(parent=self)

        password = random.RandomPassword(f"{name}-admin-password", length=defaults.PASSWORD_LENGTH, special=False, opts=child)
        flask_key = random.RandomPassword(f"{name}-flask-secret-key", length=defaults.FLASK_SECRET_LENGTH, special=False, opts=child)
        self.admin_password = pulumi.Output.secret(password.result)
        secret = self._create_secret(password, flask_key)
        account = self._create_service_account()
        claim = self._create_volume() if self._backend is None else None
        self._create_deployment(secret, account, claim)
        service = self._create_service()

        self.service_name = service.metadata.name
        self.admin_username = pulumi.Output.from_input(self._wiring.admin_username)
        self.internal_uri = pulumi.Output.concat(
            "http://", service.metadata.name, ".", self._wiring.namespace, ".svc.cluster.local:", str(defaults.MLFLOW_PORT)
        )
        self.port_forward = pulumi.Output.all(self._wiring.namespace, service.metadata.name).apply(
            lambda parts: port_forward_command(parts[0], parts[1], defaults.MLFLOW_PORT)
        )
        self.tracking_uri = self._external_uri(service) if self._settings.service_type == "LoadBalancer" else self.internal_uri
        self.register_outputs(
            {
                "tracking_uri": self.tracking_uri,
                "internal_uri": self.internal_uri,
                "admin_username": self.admin_username,
                "admin_password": self.admin_password,
                "service_name": self.service_name,
                "port_forward": self.port_forward,
            }
        )

    def _metadata(self, suffix: str, **extra: object) -> k8s.meta.v1.ObjectMetaArgs:
        return k8s.meta.v1.ObjectMetaArgs(
            name=f"{self._name}-{suffix}" if suffix else self._name,
            namespace=self._wiring.namespace,
            labels=self._labels,
            **extra,  # type: ignore[arg-type]
        )

    def _create_secret(self, password: random.RandomPassword, flask_key: random.RandomPassword) -> k8s.core.v1.Secret:
        auth_db = self._backend if self._backend is not None else sqlite_uri("basic_auth.db")
        auth_config = pulumi.Output.all(password.result, auth_db).apply(
            lambda parts: render_auth_config(
                admin_username=self._wiring.admin_username, admin_password=parts[0], database_uri=parts[1]
            )
        )
        backend = self._backend if self._backend is not None else sqlite_uri("mlflow.db")
        data: dict[str, pulumi.Input[str]] = {
            defaults.MLFLOW_AUTH_FILE: auth_config,
            "flask-secret-key": flask_key.result,
            "backend-store-uri": backend,
            **{f"env-{key}": value for key, value in self._wiring.artifact_secret_env.items()},
        }
        return k8s.core.v1.Secret(
            f"{self._name}-auth",
            metadata=self._metadata("auth"),
            type="Opaque",
            string_data={key: pulumi.Output.secret(value) for key, value in data.items()},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_service_account(self) -> k8s.core.v1.ServiceAccount:
        return k8s.core.v1.ServiceAccount(
            f"{self._name}-sa",
            metadata=self._metadata("", annotations=dict(self._wiring.service_account_annotations)),
            automount_service_account_token=False,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_volume(self) -> k8s.core.v1.PersistentVolumeClaim:
        return data_claim(
            f"{self._name}-data",
            self._metadata("data"),
            size=self._settings.storage_size,
            storage_class=self._settings.storage_class,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(self._wiring.volume_needs)),
        )

    def _container(self, secret: k8s.core.v1.Secret) -> k8s.core.v1.ContainerArgs:

        def from_secret(env: str, key: str) -> k8s.core.v1.EnvVarArgs:
            return k8s.core.v1.EnvVarArgs(
                name=env,
                value_from=k8s.core.v1.EnvVarSourceArgs(
                    secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=secret.metadata.name, key=key)
                ),
            )

        env = [
            k8s.core.v1.EnvVarArgs(name="MLFLOW_AUTH_CONFIG_PATH", value=f"{defaults.MLFLOW_AUTH_DIR}/{defaults.MLFLOW_AUTH_FILE}"),
            from_secret("MLFLOW_FLASK_SERVER_SECRET_KEY", "flask-secret-key"),
            from_secret("MLFLOW_BACKEND_STORE_URI", "backend-store-uri"),
            k8s.core.v1.EnvVarArgs(name="MLFLOW_ARTIFACTS_DESTINATION", value=self._wiring.artifacts_destination),
            *(k8s.core.v1.EnvVarArgs(name=key, value=value) for key, value in self._wiring.artifact_env.items()),
            *(from_secret(key, f"env-{key}") for key in self._wiring.artifact_secret_env),
        ]
        probe = k8s.core.v1.HTTPGetActionArgs(path=defaults.HEALTH_PATH, port=defaults.MLFLOW_PORT)
        mounts = [k8s.core.v1.VolumeMountArgs(name="auth", mount_path=defaults.MLFLOW_AUTH_DIR, read_only=True)]
        if self._backend is None:
            mounts.append(k8s.core.v1.VolumeMountArgs(name="data", mount_path=defaults.MLFLOW_DATA_DIR))
        return k8s.core.v1.ContainerArgs(
            name="mlflow",
            image=self._settings.image,
            command=server_command(port=defaults.MLFLOW_PORT, workers=1),
            working_dir=defaults.MLFLOW_DATA_DIR,
            env=env,
            ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=defaults.MLFLOW_PORT)],
            readiness_probe=k8s.core.v1.ProbeArgs(http_get=probe, initial_delay_seconds=10, period_seconds=10),
            liveness_probe=k8s.core.v1.ProbeArgs(
                http_get=probe, initial_delay_seconds=120, period_seconds=20, failure_threshold=5
            ),
            resources=k8s.core.v1.ResourceRequirementsArgs(**self._settings.resources().as_dict()),
            security_context=k8s.core.v1.SecurityContextArgs(
                allow_privilege_escalation=False, capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"])
            ),
            volume_mounts=mounts,
        )

    def _create_deployment(
        self,
        secret: k8s.core.v1.Secret,
        account: k8s.core.v1.ServiceAccount,
        claim: k8s.core.v1.PersistentVolumeClaim | None,
    ) -> k8s.apps.v1.Deployment:
        volumes = [
            k8s.core.v1.VolumeArgs(
                name="auth",
                secret=k8s.core.v1.SecretVolumeSourceArgs(
                    secret_name=secret.metadata.name,
                    items=[k8s.core.v1.KeyToPathArgs(key=defaults.MLFLOW_AUTH_FILE, path=defaults.MLFLOW_AUTH_FILE)],
                ),
            )
        ]
        if claim is not None:
            volumes.append(
                k8s.core.v1.VolumeArgs(
                    name="data",
                    persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(claim_name=claim.metadata.name),
                )
            )
        selector = {"app.kubernetes.io/name": "mlflow", "app.kubernetes.io/instance": self._name}
        return k8s.apps.v1.Deployment(
            f"{self._name}-server",
            metadata=self._metadata("server"),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=self._settings.replicas,
                # A SQLite volume can be mounted by one pod at a time.
                strategy=k8s.apps.v1.DeploymentStrategyArgs(type="Recreate" if claim is not None else "RollingUpdate"),
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels={**self._labels, **selector}),
                    spec=k8s.core.v1.PodSpecArgs(
                        service_account_name=account.metadata.name,
                        security_context=k8s.core.v1.PodSecurityContextArgs(fs_group=1000),
                        containers=[self._container(secret)],
                        volumes=volumes,
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(self._wiring.ready_nodes)),
        )

    def _create_service(self) -> k8s.core.v1.Service:
        annotations: dict[str, str] = {}
        port = 80
        if self._settings.service_type == "LoadBalancer":
            annotations.update(self._wiring.service_annotations)
        if self._settings.service_type == "LoadBalancer" and self._settings.tls_certificate_arn:
            port = 443
            annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-cert"] = self._settings.tls_certificate_arn
            annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-ports"] = "443"
        if self._settings.service_type == "ClusterIP":
            port = defaults.MLFLOW_PORT
        return k8s.core.v1.Service(
            f"{self._name}-svc",
            metadata=self._metadata("", annotations=annotations),
            spec=k8s.core.v1.ServiceSpecArgs(
                type=self._settings.service_type,
                selector={"app.kubernetes.io/name": "mlflow", "app.kubernetes.io/instance": self._name},
                ports=[k8s.core.v1.ServicePortArgs(name="http", port=port, target_port=defaults.MLFLOW_PORT)],
                load_balancer_source_ranges=list(self._settings.source_ranges) if self._settings.service_type == "LoadBalancer" else None,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _external_uri(self, service: k8s.core.v1.Service) -> pulumi.Output[str]:
        scheme = "https" if self._settings.tls_certificate_arn else "http"

        def address(status: object) -> str:
            ingress = getattr(getattr(status, "load_balancer", None), "ingress", None) or []
            host = (ingress[0].hostname or ingress[0].ip) if ingress else None
            return f"{scheme}://{host}" if host else "pending: the load balancer has no address yet"

        return service.status.apply(address)
