"""Pure functions that render MLflow's basic-auth setup: no Pulumi calls, tested directly."""

from __future__ import annotations

from recipes.kubernetes import defaults


def render_auth_config(
    *,
    admin_username: str,
    admin_password: str,
    database_uri: str,
    default_permission: str = defaults.MLFLOW_DEFAULT_PERMISSION,
) -> str:
    """The ``basic_auth.ini`` MLflow's auth app reads from MLFLOW_AUTH_CONFIG_PATH."""
    if not admin_password:
        raise ValueError("the MLflow admin password must not be empty")
    return (
        "[mlflow]\n"
        f"default_permission = {default_permission}\n"
        f"database_uri = {database_uri}\n"
        f"admin_username = {admin_username}\n"
        f"admin_password = {admin_password}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )


def sqlite_uri(file_name: str) -> str:
    """A SQLite URI relative to the server's working directory (the data volume in the pod)."""
    return f"sqlite:///{file_name}"


def server_command(*, port: int, workers: int) -> list[str]:
    """The container command, ``mlflow server --app-name basic-auth``: the image carries every extra.

    The backend store and artifact destination come from MLFLOW_BACKEND_STORE_URI and
    MLFLOW_ARTIFACTS_DESTINATION, so that credentials in them stay in a Secret.
    """
    return [
        "mlflow", "server",
        "--app-name", "basic-auth",
        "--host", "0.0.0.0",
        "--port", str(port),
        "--workers", str(workers),
        "--serve-artifacts",
    ]


def port_forward_command(namespace: str, service: str, port: int) -> str:
    """How a dev user reaches a ClusterIP MLflow from their machine."""
    return f"kubectl -n {namespace} port-forward svc/{service} {port}:{port}"
