"""Defaults of the Kubernetes recipe: pinned images, ports, sizes. Components import these."""

from __future__ import annotations

from dataclasses import dataclass

from provisioner.facts import images
from provisioner.recipe_api import RetentionPolicy

# MLflow: the official -full image (auth, S3, GCS and PostgreSQL extras included), pinned to the
# release the test suite runs against; the pod installs nothing at start and needs no egress.
MLFLOW_VERSION = images.MLFLOW_VERSION
MLFLOW_IMAGE = images.MLFLOW_IMAGE
MLFLOW_PORT = 5000
MLFLOW_DATA_DIR = "/mlflow"
MLFLOW_AUTH_DIR = "/etc/mlflow-auth"
MLFLOW_AUTH_FILE = "basic_auth.ini"
MLFLOW_ADMIN_USER = "admin"
# Users other than the admin see nothing until granted: least privilege.
MLFLOW_DEFAULT_PERMISSION = "NO_PERMISSIONS"
PASSWORD_LENGTH = 32
FLASK_SECRET_LENGTH = 48
HEALTH_PATH = "/health"  # MLflow's basic-auth app leaves /health unauthenticated, for probes

# The in-cluster S3-compatible store (SeaweedFS: master, volume, filer and S3 gateway in one pod).
S3STORE_IMAGE = images.SEAWEEDFS_IMAGE
S3STORE_S3_PORT = 8333
S3STORE_MASTER_PORT = 9333
S3STORE_FILER_PORT = 8888
# SeaweedFS serves gRPC on each HTTP port + 10000; `weed shell` (the bucket job) talks gRPC.
S3STORE_GRPC_OFFSET = 10000
S3STORE_CONFIG_DIR = "/etc/seaweedfs"
S3STORE_CONFIG_FILE = "s3.json"
S3STORE_DATA_DIR = "/data"
S3STORE_VOLUME_SIZE_LIMIT_MB = 1024
S3STORE_ACCESS_KEY_LENGTH = 20
ARTIFACT_BUCKET = "mlflow-artifacts"

PIPELINES_NAMESPACE = "ml-pipelines"
MLFLOW_NAMESPACE = "mlflow"
PIPELINE_SERVICE_ACCOUNT = "pipeline-runner"
# What the orchestrator needs inside its namespace, and nothing cluster-wide.
PIPELINE_ROLE_RULES: tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    (("",), ("pods",), ("create", "get", "list", "watch", "delete")),
    (("",), ("pods/log",), ("get", "list", "watch")),
    (("batch",), ("jobs",), ("create", "get", "list", "watch", "delete")),
    (("",), ("configmaps",), ("create", "get", "list", "delete")),
)

# A LoadBalancer Service on EKS is a Classic ELB unless annotated. The recipe installs no AWS Load
# Balancer Controller, so the in-tree value "nlb" is the one that takes effect: the cloud controller
# makes an internet-facing NLB (instance targets). "external" + "nlb-target-type: ip" would need that
# controller; without it the Service would wait for an address forever.
AWS_NLB_SERVICE_ANNOTATIONS = {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}

KUBERNETES_VERSION = "1.30.0"  # the schema version manifests are validated against


@dataclass(frozen=True)
class Resources:
    """Requests and limits of one container."""

    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str

    def as_dict(self) -> dict[str, dict[str, str]]:
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }


MLFLOW_RESOURCES = Resources("250m", "512Mi", "1", "1Gi")
S3STORE_RESOURCES = Resources("100m", "256Mi", "1", "1Gi")


# What a prod destroy keeps: the MLflow and object-store volume claims (so their volumes stay
# bound) and, as what they depend on, the namespace they live in. Pre-destroy skips these claims.
RETENTION = RetentionPolicy(data_types=frozenset({"kubernetes:core/v1:PersistentVolumeClaim"}))
