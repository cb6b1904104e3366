"""Input resolution: preset < config file < --set < flags, validated against the recipe's args."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.config import parse_set, resolve_request
from provisioner.errors import InputError
from provisioner.recipe_registry import RecipeRegistry

pytestmark = pytest.mark.usefixtures("demo_recipe")


def _recipe():  # type: ignore[no-untyped-def]
    return RecipeRegistry().get("demo")


def test_preset_applies_when_nothing_else_is_given() -> None:
    request, args = resolve_request(_recipe(), env="prod")

    assert args.model_dump()["tracker"]["replicas"] == 2
    assert request.stack_name == "demo-prod" and request.region == "eu-west-1"
    assert request.pulumi_stack == "prod"


def test_file_overrides_preset_set_overrides_file_flags_override_everything(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "region: us-west-2\nargs:\n  versioning: false\n  tracker: {replicas: 3, username: file-user}\n"
        "envs:\n  prod:\n    args:\n      tracker: {replicas: 4}\n"
    )

    request, args = resolve_request(
        _recipe(), env="prod", config_file=config, sets=["tracker.username=set-user"], region="ap-south-1"
    )

    values = args.model_dump()
    assert values["versioning"] is False  # file over preset
    assert values["tracker"] == {"replicas": 4, "username": "set-user"}  # env section over file, --set over both
    assert request.region == "ap-south-1"  # flag over file


def test_custom_name_gets_its_own_pulumi_stack() -> None:
    request, _ = resolve_request(_recipe(), env="staging", stack_name="team-a")

    assert request.pulumi_stack == "team-a"


def test_set_values_are_read_as_yaml_scalars() -> None:
    assert parse_set("tracker.replicas=3") == (["tracker", "replicas"], 3)
    assert parse_set("versioning=true") == (["versioning"], True)
    assert parse_set("extra_tags.team=ml") == (["extra_tags", "team"], "ml")


def test_set_below_a_free_form_mapping_is_allowed() -> None:
    _, args = resolve_request(_recipe(), env="dev", sets=["extra_tags.team=ml"])

    assert args.model_dump()["extra_tags"] == {"team": "ml"}


def test_prod_is_never_a_default() -> None:
    from provisioner.cli.deploy import deploy_stack, destroy_stack
    import inspect

    for command in (deploy_stack, destroy_stack):
        assert inspect.signature(command).parameters["env"].default == "dev"


def test_file_env_extending_an_unknown_preset_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("envs:\n  qa:\n    extends: perf\n")

    with pytest.raises(InputError, match="unknown env 'qa'"):
        resolve_request(_recipe(), env="qa", config_file=config)


def test_set_overrides_do_not_leak_into_the_recipe_presets() -> None:
    recipe = _recipe()
    resolve_request(recipe, env="prod", sets=["tracker.replicas=5"])

    _, args = resolve_request(recipe, env="prod")

    assert args.model_dump()["tracker"]["replicas"] == 2
