"""Errors that say what to do next: did-you-mean for misplaced values and misspelt recipes, envs and options."""

from __future__ import annotations

import pytest

from tests.helpers import deploy_cli, destroy_cli


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(("aws", "dev"), "error: unexpected argument(s) dev: did you mean `--env dev`?", id="env-as-argument"),
        pytest.param(("aws", "eu-west-1"), "error: unexpected argument(s) eu-west-1: did you mean `--region eu-west-1`?",
                     id="region-as-argument"),
        pytest.param(("aws", "--simulate", "true"),
                     "error: unexpected argument(s) true: on/off options are flags: write the flag (`--simulate`) or leave it out, "
                     "without a value", id="flag-with-a-value"),
        pytest.param(("awz", "--env", "dev", "--simulate"), "error: unknown recipe 'awz' (did you mean 'aws'?) (known: aws, gcp, kubernetes)",
                     id="misspelt-recipe"),
        pytest.param(("aws", "--env", "stagin", "--simulate"),
                     "error: unknown env 'stagin' for recipe 'aws' (did you mean 'staging'?) (known: dev, staging, prod); "
                     "a config file can add one under envs: with extends: <env>", id="misspelt-env"),
    ],
)
def test_deploy_stack_says_what_was_meant_with_exit_2_before_anything_runs(args: tuple[str, ...], message: str) -> None:
    result = deploy_cli(*args)

    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.strip().splitlines()[-1] == message


def test_destroy_stack_too() -> None:
    result = destroy_cli("aws", "staging")

    assert result.exit_code == 2
    assert result.stderr.strip() == "error: unexpected argument(s) staging: did you mean `--env staging`?"


def test_a_misspelt_option_gets_clicks_suggestion() -> None:
    result = deploy_cli("aws", "--simlate")

    assert result.exit_code == 2
    assert "No such option: --simlate (Possible options: --file, --save, --simulate)" in result.stderr
