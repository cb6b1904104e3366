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


def test_the_kubernetes_recipe_simulates_without_a_context_and_a_real_prod_deploy_without_one_is_refused_before_the_prompt() -> None:
    from tests.helpers import cli_json

    simulated = deploy_cli("kubernetes", "--env", "dev", "--simulate")
    real_prod = deploy_cli("kubernetes", "--env", "prod", input="kubernetes-prod\n")

    assert simulated.exit_code == 0, simulated.stderr
    components = cli_json("stack", "describe", "kubernetes-dev")["components"]
    assert components["orchestrator"]["config"]["kubernetes_context"] == "provisioner-simulated"
    assert real_prod.exit_code == 2
    assert real_prod.stderr == "error: recipe 'kubernetes' needs the cluster: pass --context NAME (a kubeconfig context)\n"


def test_a_resource_id_alone_takes_its_type_from_the_stack_that_names_it(aws_endpoint: str) -> None:
    """A plain bucket name fits a bucket's, a cluster's and a repository's naming rules; the artifact store says which."""
    import json

    from tests.helpers import cli, cli_json

    assert deploy_cli("aws", "--env", "staging", "--simulate").exit_code == 0
    bucket = cli_json("stack", "describe", "aws-staging")["components"]["artifact_store"]["config"]["path"].removeprefix("s3://")

    verified = cli("connector", "verify", "aws-staging-aws", "--resource-id", bucket, "--output", "json")
    issued = cli("connector", "credentials", "aws-staging-aws", "--resource-id", bucket, "--output", "json")
    unknown = cli("connector", "verify", "aws-staging-aws", "--resource-id", "someone-elses-bucket")

    assert verified.exit_code == 0, verified.stderr
    assert [(c["resource_type"], c["resource_id"], c["reachable"]) for c in json.loads(verified.stdout)["checks"]] == [
        ("s3-bucket", bucket, True)]
    assert issued.exit_code == 0, issued.stderr
    assert json.loads(issued.stdout)["resource_type"] == "s3-bucket"
    assert unknown.exit_code == 2
    assert "could be any of s3-bucket, kubernetes-cluster, docker-registry: give --resource-type" in unknown.stderr


def _complete(program: str, words: str, home: str) -> list[str]:
    import os
    import subprocess
    import sys
    from pathlib import Path

    variable = f"_{program.upper().replace('-', '_')}_COMPLETE"
    env = {**os.environ, variable: "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1),
           "PROVISIONER_HOME": home}
    done = subprocess.run([str(Path(sys.executable).parent / program)], env=env, capture_output=True, text=True, timeout=60)
    return done.stdout.split()


def test_shell_completion_offers_recipes_envs_and_registered_stacks(isolated_environ: object) -> None:
    import os

    from tests.helpers import cli

    for step in (("component", "register", "orch", "-t", "orchestrator", "-f", "local"),
                 ("component", "register", "art", "-t", "artifact_store", "-f", "local", "-c", "path=/tmp/a"),
                 ("stack", "register", "team-staging", "-c", "orch", "-c", "art")):
        assert cli(*step).exit_code == 0
    home = os.environ["PROVISIONER_HOME"]

    assert _complete("deploy-stack", "deploy-stack a", home) == ["aws"]
    assert _complete("destroy-stack", "destroy-stack aws --env st", home) == ["staging"]
    assert _complete("provisioner", "provisioner stack describe team", home) == ["team-staging"]
    assert _complete("provisioner", "provisioner component describe o", home) == ["orch"]


def test_missing_credentials_against_an_emulator_say_which_variables_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import NoCredentialsError

    from provisioner.connectors.aws import describe_error

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    against_emulator = describe_error(NoCredentialsError())
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    against_aws = describe_error(NoCredentialsError())

    assert against_emulator == (
        "Unable to locate credentials (AWS_ENDPOINT_URL points at an emulator, http://127.0.0.1:5000, which takes any "
        "credentials: export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing; provisioner simulate serve prints these lines)")
    assert against_aws == "Unable to locate credentials"


def test_the_gke_hint_carries_every_flag_gcloud_needs() -> None:
    deployed = deploy_cli("gcp", "--env", "dev", "--simulate")

    assert deployed.exit_code == 0, deployed.stderr
    assert ("Cluster: gcloud container clusters get-credentials gcp-dev --location europe-west1-b --project provisioner-simulated"
            in deployed.stdout.splitlines())
