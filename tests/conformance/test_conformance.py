"""Conformance: rules every built-in recipe keeps in every env, checked on what its program really declares.

Each recipe is deployed by the simulated engine (its resources and their inputs, as Pulumi sends them).
New recipes get the suite by being listed in RECIPES. Each rule is also shown failing on a broken resource.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from provisioner.cli._deploy_common import resolve
from provisioner.engine.base import NullSink
from provisioner.engine.simulated import SimulatedEngine
from provisioner.guardrails import violations
from provisioner.recipe_api import (
    STANDARD_ENVS,
    TAG_DEPLOYMENT,
    TAG_ENV,
    TAG_RECIPE,
    TAG_STACK,
    TAG_URN,
)
from provisioner.recipe_registry import RecipeRegistry

RECIPES = ("aws", "gcp", "kubernetes")
CONTEXT = {"kubernetes": "kind-conformance"}
# Types Pulumi declares whose APIs take no tags or labels (the rule does not apply to them).
UNTAGGABLE_PREFIXES = ("random:", "pulumi:")
# AWS types whose API takes no tags.
UNTAGGABLE = {
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:ec2/route:Route",
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy",
}


@dataclass(frozen=True)
class Declared:
    type: str
    name: str
    inputs: dict[str, Any]


_cache: dict[tuple[str, str], tuple[list[Declared], Any]] = {}
_exports: dict[tuple[str, str], dict[str, Any]] = {}


def declared(recipe_name: str, env: str) -> tuple[list[Declared], Any]:
    """The resources a recipe's program declares for an env, with their resolved inputs, and the recipe.

    A simulated deploy (not a preview, which leaves inputs built from other resources unknown), once per run."""
    if (recipe_name, env) not in _cache:
        recipe, request, args = resolve(
            recipe_name, env, config_file=None, sets=None, region=None, name=None, backend=None, context=CONTEXT.get(recipe_name)
        )
        from moto import mock_aws

        with mock_aws():  # its own emulator, whatever the test around it points boto3 at
            result = SimulatedEngine().up(request, recipe, args, preview=False, sink=NullSink())
        _cache[(recipe_name, env)] = ([Declared(r.type, r.name, dict(r.inputs or {})) for r in result.resources], recipe)
        _exports[(recipe_name, env)] = dict(result.outputs)
    return _cache[(recipe_name, env)]


# ----- the rules: each returns the names of the resources that break it ----------------------------


def _tag_keys(resource: Declared) -> tuple[set[str], set[str]] | None:
    """(the tag or label keys it carries, the ones it must carry), or None for a resource without tags."""
    if resource.type.startswith(UNTAGGABLE_PREFIXES):
        return None
    if resource.type.startswith("aws:") and "tags" in resource.inputs:
        return set(resource.inputs["tags"] or {}), {TAG_STACK, TAG_ENV, TAG_RECIPE, TAG_DEPLOYMENT, TAG_URN}
    if resource.type.startswith("gcp:") and ("labels" in resource.inputs or "resourceLabels" in resource.inputs):
        keys = set(resource.inputs.get("labels") or resource.inputs.get("resourceLabels") or {})
        return keys, {"provisioner-stack", "provisioner-env", "provisioner-recipe", "provisioner-deployment", "provisioner-urn"}
    if resource.type.startswith("kubernetes:") and isinstance(resource.inputs.get("metadata"), dict):
        keys = set((resource.inputs["metadata"] or {}).get("labels") or {})
        return keys, {"provisioner.io/stack", "provisioner.io/env", "provisioner.io/recipe", "provisioner.io/deployment"}
    return None


def ownership_tags(resources: list[Declared]) -> list[str]:
    """Every resource that takes tags or labels carries the stack, env, recipe and deployment ones (AWS: and its URN)."""
    broken = []
    for resource in resources:
        found = _tag_keys(resource)
        if found is not None and not found[1] <= found[0]:
            broken.append(resource.name)
    return broken


def untagged_taggable(resources: list[Declared]) -> list[str]:
    """AWS resources of types that take tags, declared without any (they would escape the ownership rules)."""
    return [
        r.name for r in resources
        if r.type.startswith("aws:") and r.type not in UNTAGGABLE and not r.type.startswith("aws:iam/policy") and "tags" not in r.inputs
    ]


def guardrails(resources: list[Declared]) -> list[str]:
    """The policy pack's rules (no wildcard action, no public bucket, no authoritative binding, encryption at rest)."""
    return [r.name for r in resources if violations(r.type, r.inputs)]


def s3_public_access_blocked(resources: list[Declared]) -> list[str]:
    """Every S3 bucket has a public access block naming it (its flags are checked by the guardrails)."""
    blocked = {r.inputs.get("bucket") for r in resources if r.type == "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"}
    # A bucket's physical name is its logical name plus Pulumi's auto-name suffix, unless given.
    return [
        r.name for r in resources if r.type == "aws:s3/bucket:Bucket"
        and not any(str(name).startswith(str(r.inputs.get("bucket") or r.name)) for name in blocked if name)
    ]


def images_in(value: Any) -> list[str]:
    """Every container image a resource's inputs name (the ``image`` keys, at any depth)."""
    if isinstance(value, dict):
        found = [value["image"]] if isinstance(value.get("image"), str) else []
        return found + [image for inner in value.values() for image in images_in(inner)]
    if isinstance(value, list):
        return [image for inner in value for image in images_in(inner)]
    return []


def banned_images(resources: list[Declared]) -> list[str]:
    """Resources that run an image the facts ban (MinIO community images, the archived kaniko)."""
    from provisioner.facts.images import banned_image_reason

    return [r.name for r in resources if any(banned_image_reason(image) for image in images_in(r.inputs))]


def prod_retention(resources: list[Declared], recipe: Any) -> list[str]:
    """Prod keeps its data: the recipe declares a retention policy, and the plan really has data it keeps."""
    if recipe.retention is None:
        return [f"recipe {recipe.name} declares no retention policy"]
    if not any(r.type in recipe.retention.data_types for r in resources):
        return [f"recipe {recipe.name}: none of its retained data types ({', '.join(sorted(recipe.retention.data_types))}) is declared in prod"]
    return []


def teardown_support(recipe: Any) -> list[str]:
    """A recipe that runs workloads in a cluster declares the namespaces pre-destroy cleans."""
    return [] if recipe.managed_namespaces else [f"recipe {recipe.name} declares no namespaces for pre-destroy"]


def offered_versions(resources: list[Declared]) -> list[str]:
    """EKS, RDS and Cloud SQL are asked only for what they offer, by the dated facts (as of the suite's run)."""
    from provisioner.facts import cloudsql, eks, rds, today

    broken = []
    for r in resources:
        if r.type == "aws:eks/cluster:Cluster" and eks.version_problem(str(r.inputs.get("version")), today(), allow_extended_support=False):
            broken.append(r.name)
        if r.type == "aws:rds/instance:Instance" and rds.version_problem(str(r.inputs.get("engineVersion"))):
            broken.append(r.name)
        if r.type == "gcp:sql/databaseInstance:DatabaseInstance":
            settings = r.inputs.get("settings") or {}
            if cloudsql.tier_problem(str(r.inputs.get("databaseVersion")), settings.get("edition"), str(settings.get("tier"))):
                broken.append(r.name)
    return broken


def eks_storage_binds(resources: list[Declared]) -> list[str]:
    """A stack with an EKS cluster brings the EBS CSI driver and a default StorageClass (EKS 1.30+ has neither)."""
    broken = []
    for cluster in (r for r in resources if r.type == "aws:eks/cluster:Cluster"):
        driver = any(r.type == "aws:eks/addon:Addon" and r.inputs.get("addonName") == "aws-ebs-csi-driver" for r in resources)
        default_class = any(
            r.type == "kubernetes:storage.k8s.io/v1:StorageClass"
            and ((r.inputs.get("metadata") or {}).get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class") == "true"
            for r in resources
        )
        if not (driver and default_class):
            broken.append(cluster.name)
    return broken


def _checked_inputs(resource: Declared) -> list[tuple[Callable[[str], str], str]]:
    """(rule, value) pairs of a declared resource that the input rules of user settings cover."""
    from provisioner import input_rules as rules

    inputs = resource.inputs
    pairs = [(rules.check_image_reference, image) for image in images_in(inputs)]
    if resource.type == "aws:eks/nodeGroup:NodeGroup":
        pairs += [(rules.check_ec2_instance_type, t) for t in inputs.get("instanceTypes") or []]
    if resource.type == "aws:eks/cluster:Cluster":
        pairs.append((rules.check_kubernetes_version, str(inputs.get("version"))))
    if resource.type == "aws:ec2/vpc:Vpc":
        pairs.append((rules.check_vpc_cidr, str(inputs.get("cidrBlock"))))
    if resource.type == "gcp:container/nodePool:NodePool":
        pairs.append((rules.check_gce_machine_type, str((inputs.get("nodeConfig") or {}).get("machineType"))))
    return pairs


def valid_inputs(resources: list[Declared]) -> list[str]:
    """What a recipe declares from its presets passes the rules users' settings pass (types, versions, images, ranges)."""
    broken = []
    for resource in resources:
        try:
            for check, value in _checked_inputs(resource):
                check(value)
        except ValueError:
            broken.append(resource.name)
    return broken


RULES: dict[str, Callable[[list[Declared]], list[str]]] = {
    "ownership-tags": ownership_tags,
    "untagged-taggable": untagged_taggable,
    "guardrails": guardrails,
    "s3-public-access-blocked": s3_public_access_blocked,
    "offered-versions": offered_versions,
    "eks-storage-binds": eks_storage_binds,
    "banned-images": banned_images,
    "valid-inputs": valid_inputs,
}


@pytest.mark.parametrize("env", STANDARD_ENVS)
@pytest.mark.parametrize("recipe_name", RECIPES)
def test_every_recipe_keeps_every_rule_in_every_env(recipe_name: str, env: str) -> None:
    resources, recipe = declared(recipe_name, env)

    broken = {rule: check(resources) for rule, check in RULES.items()}
    if env == "prod":
        broken["prod-retention"] = prod_retention(resources, recipe)
    broken["teardown-support"] = teardown_support(recipe)

    assert {rule: names for rule, names in broken.items() if names} == {}
    assert sum(1 for r in resources if _tag_keys(r) is not None) >= 4  # the tag rule really had resources to check


def test_the_built_in_recipes_are_all_under_the_suite() -> None:
    assert sorted(name for name in RecipeRegistry().names() if name in ("aws", "gcp", "kubernetes")) == sorted(RECIPES)


BROKEN = [
    pytest.param("ownership-tags", "aws", Declared("aws:s3/bucket:Bucket", "b", {"tags": {TAG_STACK: "s", TAG_ENV: "dev", TAG_RECIPE: "aws"}}), id="tag-without-deployment"),
    pytest.param("ownership-tags", "gcp", Declared("gcp:storage/bucket:Bucket", "g", {"labels": {"provisioner-stack": "s"}}), id="label-without-deployment"),
    pytest.param("untagged-taggable", "aws", Declared("aws:ec2/vpc:Vpc", "v", {"cidrBlock": "10.0.0.0/16"}), id="vpc-without-tags"),
    pytest.param("guardrails", "aws", Declared("aws:iam/rolePolicy:RolePolicy", "p", {"policy": json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})}), id="s3-star"),
    pytest.param("guardrails", "gcp", Declared("gcp:projects/iAMBinding:IAMBinding", "i", {"role": "roles/viewer"}), id="project-binding"),
    pytest.param("guardrails", "gcp", Declared("gcp:storage/bucket:Bucket", "g", {"uniformBucketLevelAccess": True, "publicAccessPrevention": "inherited"}), id="gcs-public"),
    pytest.param("guardrails", "aws", Declared("aws:rds/instance:Instance", "db", {"storageEncrypted": False}), id="rds-unencrypted"),
    pytest.param("s3-public-access-blocked", "aws", Declared("aws:s3/bucket:Bucket", "b2", {"tags": {}}), id="bucket-without-block"),
    pytest.param(
        "banned-images", "kubernetes",
        Declared("kubernetes:apps/v1:Deployment", "old-minio", {"spec": {"template": {"spec": {"containers": [{"image": "quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z"}]}}}}),
        id="minio-image",
    ),
    pytest.param(
        "banned-images", "aws",
        Declared("kubernetes:batch/v1:Job", "old-kaniko", {"spec": {"template": {"spec": {"containers": [{"image": "gcr.io/kaniko-project/executor:v1.23.2"}]}}}}),
        id="archived-kaniko-image",
    ),
    pytest.param("valid-inputs", "aws", Declared("aws:eks/nodeGroup:NodeGroup", "t9", {"instanceTypes": ["t9.mega"]}), id="unknown-instance-type"),
    pytest.param("valid-inputs", "aws", Declared("aws:ec2/vpc:Vpc", "public-vpc", {"cidrBlock": "0.0.0.0/0"}), id="public-vpc-range"),
    pytest.param("valid-inputs", "gcp", Declared("gcp:container/nodePool:NodePool", "bad-pool", {"nodeConfig": {"machineType": "t9.mega"}}), id="bad-machine-type"),
    pytest.param(
        "valid-inputs", "kubernetes",
        Declared("kubernetes:apps/v1:Deployment", "shell-image", {"spec": {"template": {"spec": {"containers": [{"image": "mlflow; rm -rf /"}]}}}}),
        id="image-with-shell",
    ),
    pytest.param("offered-versions", "aws", Declared("aws:eks/cluster:Cluster", "old-eks", {"version": "1.31"}), id="eks-past-support"),
    pytest.param("offered-versions", "aws", Declared("aws:rds/instance:Instance", "old-rds", {"engineVersion": "16.4"}), id="retired-rds-minor"),
    pytest.param(
        "offered-versions", "gcp",
        Declared("gcp:sql/databaseInstance:DatabaseInstance", "plus-sql", {"databaseVersion": "POSTGRES_16", "settings": {"tier": "db-custom-1-3840"}}),
        id="custom-tier-on-enterprise-plus",
    ),
]


@pytest.mark.parametrize(("rule", "recipe_name", "bad"), BROKEN)
def test_each_rule_fails_on_a_deliberately_broken_resource(rule: str, recipe_name: str, bad: Declared) -> None:
    resources, _recipe = declared(recipe_name, "staging")

    assert RULES[rule]([*resources, bad]) == [bad.name]


def test_prod_retention_fails_for_a_recipe_that_declares_none() -> None:
    resources, recipe = declared("gcp", "prod")

    class NoRetention:
        name = "gcp-broken"
        retention = None

    assert prod_retention(resources, NoRetention()) == ["recipe gcp-broken declares no retention policy"]
    assert prod_retention([r for r in resources if r.type not in recipe.retention.data_types], recipe) != []


@pytest.mark.parametrize("env", STANDARD_ENVS)
@pytest.mark.parametrize("recipe_name", RECIPES)
def test_the_outputs_model_is_exactly_what_the_program_exports_with_secrets_marked(recipe_name: str, env: str) -> None:
    _resources, recipe = declared(recipe_name, env)
    exports = _exports[(recipe_name, env)]

    assert recipe.outputs_model is not None
    assert sorted(exports) == sorted(recipe.outputs_model.model_fields)
    assert {key for key, value in exports.items() if value.secret} == recipe.outputs_model.secret_fields()
    recipe.outputs_model.model_validate({key: value.value for key, value in exports.items()})


# One vocabulary: a component's name suffix says its type, in every recipe.
SUFFIX_TYPES = {
    "orchestrator": "orchestrator",
    "artifacts": "artifact_store",
    "registry": "container_registry",
    "tracker": "experiment_tracker",
    "models": "model_registry",
    "builder": "image_builder",
}
CLOUD_STEP_OPERATORS = {"aws": "sagemaker", "gcp": "vertex"}


def _plan(recipe_name: str, env: str) -> Any:
    from provisioner.recipe_api import RecipeContext

    _resources, recipe = declared(recipe_name, env)
    outputs = recipe.read_outputs({key: value.value for key, value in _exports[(recipe_name, env)].items()})
    return recipe.registration(outputs, RecipeContext(recipe_name, env, f"{recipe_name}-{env}"))


def misnamed_components(plan: Any, prefix: str) -> list[str]:
    """Components whose name suffix means another type than theirs (``-registry`` that is no container registry)."""
    return [
        entry.name for entry in plan.components
        if SUFFIX_TYPES.get(entry.name.removeprefix(prefix), entry.type) != entry.type
    ]


@pytest.mark.parametrize("env", STANDARD_ENVS)
@pytest.mark.parametrize("recipe_name", RECIPES)
def test_component_names_mean_the_same_type_in_every_recipe(recipe_name: str, env: str) -> None:
    plan = _plan(recipe_name, env)
    prefix = f"{recipe_name}-{env}-"

    assert misnamed_components(plan, prefix) == []
    expected = dict(SUFFIX_TYPES)
    if recipe_name in CLOUD_STEP_OPERATORS:
        expected[CLOUD_STEP_OPERATORS[recipe_name]] = "step_operator"
    else:  # the kubernetes recipe brings no container registry of its own
        del expected["registry"]
    assert {entry.name.removeprefix(prefix): entry.type for entry in plan.components} == expected


def test_the_vocabulary_rule_fails_on_a_model_registry_named_registry() -> None:
    from provisioner.recipe_api import ComponentEntry

    plan = _plan("kubernetes", "dev")
    plan.components.append(ComponentEntry("kubernetes-dev-registry", "model_registry", "mlflow", {}))

    assert misnamed_components(plan, "kubernetes-dev-") == ["kubernetes-dev-registry"]


@pytest.mark.parametrize("recipe_name", ["aws", "gcp"])
def test_cloud_recipes_share_the_settings_vocabulary(recipe_name: str) -> None:
    from provisioner.recipe_settings import (
        BucketSettings,
        ContainerRegistrySettings,
        DatabaseSettings,
        NodeRange,
    )
    from recipes.kubernetes.settings import MlflowSettings

    fields = RecipeRegistry().get(recipe_name).args_model.model_fields

    assert fields["bucket"].annotation is BucketSettings
    assert fields["registry"].annotation is ContainerRegistrySettings
    assert issubclass(fields["database"].annotation, DatabaseSettings)
    assert issubclass(fields["cluster"].annotation.model_fields["nodes"].annotation, NodeRange)
    assert fields["mlflow"].annotation is MlflowSettings


def test_the_storage_rule_fails_on_an_eks_stack_without_a_default_storage_class() -> None:
    resources, _recipe = declared("aws", "staging")
    without = [r for r in resources if r.type != "kubernetes:storage.k8s.io/v1:StorageClass"]

    assert eks_storage_binds(without) == [next(r.name for r in resources if r.type == "aws:eks/cluster:Cluster")]


# ----- maintained parts: the images each recipe runs, its image builder, its load balancer -----------

RECIPE_IMAGES = {
    "aws": {"ghcr.io/mlflow/mlflow:v3.17.2-full", "aws/codebuild/amazonlinux-x86_64-standard:5.0"},
    "gcp": {"ghcr.io/mlflow/mlflow:v3.17.2-full"},
    "kubernetes": {"ghcr.io/mlflow/mlflow:v3.17.2-full", "chrislusf/seaweedfs:4.48"},
}


@pytest.mark.parametrize("env", STANDARD_ENVS)
@pytest.mark.parametrize("recipe_name", RECIPES)
def test_every_image_a_recipe_runs_is_a_maintained_one_pinned_by_tag(recipe_name: str, env: str) -> None:
    resources, _recipe = declared(recipe_name, env)

    assert {image for r in resources for image in images_in(r.inputs)} == RECIPE_IMAGES[recipe_name]


def _exported(recipe_name: str, env: str = "staging") -> dict[str, Any]:
    declared(recipe_name, env)
    return {key: value.value for key, value in _exports[(recipe_name, env)].items()}


def _builder(recipe_name: str) -> Any:
    return next(entry for entry in _plan(recipe_name, "staging").components if entry.type == "image_builder")


def test_the_image_builder_is_codebuild_on_aws_cloud_build_on_gcp_and_kaniko_on_kubernetes() -> None:
    aws_builder, gcp_builder, kubernetes_builder = (_builder(name) for name in RECIPES)

    assert (aws_builder.flavor, aws_builder.connector) == ("aws", "aws-staging-aws")
    assert aws_builder.config == {"code_build_project": _exported("aws")["image_builder_project"]}
    assert (gcp_builder.flavor, gcp_builder.connector) == ("gcp", "gcp-staging-gcp")
    assert gcp_builder.config == {"project": _exported("gcp")["project"], "location": _exported("gcp")["region"]}
    assert kubernetes_builder.flavor == "kaniko"


def test_the_aws_plan_has_a_tagged_encrypted_codebuild_project_the_connector_may_start() -> None:
    resources, _recipe = declared("aws", "staging")
    by_name = {r.name: r for r in resources}
    project = by_name["aws-staging-builder-project"]

    assert project.type == "aws:codebuild/project:Project"
    assert project.inputs["name"] == _exported("aws")["image_builder_project"]
    assert project.inputs["encryptionKey"] == "alias/aws/s3"
    assert project.inputs["environment"]["privilegedMode"] is True  # docker build needs CodeBuild's Docker daemon
    assert project.inputs["tags"]["provisioner:stack"] == "aws-staging"
    builder_policy = json.loads(by_name["aws-staging-builder-role-policy"].inputs["policy"])
    assert [s["Action"] for s in builder_policy["Statement"]] == [
        ["s3:GetBucketAcl", "s3:GetBucketLocation"],
        ["s3:GetObject", "s3:GetObjectVersion"],
        ["ecr:GetAuthorizationToken"],
        ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability", "ecr:PutImage",
         "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:DescribeImages",
         "ecr:DescribeRepositories", "ecr:ListImages"],
        ["logs:CreateLogStream", "logs:PutLogEvents"],
    ]
    assert builder_policy["Statement"][1]["Resource"].endswith("/code-build-contexts/*")
    connector_policy = json.loads(by_name["aws-staging-roles-connector-policy"].inputs["policy"])
    builds = [s for s in connector_policy["Statement"] if s.get("Sid") == "ImageBuilds"]
    assert [(s["Action"], s["Resource"].startswith("arn:aws:codebuild:eu-west-1:")) for s in builds] == [
        (["codebuild:StartBuild", "codebuild:BatchGetBuilds"], True)
    ]


@pytest.mark.parametrize(("recipe_name", "annotations"), [
    pytest.param("aws", {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}, id="aws-nlb"),
    pytest.param("gcp", {}, id="gcp-plain"),
    pytest.param("kubernetes", {}, id="kubernetes-plain"),
])
def test_only_aws_load_balancers_are_annotated_as_nlbs(recipe_name: str, annotations: dict[str, str]) -> None:
    resources, _recipe = declared(recipe_name, "staging")
    service = next(r for r in resources if r.type == "kubernetes:core/v1:Service" and r.name.endswith("mlflow-svc"))

    assert service.inputs["spec"]["type"] == "LoadBalancer"
    assert (service.inputs["metadata"].get("annotations") or {}) == annotations
