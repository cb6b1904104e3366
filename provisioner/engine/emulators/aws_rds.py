"""RDS in moto: DB subnet groups and DB instances (the master password never enters the state)."""

from __future__ import annotations

from typing import Any

from provisioner.engine.emulators.aws_common import find_named_orphan, is_not_found, tag_list, tag_map, tags_of, wait_for
from provisioner.engine.emulators.base import EmulationContext, Emulator

SECRET_INPUTS = ("password", "passwordWo")

# Pulumi input -> CreateDBInstance / ModifyDBInstance parameter, for the plain pass-through settings.
_INSTANCE_PARAMS = {
    "engine": "Engine",
    "engineVersion": "EngineVersion",
    "instanceClass": "DBInstanceClass",
    "allocatedStorage": "AllocatedStorage",
    "maxAllocatedStorage": "MaxAllocatedStorage",
    "dbName": "DBName",
    "username": "MasterUsername",
    "dbSubnetGroupName": "DBSubnetGroupName",
    "vpcSecurityGroupIds": "VpcSecurityGroupIds",
    "storageEncrypted": "StorageEncrypted",
    "kmsKeyId": "KmsKeyId",
    "storageType": "StorageType",
    "iops": "Iops",
    "port": "Port",
    "publiclyAccessible": "PubliclyAccessible",
    "deletionProtection": "DeletionProtection",
    "backupRetentionPeriod": "BackupRetentionPeriod",
    "backupWindow": "PreferredBackupWindow",
    "maintenanceWindow": "PreferredMaintenanceWindow",
    "multiAz": "MultiAZ",
    "availabilityZone": "AvailabilityZone",
    "parameterGroupName": "DBParameterGroupName",
    "autoMinorVersionUpgrade": "AutoMinorVersionUpgrade",
    "copyTagsToSnapshot": "CopyTagsToSnapshot",
    "iamDatabaseAuthenticationEnabled": "EnableIAMDatabaseAuthentication",
    "performanceInsightsEnabled": "EnablePerformanceInsights",
    "enabledCloudwatchLogsExports": "EnableCloudwatchLogsExports",
}
# Pulumi sends every number as a float; these parameters must reach boto3 as integers.
_INTEGER_INPUTS = ("allocatedStorage", "maxAllocatedStorage", "iops", "port", "backupRetentionPeriod")
# The settings ModifyDBInstance can change in place (engine, names, encryption and the AZ cannot).
_MODIFIABLE = (
    "engineVersion", "instanceClass", "allocatedStorage", "maxAllocatedStorage", "vpcSecurityGroupIds", "storageType",
    "iops", "publiclyAccessible", "deletionProtection", "backupRetentionPeriod", "backupWindow", "maintenanceWindow",
    "multiAz", "parameterGroupName", "autoMinorVersionUpgrade", "copyTagsToSnapshot", "iamDatabaseAuthenticationEnabled",
    "performanceInsightsEnabled",
)


def _param(key: str, value: Any) -> Any:
    """An input value as boto3 wants it (wire floats back to integers where the API needs them)."""
    return int(value) if key in _INTEGER_INPUTS else value


def _rds_name(name: str, inputs: dict[str, Any], key: str, ctx: EmulationContext, limit: int) -> str:
    """The given name, or an auto-name lower-cased as RDS stores it."""
    given = inputs.get(key)
    return str(given) if given else ctx.physical_name(name, inputs, key=key, limit=limit).lower()


def _sync_rds_tags(ctx: EmulationContext, arn: str, old: dict[str, str], new: dict[str, str]) -> None:
    rds = ctx.aws("rds")
    removed = [key for key in old if key not in new]
    if removed:
        rds.remove_tags_from_resource(ResourceName=arn, TagKeys=removed)
    if new:
        rds.add_tags_to_resource(ResourceName=arn, Tags=tag_list(new))


def _refuse_unoffered_version(inputs: dict[str, Any]) -> None:
    """Refuse a PostgreSQL version RDS does not offer, by the dated facts (moto takes any version)."""
    if str(inputs.get("engine") or "") != "postgres" or not inputs.get("engineVersion"):
        return
    from provisioner.facts import rds

    problem = rds.version_problem(str(inputs["engineVersion"]))
    if problem:
        raise RuntimeError(f"InvalidParameterCombination: {problem}")


class SubnetGroupEmulator(Emulator):
    """aws:rds/subnetGroup:SubnetGroup; its id is the group name."""


    def find_orphan(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> str | None:
        rds = ctx.aws("rds")

        def read_tags(group: str) -> dict[str, str]:
            arn = rds.describe_db_subnet_groups(DBSubnetGroupName=group)["DBSubnetGroups"][0]["DBSubnetGroupArn"]
            return tag_map(rds.list_tags_for_resource(ResourceName=arn)["TagList"])

        return find_named_orphan(_rds_name(name, inputs, "name", ctx, 255), read_tags, inputs)

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        group_name = _rds_name(name, inputs, "name", ctx, 255)
        params: dict[str, Any] = {
            "DBSubnetGroupName": group_name,
            "DBSubnetGroupDescription": inputs.get("description") or "Managed by Pulumi",
            "SubnetIds": list(inputs.get("subnetIds") or []),
        }
        if tags_of(inputs):
            params["Tags"] = tag_list(tags_of(inputs))
        ctx.aws("rds").create_db_subnet_group(**params)
        return group_name, self._state(group_name, inputs, ctx)

    def update(self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        rds = ctx.aws("rds")
        current = self._describe(resource_id, ctx)
        params: dict[str, Any] = {
            "DBSubnetGroupName": resource_id,
            "DBSubnetGroupDescription": inputs.get("description") or "Managed by Pulumi",
            "SubnetIds": list(inputs.get("subnetIds") or []),
        }
        current_subnets = sorted(s["SubnetIdentifier"] for s in current.get("Subnets", []))
        if current_subnets != sorted(params["SubnetIds"]) or current.get("DBSubnetGroupDescription") != params["DBSubnetGroupDescription"]:
            rds.modify_db_subnet_group(**params)
            if not self._describe(resource_id, ctx):
                # moto 5 drops a modified subnet group from its index (AWS keeps it): put it back as modified.
                rds.create_db_subnet_group(**params, Tags=tag_list(tags_of(old)))
        _sync_rds_tags(ctx, self._describe(resource_id, ctx)["DBSubnetGroupArn"], tags_of(old), tags_of(inputs))
        return self._state(resource_id, inputs, ctx)

    def exists(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        return bool(self._describe(resource_id, ctx))

    def delete(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        try:
            ctx.aws("rds").delete_db_subnet_group(DBSubnetGroupName=resource_id)
        except Exception as exc:
            if not is_not_found(exc, "DBSubnetGroupNotFoundFault"):
                raise

    @staticmethod
    def _describe(group_name: str, ctx: EmulationContext) -> dict[str, Any]:
        try:
            return dict(ctx.aws("rds").describe_db_subnet_groups(DBSubnetGroupName=group_name)["DBSubnetGroups"][0])
        except Exception as exc:
            if is_not_found(exc, "DBSubnetGroupNotFoundFault"):
                return {}
            raise

    def _state(self, group_name: str, inputs: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        group = self._describe(group_name, ctx)
        return {
            **inputs,
            "name": group["DBSubnetGroupName"],
            "arn": group["DBSubnetGroupArn"],
            "description": group.get("DBSubnetGroupDescription", ""),
            "vpcId": group.get("VpcId", ""),
            "subnetIds": [subnet["SubnetIdentifier"] for subnet in group.get("Subnets", [])],
            "supportedNetworkTypes": list(group.get("SupportedNetworkTypes") or ["IPV4"]),
            "region": ctx.region,
            "tagsAll": tags_of(inputs),
        }


class InstanceEmulator(Emulator):
    """aws:rds/instance:Instance; its id is the DB identifier. Deleting honours deletion protection and
    the final snapshot settings, as on AWS."""


    def find_orphan(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> str | None:
        rds = ctx.aws("rds")

        def read_tags(identifier: str) -> dict[str, str]:
            return tag_map(rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0].get("TagList"))

        return find_named_orphan(_rds_name(name, inputs, "identifier", ctx, 63), read_tags, inputs)

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        _refuse_unoffered_version(inputs)
        identifier = _rds_name(name, inputs, "identifier", ctx, 63)
        params: dict[str, Any] = {"DBInstanceIdentifier": identifier}
        params.update({api: _param(key, inputs[key]) for key, api in _INSTANCE_PARAMS.items() if inputs.get(key) is not None})
        password = inputs.get("password") or inputs.get("passwordWo")
        if password:
            params["MasterUserPassword"] = str(password)
        if inputs.get("manageMasterUserPassword") is not None:
            params["ManageMasterUserPassword"] = bool(inputs["manageMasterUserPassword"])
        if tags_of(inputs):
            params["Tags"] = tag_list(tags_of(inputs))
        ctx.aws("rds").create_db_instance(**params)
        wait_for(ctx.aws("rds"), "db_instance_available", DBInstanceIdentifier=identifier)
        return identifier, self._state(identifier, inputs, ctx)

    def update(self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        changes = {
            _INSTANCE_PARAMS[key]: _param(key, inputs[key])
            for key in _MODIFIABLE
            if inputs.get(key) is not None and inputs.get(key) != old.get(key)
        }
        password = inputs.get("password") or inputs.get("passwordWo")
        if password:
            changes["MasterUserPassword"] = str(password)
        if changes:
            ctx.aws("rds").modify_db_instance(DBInstanceIdentifier=resource_id, ApplyImmediately=True, **changes)
        _sync_rds_tags(ctx, self._describe(resource_id, ctx)["DBInstanceArn"], tags_of(old), tags_of(inputs))
        return self._state(resource_id, inputs, ctx)

    def exists(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        instance = self._describe(resource_id, ctx)
        return bool(instance) and instance.get("DBInstanceStatus") != "deleting"

    def delete(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        instance = self._describe(resource_id, ctx)
        if not instance:
            return
        if instance.get("DeletionProtection"):  # the live setting, as AWS checks it
            raise RuntimeError(
                f"InvalidParameterCombination: Cannot delete protected DB Instance {resource_id}, "
                "please disable deletion protection and try again."
            )
        params: dict[str, Any] = {"DBInstanceIdentifier": resource_id}
        if state.get("skipFinalSnapshot"):
            params["SkipFinalSnapshot"] = True
        else:
            if not state.get("finalSnapshotIdentifier"):
                raise RuntimeError(
                    f"DB instance {resource_id}: final_snapshot_identifier is required when skip_final_snapshot is false"
                )
            params["SkipFinalSnapshot"] = False
            params["FinalDBSnapshotIdentifier"] = state["finalSnapshotIdentifier"]
        if state.get("deleteAutomatedBackups") is not None:
            params["DeleteAutomatedBackups"] = bool(state["deleteAutomatedBackups"])
        try:
            ctx.aws("rds").delete_db_instance(**params)
        except Exception as exc:
            if not is_not_found(exc, "DBInstanceNotFound"):
                raise
        wait_for(ctx.aws("rds"), "db_instance_deleted", timeout=60, DBInstanceIdentifier=resource_id)

    @staticmethod
    def _describe(identifier: str, ctx: EmulationContext) -> dict[str, Any]:
        try:
            return dict(ctx.aws("rds").describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0])
        except Exception as exc:
            if is_not_found(exc, "DBInstanceNotFound", "DBInstanceNotFoundFault"):
                return {}
            raise

    def _state(self, identifier: str, inputs: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        instance = self._describe(identifier, ctx)
        endpoint = instance.get("Endpoint") or {}
        address = str(endpoint.get("Address", ""))
        port = int(endpoint.get("Port") or instance.get("DbInstancePort") or 0)
        public = {key: value for key, value in inputs.items() if key not in SECRET_INPUTS}
        return {
            **public,
            "identifier": instance["DBInstanceIdentifier"],
            "arn": instance["DBInstanceArn"],
            "resourceId": instance.get("DbiResourceId", ""),
            "address": address,
            "port": port,
            "endpoint": f"{address}:{port}",
            "hostedZoneId": endpoint.get("HostedZoneId", ""),
            "status": instance.get("DBInstanceStatus", ""),
            "engine": instance.get("Engine", inputs.get("engine")),
            "engineVersion": inputs.get("engineVersion") or instance.get("EngineVersion", ""),
            "engineVersionActual": instance.get("EngineVersion", ""),
            "instanceClass": instance.get("DBInstanceClass", inputs.get("instanceClass")),
            "allocatedStorage": instance.get("AllocatedStorage", inputs.get("allocatedStorage")),
            "storageType": instance.get("StorageType", inputs.get("storageType", "gp2")),
            "storageEncrypted": bool(instance.get("StorageEncrypted", inputs.get("storageEncrypted", False))),
            "availabilityZone": instance.get("AvailabilityZone", ""),
            "dbSubnetGroupName": (instance.get("DBSubnetGroup") or {}).get("DBSubnetGroupName", inputs.get("dbSubnetGroupName")),
            "vpcSecurityGroupIds": [g["VpcSecurityGroupId"] for g in instance.get("VpcSecurityGroups", [])]
            or list(inputs.get("vpcSecurityGroupIds") or []),
            "username": instance.get("MasterUsername", inputs.get("username")),
            "multiAz": bool(instance.get("MultiAZ", inputs.get("multiAz", False))),
            "publiclyAccessible": bool(instance.get("PubliclyAccessible", inputs.get("publiclyAccessible", False))),
            "deletionProtection": bool(instance.get("DeletionProtection", inputs.get("deletionProtection", False))),
            "backupRetentionPeriod": instance.get("BackupRetentionPeriod", inputs.get("backupRetentionPeriod")),
            "caCertIdentifier": instance.get("CACertificateIdentifier", ""),
            "skipFinalSnapshot": bool(inputs.get("skipFinalSnapshot", False)),
            "region": ctx.region,
            "tagsAll": tags_of(inputs),
        }


HANDLERS: dict[str, Emulator] = {
    "aws:rds/subnetGroup:SubnetGroup": SubnetGroupEmulator(),
    "aws:rds/instance:Instance": InstanceEmulator(),
}
