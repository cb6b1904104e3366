"""MlflowDatabase: private, encrypted RDS PostgreSQL for MLflow's backend store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from recipes.aws import defaults
from recipes.aws.settings import RdsSettings
from recipes.aws.tags import tagged


@dataclass
class MlflowDatabaseWiring:
    """Where the database runs, who may reach it, and how it is protected."""

    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[str]]
    client_security_group_id: pulumi.Input[str]
    engine_version: str = defaults.POSTGRES_VERSION
    protect: bool = False  # Pulumi protect, on top of RDS deletion protection
    tags: Mapping[str, str] = field(default_factory=dict)


class MlflowDatabase(pulumi.ComponentResource):
    """RDS PostgreSQL reachable only from the cluster's security group, never publicly."""

    address: pulumi.Output[str]
    connection_uri: pulumi.Output[str]
    instance_id: pulumi.Output[str]

    def __init__(
        self, name: str, settings: RdsSettings, wiring: MlflowDatabaseWiring, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("provisioner:aws:MlflowDatabase", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        password = random.RandomPassword(f"{name}-password", length=32, special=False, opts=child)
        subnets = aws.rds.SubnetGroup(f"{name}-subnets", subnet_ids=wiring.subnet_ids, tags=tagged(wiring.tags, f"{name}-subnets"), opts=child)
        firewall = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=wiring.vpc_id,
            description="PostgreSQL for MLflow, from the EKS cluster only",
            egress=[],
            tags=tagged(wiring.tags, f"{name}-sg"),
            opts=child,
        )
        # The one inbound rule is its own resource: the group (and so the database) need not wait the ten
        # minutes the cluster takes to exist; only this rule waits for the cluster's security group.
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-cluster",
            security_group_id=firewall.id,
            referenced_security_group_id=wiring.client_security_group_id,
            ip_protocol="tcp", from_port=defaults.DB_PORT, to_port=defaults.DB_PORT,
            description="PostgreSQL from the EKS cluster",
            tags=tagged(wiring.tags, f"{name}-from-cluster"),
            opts=child,
        )
        instance = aws.rds.Instance(
            f"{name}-postgres",
            engine="postgres",
            engine_version=wiring.engine_version,
            instance_class=settings.instance_class,
            allocated_storage=settings.storage_gb,
            max_allocated_storage=settings.max_storage_gb,
            storage_type="gp3",
            db_name=defaults.DB_NAME,
            username=defaults.DB_USER,
            password=password.result,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[firewall.id],
            storage_encrypted=True,
            publicly_accessible=False,
            multi_az=settings.high_availability,
            backup_retention_period=settings.backup_retention_days,
            deletion_protection=settings.deletion_protection,
            skip_final_snapshot=not settings.deletion_protection,
            final_snapshot_identifier=f"{name}-final" if settings.deletion_protection else None,
            copy_tags_to_snapshot=True,
            tags=tagged(wiring.tags, f"{name}-postgres"),
            opts=pulumi.ResourceOptions(parent=self, protect=wiring.protect),
        )
        self.address = instance.address
        self.instance_id = instance.id
        self.connection_uri = pulumi.Output.secret(
            pulumi.Output.all(instance.address, password.result).apply(
                lambda parts: f"postgresql://{defaults.DB_USER}:{parts[1]}@{parts[0]}:{defaults.DB_PORT}/{defaults.DB_NAME}"
            )
        )
        self.register_outputs({"address": self.address, "connection_uri": self.connection_uri, "instance_id": self.instance_id})
