"""ECR in moto: repositories and their lifecycle policies."""

from __future__ import annotations

import json
from typing import Any

from provisioner.engine.emulators.aws_common import (
    find_named_orphan,
    ignore_not_found,
    is_not_found,
    responds,
    tag_list,
    tag_map,
    tags_of,
)
from provisioner.engine.emulators.base import EmulationContext, Emulator


class RepositoryEmulator(Emulator):
    """aws:ecr/repository:Repository; its id is the repository name. A repository holding images
    refuses deletion unless ``forceDelete`` is set, as on AWS."""


    def find_orphan(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> str | None:
        ecr = ctx.aws("ecr")

        def read_tags(repository: str) -> dict[str, str]:
            arn = ecr.describe_repositories(repositoryNames=[repository])["repositories"][0]["repositoryArn"]
            return tag_map(ecr.list_tags_for_resource(resourceArn=arn)["tags"])

        return find_named_orphan(ctx.physical_name(name, inputs, limit=256), read_tags, inputs)

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        repository = ctx.physical_name(name, inputs, limit=256)
        params: dict[str, Any] = {"repositoryName": repository}
        scanning = inputs.get("imageScanningConfiguration") or {}
        if scanning:
            params["imageScanningConfiguration"] = {"scanOnPush": bool(scanning.get("scanOnPush", False))}
        if inputs.get("imageTagMutability"):
            params["imageTagMutability"] = inputs["imageTagMutability"]
        encryption = (inputs.get("encryptionConfigurations") or [None])[0]
        if encryption:
            params["encryptionConfiguration"] = {
                key: encryption[key] for key in ("encryptionType", "kmsKey") if encryption.get(key)
            }
        if tags_of(inputs):
            params["tags"] = tag_list(tags_of(inputs))
        ctx.aws("ecr").create_repository(**params)
        return repository, self._state(repository, inputs, ctx)

    def update(self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        ecr = ctx.aws("ecr")
        scanning = inputs.get("imageScanningConfiguration") or {}
        ecr.put_image_scanning_configuration(
            repositoryName=resource_id, imageScanningConfiguration={"scanOnPush": bool(scanning.get("scanOnPush", False))}
        )
        ecr.put_image_tag_mutability(repositoryName=resource_id, imageTagMutability=inputs.get("imageTagMutability") or "MUTABLE")
        arn = old.get("arn") or self._describe(resource_id, ctx)["repositoryArn"]
        removed = [key for key in tags_of(old) if key not in tags_of(inputs)]
        if removed:
            ecr.untag_resource(resourceArn=arn, tagKeys=removed)
        if tags_of(inputs):
            ecr.tag_resource(resourceArn=arn, tags=tag_list(tags_of(inputs)))
        return self._state(resource_id, inputs, ctx)

    def exists(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        return bool(self._describe(resource_id, ctx))

    def delete(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        ignore_not_found(ctx.aws("ecr").delete_repository, repositoryName=resource_id, force=bool(state.get("forceDelete")))

    @staticmethod
    def _describe(repository: str, ctx: EmulationContext) -> dict[str, Any]:
        try:
            return dict(ctx.aws("ecr").describe_repositories(repositoryNames=[repository])["repositories"][0])
        except Exception as exc:
            if is_not_found(exc):
                return {}
            raise

    def _state(self, repository: str, inputs: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        described = self._describe(repository, ctx)
        encryption = described.get("encryptionConfiguration") or {"encryptionType": "AES256"}
        return {
            **inputs,
            "name": described["repositoryName"],
            "arn": described["repositoryArn"],
            "registryId": described["registryId"],
            "repositoryUrl": described["repositoryUri"],
            "imageTagMutability": described.get("imageTagMutability", "MUTABLE"),
            "imageScanningConfiguration": {
                "scanOnPush": bool((described.get("imageScanningConfiguration") or {}).get("scanOnPush", False))
            },
            "encryptionConfigurations": [
                {"encryptionType": encryption.get("encryptionType", "AES256"), "kmsKey": encryption.get("kmsKey", "")}
            ],
            "forceDelete": bool(inputs.get("forceDelete", False)),
            "region": ctx.region,
            "tagsAll": tags_of(inputs),
        }


class LifecyclePolicyEmulator(Emulator):
    """aws:ecr/lifecyclePolicy:LifecyclePolicy; its id is the repository name."""

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        repository = str(inputs["repository"])
        return repository, self._put(repository, inputs, ctx)

    def update(self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        return self._put(resource_id, inputs, ctx)

    def exists(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        return responds(ctx.aws("ecr").get_lifecycle_policy, repositoryName=resource_id)

    def delete(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        ignore_not_found(ctx.aws("ecr").delete_lifecycle_policy, repositoryName=resource_id)

    @staticmethod
    def _put(repository: str, inputs: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        policy = inputs["policy"]
        text = policy if isinstance(policy, str) else json.dumps(policy)
        answer = ctx.aws("ecr").put_lifecycle_policy(repositoryName=repository, lifecyclePolicyText=text)
        return {**inputs, "repository": repository, "registryId": answer["registryId"], "region": ctx.region}


HANDLERS: dict[str, Emulator] = {
    "aws:ecr/repository:Repository": RepositoryEmulator(),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": LifecyclePolicyEmulator(),
}
