"""AWS resources created in moto through boto3 (in-process, or a moto server via AWS_ENDPOINT_URL)."""

from __future__ import annotations

from typing import Any

from provisioner.engine.emulators.base import EmulationContext, Emulator


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


class S3BucketEmulator(Emulator):
    """aws:s3/bucket:Bucket. A non-empty bucket without force_destroy refuses deletion, as on AWS."""

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        bucket = ctx.physical_name(name, inputs, key="bucket")
        s3 = ctx.aws("s3")
        params: dict[str, Any] = {"Bucket": bucket}
        if ctx.region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
        try:
            s3.create_bucket(**params)
        except Exception as exc:
            if _error_code(exc) != "BucketAlreadyOwnedByYou":
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


HANDLERS: dict[str, Emulator] = {
    "aws:s3/bucket:Bucket": S3BucketEmulator(),
}
