"""Defaults of the Kubernetes recipe: pinned images, ports, sizes. Components import these."""

from __future__ import annotations

from dataclasses import dataclass

from provisioner.recipe_api import RetentionPolicy

# MLflow: the official image, pinned to the release the test suite runs against (mlflow 3.17).
# It does not bundle the auth, S3 and PostgreSQL extras, so the pod installs them (pinned) at start;
# set mlflow.install_extras=false with an image that already has them (no egress needed then).
MLFLOW_VERSION = "3.17.2"
MLFLOW_IMAGE = f"ghcr.io/mlflow/mlflow:v{MLFLOW_VERSION}"
MLFLOW_EXTRAS = (f"mlflow[auth]=={MLFLOW_VERSION}", "boto3==1.44.8", "psycopg2-binary==2.9.13", "google-cloud-storage==3.17.1")
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

MINIO_IMAGE = "quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z"
MINIO_CLIENT_IMAGE = "quay.io/minio/mc:RELEASE.2025-08-13T08-35-41Z"
MINIO_API_PORT = 9000
MINIO_BUCKET = "mlflow-artifacts"
MINIO_ROOT_USER = "provisioner"

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
MINIO_RESOURCES = Resources("100m", "256Mi", "500m", "512Mi")


# What a prod destroy keeps: the MLflow and object-store volume claims (so their volumes stay
# bound) and, as what they depend on, the namespace they live in. Pre-destroy skips these claims.
RETENTION = RetentionPolicy(data_types=frozenset({"kubernetes:core/v1:PersistentVolumeClaim"}))
