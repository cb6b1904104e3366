"""IAM in moto: roles, inline role policies, managed-policy attachments and OIDC providers."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from provisioner.engine.emulators.aws_common import (
    error_code,
    find_named_orphan,
    ignore_not_found,
    is_not_found,
    iso,
    responds,
    tag_list,
    tag_map,
    tags_of,
)
from provisioner.engine.emulators.base import EmulationContext, Emulator

AWS_MANAGED_POLICY_PREFIX = "arn:aws:iam::aws:policy/"


def _document(value: Any) -> str:
    """A policy document as the JSON string IAM takes (programs may pass a dict)."""
    return value if isinstance(value, str) else json.dumps(value)



@lru_cache(maxsize=1)
def _moto_aws_managed_policies() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return dict(json.loads(aws_managed_policies_data))


@lru_cache(maxsize=64)
def moto_aws_managed_policy(policy_name: str) -> dict[str, Any] | None:
    """One AWS-managed policy from moto's copy, decoding only its entry (the whole copy is 1,500 policies)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data as data

    # moto writes one top-level key per line, indented by one space; anything else falls back to a full parse.
    key = f'\n "{policy_name}":'
    at = data.find(key)
    if at >= 0:
        start = at + len(key)
        while data[start].isspace():
            start += 1
        try:
            value, _ = json.JSONDecoder().raw_decode(data, start)
            return dict(value)
        except ValueError:
            pass
    found = _moto_aws_managed_policies().get(policy_name)
    return dict(found) if found is not None else None


def ensure_aws_managed_policy(policy_arn: str, ctx: EmulationContext) -> bool:
    """Load one AWS-managed policy into this process's moto IAM backend, from moto's own copy.

    moto 5 only preloads AWS-managed policies when MOTO_IAM_LOAD_MANAGED_POLICIES=true (and loading
    all of them is slow), so attaching e.g. AmazonEKSClusterPolicy would fail. This helps in-process
    moto (mock_aws, or a ThreadedMotoServer in this process); a separate moto server needs that
    variable set. Returns whether the policy was added."""
    if not policy_arn.startswith(AWS_MANAGED_POLICY_PREFIX):
        return False
    path, _, policy_name = policy_arn[len(AWS_MANAGED_POLICY_PREFIX) :].rpartition("/")
    data = moto_aws_managed_policy(policy_name)
    if data is None or data.get("Path", "/") != f"/{path}/".replace("//", "/"):
        return False
    return load_into_this_process(policy_name, data, str(ctx.aws("sts").get_caller_identity()["Account"]))


def load_into_this_process(policy_name: str, data: dict[str, Any], account: str) -> bool:
    """Add one AWS-managed policy to this process's moto IAM backend (in-process moto, or a moto server thread here)."""
    from moto.iam.models import AWSManagedPolicy, iam_backends

    backend = iam_backends[account]["aws"]
    policy = AWSManagedPolicy.from_data(policy_name, account, backend.region_name, data)
    backend.managed_policies.setdefault(policy.arn, policy)
    return True


PROBE_POLICY = "AmazonEKSClusterPolicy"


def require_managed_policies(region: str, endpoint: str) -> None:
    """Before anything is created on a moto server: it must know AWS-managed policies (the recipes attach them).

    A moto server in this process (a test's) gets the one probed here as attach would; a separate one
    needs MOTO_IAM_LOAD_MANAGED_POLICIES=true, which ``provisioner simulate serve`` sets.

    Raises:
        EngineUnavailableError: the server has none, naming the variable and the command.
    """
    import boto3

    from provisioner.engine.base import EngineUnavailableError

    iam = boto3.client("iam", region_name=region)
    arn = f"{AWS_MANAGED_POLICY_PREFIX}{PROBE_POLICY}"
    for attempt in range(2):
        try:
            iam.get_policy(PolicyArn=arn)
            return
        except Exception as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
        if attempt == 0:
            account = str(boto3.client("sts", region_name=region).get_caller_identity()["Account"])
            probe = moto_aws_managed_policy(PROBE_POLICY)
            if probe is not None:
                load_into_this_process(PROBE_POLICY, probe, account)
    raise EngineUnavailableError(
        f"the moto server at {endpoint} has no AWS-managed policies, which the recipes attach: start it with "
        "MOTO_IAM_LOAD_MANAGED_POLICIES=true (moto_server), or use `provisioner simulate serve`; nothing was created"
    )


def attach_role_policy(role: str, policy_arn: str, ctx: EmulationContext) -> None:
    """Attach a managed policy to a role, making an AWS-managed policy available in moto first if needed."""
    iam = ctx.aws("iam")
    try:
        iam.attach_role_policy(RoleName=role, PolicyArn=policy_arn)
        return
    except Exception as exc:
        if error_code(exc) != "NoSuchEntity" or not ensure_aws_managed_policy(policy_arn, ctx):
            raise
    try:
        iam.attach_role_policy(RoleName=role, PolicyArn=policy_arn)
    except Exception as exc:
        if "not attachable" in str(exc):
            raise RuntimeError(f"{exc} (a separate moto server has AWS-managed policies only with MOTO_IAM_LOAD_MANAGED_POLICIES=true)") from exc
        raise


class RoleEmulator(Emulator):
    """aws:iam/role:Role. Its id is the role name; inline and managed policies given inline are applied too."""


    def find_orphan(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> str | None:
        iam = ctx.aws("iam")
        return find_named_orphan(
            ctx.physical_name(name, inputs, limit=64), lambda role: tag_map(iam.list_role_tags(RoleName=role)["Tags"]), inputs
        )

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        role_name = ctx.physical_name(name, inputs, limit=64)
        params: dict[str, Any] = {
            "RoleName": role_name,
            "AssumeRolePolicyDocument": _document(inputs["assumeRolePolicy"]),
            "Path": inputs.get("path") or "/",
        }
        if inputs.get("description"):
            params["Description"] = inputs["description"]
        if inputs.get("maxSessionDuration"):
            params["MaxSessionDuration"] = int(inputs["maxSessionDuration"])
        if inputs.get("permissionsBoundary"):
            params["PermissionsBoundary"] = inputs["permissionsBoundary"]
        if tags_of(inputs):
            params["Tags"] = tag_list(tags_of(inputs))
        ctx.aws("iam").create_role(**params)
        self._apply_policies(role_name, inputs, {}, ctx)
        return role_name, self._state(role_name, inputs, ctx)

    def update(self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        iam = ctx.aws("iam")
        iam.update_assume_role_policy(RoleName=resource_id, PolicyDocument=_document(inputs["assumeRolePolicy"]))
        changes: dict[str, Any] = {"Description": inputs.get("description") or ""}
        if inputs.get("maxSessionDuration"):
            changes["MaxSessionDuration"] = int(inputs["maxSessionDuration"])
        iam.update_role(RoleName=resource_id, **changes)
        removed = [key for key in tags_of(old) if key not in tags_of(inputs)]
        if removed:
            iam.untag_role(RoleName=resource_id, TagKeys=removed)
        if tags_of(inputs):
            iam.tag_role(RoleName=resource_id, Tags=tag_list(tags_of(inputs)))
        self._apply_policies(resource_id, inputs, old, ctx)
        return self._state(resource_id, inputs, ctx)

    def exists(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        return responds(ctx.aws("iam").get_role, RoleName=resource_id)

    def delete(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        """Delete the role; its policies are removed first only when the provider would (force_detach_policies
        or policies given inline), otherwise IAM refuses, as on AWS."""
        if not self.exists(resource_id, state, ctx):
            return
        iam = ctx.aws("iam")
        force = bool(state.get("forceDetachPolicies"))
        for attached in iam.list_attached_role_policies(RoleName=resource_id)["AttachedPolicies"]:
            if force or attached["PolicyArn"] in (state.get("managedPolicyArns") or []):
                ignore_not_found(iam.detach_role_policy, RoleName=resource_id, PolicyArn=attached["PolicyArn"])
        inline = {policy.get("name") for policy in state.get("inlinePolicies") or []}
        for policy_name in iam.list_role_policies(RoleName=resource_id)["PolicyNames"]:
            if force or policy_name in inline:
                ignore_not_found(iam.delete_role_policy, RoleName=resource_id, PolicyName=policy_name)
        ignore_not_found(iam.delete_role, RoleName=resource_id)

    @staticmethod
    def _apply_policies(role_name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext) -> None:
        """Make the inline ``inlinePolicies`` and ``managedPolicyArns`` (when given) what the role has."""
        iam = ctx.aws("iam")
        if "inlinePolicies" in inputs:
            wanted = {p["name"]: p["policy"] for p in inputs.get("inlinePolicies") or [] if p.get("name") and p.get("policy")}
            for stale in {p.get("name") for p in old.get("inlinePolicies") or []} - set(wanted):
                ignore_not_found(iam.delete_role_policy, RoleName=role_name, PolicyName=stale)
            for policy_name, document in wanted.items():
                iam.put_role_policy(RoleName=role_name, PolicyName=policy_name, PolicyDocument=_document(document))
        if "managedPolicyArns" in inputs:
            wanted_arns = set(inputs.get("managedPolicyArns") or [])
            for stale in set(old.get("managedPolicyArns") or []) - wanted_arns:
                ignore_not_found(iam.detach_role_policy, RoleName=role_name, PolicyArn=stale)
            for policy_arn in sorted(wanted_arns):
                attach_role_policy(role_name, policy_arn, ctx)

    @staticmethod
    def _state(role_name: str, inputs: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        role = ctx.aws("iam").get_role(RoleName=role_name)["Role"]
        return {
            **inputs,
            "name": role["RoleName"],
            "arn": role["Arn"],
            "uniqueId": role["RoleId"],
            "path": role.get("Path", "/"),
            "createDate": iso(role.get("CreateDate")),
            "maxSessionDuration": int(role.get("MaxSessionDuration", 3600)),
            "description": role.get("Description", inputs.get("description", "")),
            "tagsAll": tags_of(inputs),
        }


class RolePolicyEmulator(Emulator):
    """aws:iam/rolePolicy:RolePolicy: an inline policy; its id is ``<role>:<policy name>``."""

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        policy_name = ctx.physical_name(name, inputs, limit=128)
        role = str(inputs["role"])
        ctx.aws("iam").put_role_policy(RoleName=role, PolicyName=policy_name, PolicyDocument=_document(inputs["policy"]))
        return f"{role}:{policy_name}", {**inputs, "name": policy_name, "role": role}

    def update(self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        role, policy_name = str(old["role"]), str(old["name"])
        ctx.aws("iam").put_role_policy(RoleName=role, PolicyName=policy_name, PolicyDocument=_document(inputs["policy"]))
        return {**inputs, "name": policy_name, "role": role}

    def exists(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        role, _, policy_name = resource_id.partition(":")
        return responds(ctx.aws("iam").get_role_policy, RoleName=role, PolicyName=policy_name)

    def delete(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        role, _, policy_name = resource_id.partition(":")
        ignore_not_found(ctx.aws("iam").delete_role_policy, RoleName=role, PolicyName=policy_name)


class RolePolicyAttachmentEmulator(Emulator):
    """aws:iam/rolePolicyAttachment:RolePolicyAttachment; its id is ``<role>-<unique suffix>``."""

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        role, policy_arn = str(inputs["role"]), str(inputs["policyArn"])
        attach_role_policy(role, policy_arn, ctx)
        return f"{role}-{ctx.suffix(f'{name}/{role}/{policy_arn}', 26)}", {**inputs, "role": role, "policyArn": policy_arn}

    def update(self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        if (old.get("role"), old.get("policyArn")) != (inputs.get("role"), inputs.get("policyArn")):
            self.delete(resource_id, old, ctx)
            attach_role_policy(str(inputs["role"]), str(inputs["policyArn"]), ctx)
        return dict(inputs)

    def exists(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        try:
            attached = ctx.aws("iam").list_attached_role_policies(RoleName=state["role"])["AttachedPolicies"]
        except Exception as exc:
            if is_not_found(exc):
                return False
            raise
        return any(policy["PolicyArn"] == state["policyArn"] for policy in attached)

    def delete(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        ignore_not_found(ctx.aws("iam").detach_role_policy, RoleName=state["role"], PolicyArn=state["policyArn"])


class OpenIdConnectProviderEmulator(Emulator):
    """aws:iam/openIdConnectProvider:OpenIdConnectProvider; its id is its ARN."""


    def find_orphan(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> str | None:
        iam = ctx.aws("iam")
        for provider in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
            arn = provider["Arn"]
            if find_named_orphan(arn, lambda a: tag_map(iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=a)["Tags"]), inputs):
                return str(arn)
        return None

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {"Url": inputs["url"], "ClientIDList": list(inputs.get("clientIdLists") or [])}
        if inputs.get("thumbprintLists"):
            params["ThumbprintList"] = list(inputs["thumbprintLists"])
        if tags_of(inputs):
            params["Tags"] = tag_list(tags_of(inputs))
        try:
            arn = ctx.aws("iam").create_open_id_connect_provider(**params)["OpenIDConnectProviderArn"]
        except Exception as exc:
            if error_code(exc) == "EntityAlreadyExists":
                raise RuntimeError(
                    f"EntityAlreadyExists: an IAM OIDC provider for {inputs['url']} already exists "
                    "(note: a moto server in another process gives every EKS cluster the same issuer)"
                ) from exc
            raise
        return arn, self._state(arn, inputs)

    def update(self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        iam = ctx.aws("iam")
        current = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=resource_id)
        wanted_clients = set(inputs.get("clientIdLists") or [])
        for client in set(current.get("ClientIDList", [])) - wanted_clients:
            iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=resource_id, ClientID=client)
        for client in wanted_clients - set(current.get("ClientIDList", [])):
            iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=resource_id, ClientID=client)
        if inputs.get("thumbprintLists"):
            iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=resource_id, ThumbprintList=list(inputs["thumbprintLists"]))
        removed = [key for key in tags_of(old) if key not in tags_of(inputs)]
        if removed:
            iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=resource_id, TagKeys=removed)
        if tags_of(inputs):
            iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=resource_id, Tags=tag_list(tags_of(inputs)))
        return self._state(resource_id, inputs)

    def exists(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        return responds(ctx.aws("iam").get_open_id_connect_provider, OpenIDConnectProviderArn=resource_id)

    def delete(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        ignore_not_found(ctx.aws("iam").delete_open_id_connect_provider, OpenIDConnectProviderArn=resource_id)

    @staticmethod
    def _state(arn: str, inputs: dict[str, Any]) -> dict[str, Any]:
        return {**inputs, "arn": arn, "tagsAll": tags_of(inputs)}


HANDLERS: dict[str, Emulator] = {
    "aws:iam/role:Role": RoleEmulator(),
    "aws:iam/rolePolicy:RolePolicy": RolePolicyEmulator(),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": RolePolicyAttachmentEmulator(),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": OpenIdConnectProviderEmulator(),
}
