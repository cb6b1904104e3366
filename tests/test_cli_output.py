"""Output made for pipes and people: no hard wrapping in pipes, nothing cut in tables, prompts off stdout."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from provisioner.cli import _output
from tests.helpers import cli, deploy_cli

LONG_PATH = "s3://" + "a-very-long-bucket-name-that-no-terminal-of-eighty-columns-would-hold-" * 2 + "end"


def _register_long_stack() -> None:
    for step in (("component", "register", "orch", "-t", "orchestrator", "-f", "local"),
                 ("component", "register", "art", "-t", "artifact_store", "-f", "s3", "-c", f"path={LONG_PATH}"),
                 ("stack", "register", "long", "-c", "orch", "-c", "art")):
        assert cli(*step).exit_code == 0


def test_a_table_on_a_pipe_keeps_every_value_whole_on_one_line(isolated_environ: Path) -> None:
    _register_long_stack()

    shown = cli("stack", "describe", "long")  # stdout is not a terminal here, as with `| cat`

    assert shown.exit_code == 0
    assert f"path={LONG_PATH}" in shown.stdout and "…" not in shown.stdout


def test_a_terminal_too_narrow_for_a_table_gets_one_record_per_block_with_nothing_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(_output, "stdout_console", lambda: Console(file=screen, force_terminal=True, width=60, color_system=None))

    _output.print_table("Stacks", ["name", "config"], [("long", {"path": LONG_PATH, "region": "eu-west-1"})])

    lines = screen.getvalue().splitlines()
    assert lines[:3] == ["Stacks", "", "name: long"]
    assert "".join(line.strip() for line in lines[3:-1]) == f"config:path={LONG_PATH}"  # folded at 60 columns, but whole
    assert lines[-1] == "  region=eu-west-1" and all(len(line) <= 60 for line in lines)


def test_the_deploy_summary_and_stack_describe_keep_the_kubeconfig_command_on_one_line_in_a_pipe(aws_endpoint: str) -> None:
    deployed = deploy_cli("aws", "--env", "dev", "--simulate")

    described = cli("stack", "describe", "aws-dev")  # as `provisioner stack describe aws-dev | cat`: stdout is a pipe

    command = "Cluster: aws eks update-kubeconfig --name aws-dev --region eu-west-1 --alias aws-dev"
    assert deployed.exit_code == 0, deployed.stderr
    assert command in deployed.stdout.splitlines()
    assert described.stdout.splitlines()[-1] == command


def test_the_prod_prompt_without_input_refuses_with_exit_2_and_nothing_on_stdout(tmp_path: Path) -> None:
    env = {**os.environ, "PROVISIONER_HOME": str(tmp_path), "PROVISIONER_USER": "ops"}
    env.pop("AWS_ENDPOINT_URL", None)
    deploy_stack = str(Path(sys.executable).parent / "deploy-stack")

    done = subprocess.run([deploy_stack, "aws", "--env", "prod", "--simulate", "--output", "json"], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, env=env, timeout=120)

    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines() == [
        "This deploys to PRODUCTION. Type the stack name (aws-prod) to go on: ",
        "error: the typed name does not match 'aws-prod': nothing was done (or pass --yes)",
    ]


def test_the_destroy_question_is_asked_on_stderr_and_the_answer_read_from_stdin(aws_endpoint: str) -> None:
    from tests.helpers import destroy_cli

    assert deploy_cli("aws", "--env", "dev", "--simulate").exit_code == 0

    kept = destroy_cli("aws", "--env", "dev", "--simulate", "--output", "json", input="n\n")

    assert kept.exit_code == 2 and kept.stdout == ""
    assert "Destroy aws-dev and unregister it? [y/N]:" in kept.stderr and "not confirmed: nothing was destroyed" in kept.stderr


def test_compare_envs_shows_the_settings_that_differ_env_by_env(aws_endpoint: str) -> None:
    import json

    compared = deploy_cli("aws", "--plan", "--compare-envs", "--simulate", "--output", "json")
    table = deploy_cli("aws", "--plan", "--compare-envs", "--simulate")

    assert compared.exit_code == 0, compared.stderr
    differing = json.loads(compared.stdout)["differing_settings"]
    assert differing["cluster.nodes.desired"] == {"dev": 1, "staging": 2, "prod": 3}
    assert differing["network.nat_gateways"] == {"dev": "single", "staging": "single", "prod": "per_az"}
    assert "region" not in differing and "cluster.version" not in differing  # the same in every env
    assert "│ cluster.nodes.instance_type    │ t3.large     │ t3.xlarge     │ m6i.xlarge    │" in table.stdout


def test_progress_is_drawn_as_each_event_arrives_not_at_the_next_timer_tick() -> None:
    from provisioner.cli._progress import RichProgressSink
    from provisioner.engine.base import Op

    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120, color_system=None)
    with RichProgressSink("Deploying aws-dev", console=console) as sink:
        for index in range(9):
            urn = f"urn:pulumi:dev::p::aws:s3/bucket:Bucket::b{index}"
            sink.started(urn, "aws:s3/bucket:Bucket", Op.CREATE)
            sink.finished(urn, "aws:s3/bucket:Bucket", Op.CREATE)
        drawn = screen.getvalue()  # read inside the block, before the final refresh on exit

    assert "Deploying aws-dev: 9 created; 0 running; 0 failed" in drawn


def test_wide_keeps_a_terminal_table_as_wide_as_its_values(monkeypatch: pytest.MonkeyPatch) -> None:
    class NarrowTerminal(Console):
        def __init__(self, **options: object) -> None:
            options.setdefault("width", 60)
            super().__init__(force_terminal=True, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(_output, "_unclipped_console_class", lambda: NarrowTerminal)

    narrow = _output.stdout_console()
    monkeypatch.setenv(_output.WIDE_ENV, "1")
    wide = _output.stdout_console()

    assert (narrow.width, wide.width) == (60, _output.PIPE_WIDTH)
    assert cli("--wide", "flavor", "list").exit_code == 0


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path: Path) -> None:
    """`provisioner flavor list --output json | true`: exit 141 (SIGPIPE's), no 'internal error' on stderr."""
    env = {**os.environ, "PROVISIONER_HOME": str(tmp_path)}
    program = str(Path(sys.executable).parent / "provisioner")

    done = subprocess.run(f"'{program}' flavor list --output json | true; echo $? ${{PIPESTATUS[0]}}", shell=True,
                          executable="/bin/bash", env=env, capture_output=True, text=True, timeout=60)

    assert done.stdout.split() == ["0", "141"]
    assert done.stderr == ""
