"""CloudSqlPostgres: MLflow's backend on Cloud SQL, private IP only, backed up, protected in prod."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_random as random

from recipes.gcp import defaults


@dataclass
class CloudSqlArgs:
    project: str
    region: str
    network_id: pulumi.Input[str]
    tier: str = "db-custom-1-3840"
    disk_size_gb: int = 20
    availability: str = "ZONAL"
    backup_retention_days: int = 7
    deletion_protection: bool = False
    labels: dict[str, str] | None = None


class CloudSqlPostgres(pulumi.ComponentResource):
    """A PostgreSQL instance with no public IP, a database and a user with a generated password."""

    connection_uri: pulumi.Output[str]
    private_ip: pulumi.Output[str]

    def __init__(self, name: str, args: CloudSqlArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("provisioner:gcp:CloudSqlPostgres", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        password = random.RandomPassword(f"{name}-password", length=32, special=False, opts=child)
        instance = gcp.sql.DatabaseInstance(
            f"{name}-postgres",
            project=args.project,
            region=args.region,
            database_version=defaults.POSTGRES_VERSION,
            deletion_protection=args.deletion_protection,
            settings=gcp.sql.DatabaseInstanceSettingsArgs(
                tier=args.tier,
                availability_type=args.availability,
                disk_size=args.disk_size_gb,
                disk_autoresize=True,
                deletion_protection_enabled=args.deletion_protection,
                ip_configuration=gcp.sql.DatabaseInstanceSettingsIpConfigurationArgs(
                    ipv4_enabled=False, private_network=args.network_id, ssl_mode="ENCRYPTED_ONLY"
                ),
                backup_configuration=gcp.sql.DatabaseInstanceSettingsBackupConfigurationArgs(
                    enabled=True,
                    point_in_time_recovery_enabled=True,
                    backup_retention_settings=gcp.sql.DatabaseInstanceSettingsBackupConfigurationBackupRetentionSettingsArgs(
                        retained_backups=args.backup_retention_days
                    ),
                ),
                user_labels=dict(args.labels or {}),
            ),
            opts=child,
        )
        gcp.sql.Database(f"{name}-db", project=args.project, instance=instance.name, name=defaults.DB_NAME, opts=child)
        gcp.sql.User(f"{name}-user", project=args.project, instance=instance.name, name=defaults.DB_USER, password=password.result, opts=child)
        self.private_ip = instance.private_ip_address
        self.connection_uri = pulumi.Output.secret(
            pulumi.Output.all(instance.private_ip_address, password.result).apply(
                lambda parts: f"postgresql://{defaults.DB_USER}:{parts[1]}@{parts[0]}:5432/{defaults.DB_NAME}"
            )
        )
        self.register_outputs({"private_ip": self.private_ip, "connection_uri": self.connection_uri})
