"""The args models of the Kubernetes components (MLflow, the in-cluster S3 store), shared by every recipe deploying them.

Pulumi-free, so recipe args validate without loading the SDK.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from provisioner.input_rules import check_image_reference, check_quantity, parse_quantity
from provisioner.recipe_api import RecipeArgs
from recipes.kubernetes import defaults

QUANTITY = r"^[1-9][0-9]*(Mi|Gi|Ti)$"
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


class MlflowSettings(RecipeArgs):
    """The MlflowServer component's args: replicas, exposure, storage, image and resources."""

    namespace: str = Field(defaults.MLFLOW_NAMESPACE, pattern=DNS_LABEL)
    replicas: int = Field(1, ge=1, le=10)
    service_type: Literal["ClusterIP", "LoadBalancer"] = "ClusterIP"
    source_ranges: list[str] = Field(default_factory=list, description="CIDRs allowed to reach the load balancer.")
    tls_certificate_arn: str = Field("", description="ACM certificate: the load balancer then serves HTTPS on 443.")
    storage_size: str = Field("5Gi", pattern=QUANTITY)
    storage_class: str = ""
    image: str = Field(defaults.MLFLOW_IMAGE, description="An image with mlflow and its auth, S3/GCS and PostgreSQL extras.")
    cpu_request: str = defaults.MLFLOW_RESOURCES.cpu_request
    memory_request: str = defaults.MLFLOW_RESOURCES.memory_request
    cpu_limit: str = defaults.MLFLOW_RESOURCES.cpu_limit
    memory_limit: str = defaults.MLFLOW_RESOURCES.memory_limit
    backend_store_uri: str = Field("", json_schema_extra={"secret": True}, description="Database URI; empty: SQLite on a volume.")

    @field_validator("source_ranges")
    @classmethod
    def _cidrs(cls, ranges: list[str]) -> list[str]:
        for cidr in ranges:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ValueError(f"not a CIDR range: {cidr!r}") from None
        return ranges

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        return check_image_reference(value)

    @field_validator("cpu_request", "cpu_limit", "memory_request", "memory_limit")
    @classmethod
    def _quantity(cls, value: str) -> str:
        return check_quantity(value)

    @model_validator(mode="after")
    def _requests_within_limits(self) -> MlflowSettings:
        for resource in ("cpu", "memory"):
            request, limit = getattr(self, f"{resource}_request"), getattr(self, f"{resource}_limit")
            if parse_quantity(request) > parse_quantity(limit):
                raise ValueError(f"mlflow.{resource}_request={request} is more than mlflow.{resource}_limit={limit}")
        return self


    def resources(self) -> defaults.Resources:
        return defaults.Resources(self.cpu_request, self.memory_request, self.cpu_limit, self.memory_limit)

    @property
    def open_to_all(self) -> bool:
        """A load balancer that any address may reach (login still required)."""
        return self.service_type == "LoadBalancer" and (not self.source_ranges or "0.0.0.0/0" in self.source_ranges)

    def backend_problem(self, *, database: bool, database_option: str | None = None) -> str | None:
        """Why these settings cannot run, given whether a database backs them; None when they can.

        The one statement of the rule "more than one replica needs a database": SQLite on a
        volume serves a single replica. ``database_option`` names the setting that adds one.
        """
        if self.replicas > 1 and not (database or self.backend_store_uri):
            ways = f"{database_option}, or mlflow.backend_store_uri" if database_option else "mlflow.backend_store_uri"
            return f"mlflow.replicas={self.replicas} needs a database ({ways}): SQLite on a volume serves one replica"
        return None


class WithMlflow(RecipeArgs):
    """Recipe args that deploy MLflow; a recipe with a database says so in ``has_database``."""

    # The setting that gives MLflow a database, if the recipe has one (e.g. "database.enabled").
    database_option: ClassVar[str | None] = None

    mlflow: MlflowSettings = Field(default_factory=MlflowSettings)

    def has_database(self) -> bool:
        return False

    @model_validator(mode="after")
    def _mlflow_backend(self) -> WithMlflow:
        problem = self.mlflow.backend_problem(database=self.has_database(), database_option=self.database_option)
        if problem:
            raise ValueError(problem)
        return self


class ObjectStoreSettings(RecipeArgs):
    """The in-cluster S3-compatible artifact store's volume (SeaweedFS)."""

    storage_size: str = Field("10Gi", pattern=QUANTITY)
    storage_class: str = ""


class KubernetesStackSettings(WithMlflow):
    """The KubernetesMlopsStack's args: the pipeline namespace, the object store and MLflow."""

    renamed_keys: ClassVar[Mapping[str, str]] = {"minio": "object_store"}

    pipelines_namespace: str = Field(defaults.PIPELINES_NAMESPACE, pattern=DNS_LABEL)
    object_store: ObjectStoreSettings = Field(default_factory=ObjectStoreSettings)
