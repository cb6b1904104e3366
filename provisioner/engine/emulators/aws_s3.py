"""S3 in moto: buckets, and the bucket settings Pulumi models as separate resources."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import Any

from provisioner.engine.emulators.aws_common import error_code, find_named_orphan, is_not_found, tag_map
from provisioner.engine.emulators.base import EmulationContext, Emulator


class S3BucketEmulator(Emulator):
    """aws:s3/bucket:Bucket. A non-empty bucket without force_destroy refuses deletion, as on AWS."""


    def find_orphan(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> str | None:
        def read_tags(bucket: str) -> dict[str, str]:
            try:
                return tag_map(ctx.aws("s3").get_bucket_tagging(Bucket=bucket)["TagSet"])
            except Exception as exc:
                if error_code(exc) == "NoSuchTagSet":
                    return {}
                raise

        return find_named_orphan(ctx.physical_name(name, inputs, key="bucket"), read_tags, inputs)

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        bucket = ctx.physical_name(name, inputs, key="bucket")
        s3 = ctx.aws("s3")
        params: dict[str, Any] = {"Bucket": bucket}
        if ctx.region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
        try:
            s3.create_bucket(**params)
        except Exception as exc:
            if error_code(exc) != "BucketAlreadyOwnedByYou":
                raise
        self._tag(bucket, inputs, ctx)
        return bucket, self._state(bucket, inputs, ctx)

    def update(
        self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext
    ) -> dict[str, Any]:
        self._tag(resource_id, inputs, ctx)
        return self._state(resource_id, inputs, ctx)

    def exists(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        try:
            ctx.aws("s3").head_bucket(Bucket=resource_id)
            return True
        except Exception:
            return False

    def delete(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        s3 = ctx.aws("s3")
        if not self.exists(resource_id, state, ctx):
            return
        versions = s3.list_object_versions(Bucket=resource_id)
        objects = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in versions.get("Versions", []) + versions.get("DeleteMarkers", [])
        ]
        if objects and not state.get("forceDestroy"):
            raise RuntimeError(
                f"BucketNotEmpty: bucket {resource_id} is not empty and force_destroy is off"
            )
        for start in range(0, len(objects), 1000):
            s3.delete_objects(Bucket=resource_id, Delete={"Objects": objects[start : start + 1000]})
        s3.delete_bucket(Bucket=resource_id)

    @staticmethod
    def _tag(bucket: str, inputs: dict[str, Any], ctx: EmulationContext) -> None:
        tags = inputs.get("tags") or {}
        if tags:
            ctx.aws("s3").put_bucket_tagging(
                Bucket=bucket, Tagging={"TagSet": [{"Key": k, "Value": str(v)} for k, v in tags.items()]}
            )

    @staticmethod
    def _state(bucket: str, inputs: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        return {
            **inputs,
            "bucket": bucket,
            "arn": f"arn:aws:s3:::{bucket}",
            "bucketDomainName": f"{bucket}.s3.amazonaws.com",
            "region": ctx.region,
            "tagsAll": dict(inputs.get("tags") or {}),
        }


class _BucketSettingEmulator(Emulator, ABC):
    """A bucket setting (one per bucket, id = bucket name): apply on create/update, remove on delete."""

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        bucket = str(inputs["bucket"])
        self.apply(bucket, inputs, ctx)
        return bucket, self.state(bucket, inputs, ctx)

    def update(self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        self.apply(resource_id, inputs, ctx)
        return self.state(resource_id, inputs, ctx)

    def exists(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        try:
            return self.present(resource_id, state, ctx)
        except Exception as exc:
            if is_not_found(exc):
                return False
            raise

    def delete(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        try:
            self.remove(resource_id, state, ctx)
        except Exception as exc:
            if not is_not_found(exc):
                raise

    @abstractmethod
    def apply(self, bucket: str, inputs: dict[str, Any], ctx: EmulationContext) -> None:
        """Put the setting on the bucket."""

    @abstractmethod
    def present(self, bucket: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        """Whether the bucket has the setting (not-found errors mean it has not)."""

    @abstractmethod
    def remove(self, bucket: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        """Take the setting off the bucket."""

    def state(self, bucket: str, inputs: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        return {**inputs, "bucket": bucket, "region": ctx.region}


class BucketServerSideEncryptionEmulator(_BucketSettingEmulator):
    """aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration."""

    def apply(self, bucket: str, inputs: dict[str, Any], ctx: EmulationContext) -> None:
        rules = []
        for rule in inputs.get("rules") or []:
            default = rule.get("applyServerSideEncryptionByDefault") or {}
            entry: dict[str, Any] = {}
            if default:
                entry["ApplyServerSideEncryptionByDefault"] = {"SSEAlgorithm": default.get("sseAlgorithm") or "AES256"}
                if default.get("kmsMasterKeyId"):
                    entry["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] = default["kmsMasterKeyId"]
            if rule.get("bucketKeyEnabled") is not None:
                entry["BucketKeyEnabled"] = bool(rule["bucketKeyEnabled"])
            rules.append(entry)
        ctx.aws("s3").put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": rules})

    def present(self, bucket: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        ctx.aws("s3").get_bucket_encryption(Bucket=bucket)
        return True

    def remove(self, bucket: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        ctx.aws("s3").delete_bucket_encryption(Bucket=bucket)


class BucketPublicAccessBlockEmulator(_BucketSettingEmulator):
    """aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock (each flag defaults to false, as in the provider)."""

    _FLAGS = {
        "blockPublicAcls": "BlockPublicAcls",
        "blockPublicPolicy": "BlockPublicPolicy",
        "ignorePublicAcls": "IgnorePublicAcls",
        "restrictPublicBuckets": "RestrictPublicBuckets",
    }

    def apply(self, bucket: str, inputs: dict[str, Any], ctx: EmulationContext) -> None:
        configuration = {api: bool(inputs.get(key, False)) for key, api in self._FLAGS.items()}
        ctx.aws("s3").put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=configuration)

    def present(self, bucket: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        ctx.aws("s3").get_public_access_block(Bucket=bucket)
        return True

    def remove(self, bucket: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        if state.get("skipDestroy"):
            return
        ctx.aws("s3").delete_public_access_block(Bucket=bucket)

    def state(self, bucket: str, inputs: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        return {**super().state(bucket, inputs, ctx), **{key: bool(inputs.get(key, False)) for key in self._FLAGS}}

    def drifted(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> dict[str, tuple[Any, Any]]:
        actual = ctx.aws("s3").get_public_access_block(Bucket=str(state["bucket"]))["PublicAccessBlockConfiguration"]
        return {key: (bool(state.get(key, False)), actual[api]) for key, api in self._FLAGS.items()
                if bool(state.get(key, False)) != actual[api]}


class BucketPolicyEmulator(_BucketSettingEmulator):
    """aws:s3/bucketPolicy:BucketPolicy."""

    def apply(self, bucket: str, inputs: dict[str, Any], ctx: EmulationContext) -> None:
        policy = inputs["policy"]
        ctx.aws("s3").put_bucket_policy(Bucket=bucket, Policy=policy if isinstance(policy, str) else json.dumps(policy))

    def present(self, bucket: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        ctx.aws("s3").get_bucket_policy(Bucket=bucket)
        return True

    def remove(self, bucket: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        ctx.aws("s3").delete_bucket_policy(Bucket=bucket)

    def drifted(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> dict[str, tuple[Any, Any]]:
        recorded = state.get("policy")
        recorded = json.loads(recorded) if isinstance(recorded, str) else recorded
        actual = json.loads(ctx.aws("s3").get_bucket_policy(Bucket=str(state["bucket"]))["Policy"])
        return {} if actual == recorded else {"policy": (recorded, actual)}


class BucketVersioningEmulator(_BucketSettingEmulator):
    """aws:s3/bucketVersioning:BucketVersioning. Versioning cannot be switched off once on, so deleting
    the resource suspends it, as the provider does; ``Disabled`` is only valid for a never-versioned bucket."""

    def apply(self, bucket: str, inputs: dict[str, Any], ctx: EmulationContext) -> None:
        configuration = inputs.get("versioningConfiguration") or {}
        status = configuration.get("status") or "Enabled"
        if status == "Disabled":
            current = ctx.aws("s3").get_bucket_versioning(Bucket=bucket).get("Status")
            if current:
                raise RuntimeError(f"versioning of bucket {bucket} is {current}; it cannot be set to Disabled, only Suspended")
            return
        params: dict[str, Any] = {"Status": status}
        if configuration.get("mfaDelete"):
            params["MFADelete"] = configuration["mfaDelete"]
        ctx.aws("s3").put_bucket_versioning(Bucket=bucket, VersioningConfiguration=params)

    def present(self, bucket: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        wanted = (state.get("versioningConfiguration") or {}).get("status") or "Enabled"
        current = ctx.aws("s3").get_bucket_versioning(Bucket=bucket).get("Status")
        return current == wanted or (wanted == "Disabled" and current is None)

    def remove(self, bucket: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        s3 = ctx.aws("s3")
        if s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})


HANDLERS: dict[str, Emulator] = {
    "aws:s3/bucket:Bucket": S3BucketEmulator(),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": BucketServerSideEncryptionEmulator(),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": BucketPublicAccessBlockEmulator(),
    "aws:s3/bucketPolicy:BucketPolicy": BucketPolicyEmulator(),
    "aws:s3/bucketVersioning:BucketVersioning": BucketVersioningEmulator(),
}
