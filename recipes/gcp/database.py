"""CloudSqlPostgres: MLflow's backend on Cloud SQL, private IP only, backed up, protected in prod."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_random as random

from recipes.gcp import defaults
from recipes.gcp.settings import CloudSqlSettings


@dataclass
class CloudSqlWiring:
    """Where the instance runs: project, region, and the VPC that reaches it by private IP."""

    project: str
    region: str
    network_id: pulumi.Input[str]
    labels: dict[str, str] | None = None


class CloudSqlPostgres(pulumi.ComponentResource):
    """A PostgreSQL instance with no public IP, a database and a user with a generated password."""

    connection_uri: pulumi.Output[str]
    private_ip: pulumi.Output[str]

    def __init__(
        self, name: str, settings: CloudSqlSettings, wiring: CloudSqlWiring, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("provisioner:gcp:CloudSqlPostgres", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        password = random.RandomPassword(f"{name}-password", length=32, special=False, opts=child)
        instance = gcp.sql.DatabaseInstance(
            f"{name}-postgres",
            project=wiring.project,
            region=wiring.region,
            database_version=defaults.POSTGRES_VERSION,
            deletion_protection=settings.deletion_protection,
            settings=gcp.sql.DatabaseInstanceSettingsArgs(
                # Custom tiers exist only on ENTERPRISE; from PostgreSQL 16 the default edition is ENTERPRISE_PLUS.
                edition="ENTERPRISE",
                tier=settings.tier,
                availability_type="REGIONAL" if settings.high_availability else "ZONAL",
                disk_size=settings.storage_gb,
                disk_autoresize=True,
                deletion_protection_enabled=settings.deletion_protection,
                ip_configuration=gcp.sql.DatabaseInstanceSettingsIpConfigurationArgs(
                    ipv4_enabled=False, private_network=wiring.network_id, ssl_mode="ENCRYPTED_ONLY"
                ),
                backup_configuration=gcp.sql.DatabaseInstanceSettingsBackupConfigurationArgs(
                    enabled=True,
                    point_in_time_recovery_enabled=True,
                    backup_retention_settings=gcp.sql.DatabaseInstanceSettingsBackupConfigurationBackupRetentionSettingsArgs(
                        retained_backups=settings.backup_retention_days
                    ),
                ),
                user_labels=dict(wiring.labels or {}),
            ),
            opts=child,
        )
        gcp.sql.Database(f"{name}-db", project=wiring.project, instance=instance.name, name=defaults.DB_NAME, opts=child)
        gcp.sql.User(f"{name}-user", project=wiring.project, instance=instance.name, name=defaults.DB_USER, password=password.result, opts=child)
        self.private_ip = instance.private_ip_address
        self.connection_uri = pulumi.Output.secret(
            pulumi.Output.all(instance.private_ip_address, password.result).apply(
                lambda parts: f"postgresql://{defaults.DB_USER}:{parts[1]}@{parts[0]}:5432/{defaults.DB_NAME}"
            )
        )
        self.register_outputs({"private_ip": self.private_ip, "connection_uri": self.connection_uri})
