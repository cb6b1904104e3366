"""`provisioner facts check` ages every dated fact and names what is stale, on fixed as-of dates."""

from __future__ import annotations

import json
import os
from datetime import date

import pytest

from provisioner.facts import cloudsql, eks, prices, rds
from provisioner.facts.check import sources
from tests.helpers import cli, deploy_cli

DEFAULT_LAPSES = (
    "problem: EKS default version 1.35 reaches the end of standard support on 2027-03-27 "
    "(54 days after 2027-02-01): record the newer EKS calendar in provisioner/facts/eks.py"
)


def _problems(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("problem: ")]


def test_facts_check_lists_every_source_of_every_facts_module() -> None:
    listed = {(module, source) for module, source in sources()}

    expected = {("eks", eks.SOURCE), ("rds", rds.SOURCE), ("cloudsql", cloudsql.SOURCE)}
    expected |= {("prices", source) for source in prices.SOURCES}
    assert expected <= listed
    assert ("prices", eks.PRICING_SOURCE) in listed  # the EKS rates are prices: listed once, under prices


def test_facts_check_on_a_fresh_date_exits_0_with_every_age() -> None:
    result = cli("facts", "check", "--as-of", "2026-12-02", "--output", "json")

    assert result.exit_code == 0, result.stderr
    assert _problems(result.stderr) == []
    report = json.loads(result.stdout)
    assert report["as_of"] == "2026-12-02" and report["problems"] == []
    ages = {(fact["module"], fact["title"]): fact["age_days"] for fact in report["facts"]}
    assert ages[("eks", eks.SOURCE.title)] == 1
    assert ages[("prices", "Amazon EC2 On-Demand pricing (Linux)")] == 0
    assert len(report["facts"]) == len(sources())


def test_facts_check_names_the_eks_default_that_leaves_standard_support_within_60_days() -> None:
    result = cli("facts", "check", "--as-of", "2027-02-01")

    assert result.exit_code == 1
    assert _problems(result.stderr) == [DEFAULT_LAPSES]


def test_facts_check_61_days_before_the_end_of_the_default_is_fine() -> None:
    assert cli("facts", "check", "--as-of", "2027-01-25").exit_code == 0  # 1.35 ends 2027-03-27: 61 days later


def test_facts_check_names_each_fact_older_than_120_days() -> None:
    result = cli("facts", "check", "--as-of", "2027-05-01")

    assert result.exit_code == 1
    problems = _problems(result.stderr)
    assert (
        "problem: eks: 'Amazon EKS user guide: Kubernetes version lifecycle (standard and extended support calendar)' "
        "was recorded 2026-12-01, 151 days before 2027-05-01 (older than 120): "
        "re-read https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html"
    ) in problems
    assert (
        "problem: prices: 'Amazon EC2 On-Demand pricing (Linux)' was recorded 2026-12-02, 150 days before 2027-05-01 "
        "(older than 120): re-read https://aws.amazon.com/ec2/pricing/on-demand/"
    ) in problems
    # One line per stale source, then the default that no longer exists in the recorded calendar.
    assert len(problems) == len(sources()) + 1
    assert problems[-1] == (
        "problem: EKS default version: no EKS version in standard support on 2027-05-01 in the recorded calendar (2026-12-01)"
    )


def test_facts_check_on_day_120_is_not_stale_and_on_day_121_is() -> None:
    oldest = min(source.recorded for _, source in sources())
    day_120 = date.fromordinal(oldest.toordinal() + 120).isoformat()
    day_121 = date.fromordinal(oldest.toordinal() + 121).isoformat()

    fresh = json.loads(cli("facts", "check", "--as-of", day_120, "--output", "json").stdout)
    stale = json.loads(cli("facts", "check", "--as-of", day_121, "--output", "json").stdout)

    assert not any(fact["stale"] for fact in fresh["facts"])
    assert {fact["recorded"] for fact in stale["facts"] if fact["stale"]} == {oldest.isoformat()}


def test_facts_check_reads_the_as_of_date_from_the_environment() -> None:
    os.environ["PROVISIONER_FACTS_AS_OF"] = "2027-02-01"

    result = cli("facts", "check")

    assert result.exit_code == 1 and _problems(result.stderr) == [DEFAULT_LAPSES]


@pytest.mark.parametrize("value", [pytest.param("banana", id="word"), pytest.param("2027-02-30", id="no-such-day"),
                                   pytest.param("20270201", id="compact"), pytest.param("2027-02-01\n", id="newline")])
def test_facts_check_refuses_a_bad_as_of_date_in_one_line(value: str) -> None:
    result = cli("facts", "check", "--as-of", value)

    assert result.exit_code == 2
    assert result.stderr == f"error: --as-of must be a date like 2026-12-01 (got {value!r})\n"


STALE_WARNING = (
    "warning: the dated facts behind this plan have {n} problem(s) on 2027-05-01; run `provisioner facts check` for the list"
)


def test_a_simulated_plan_with_stale_facts_warns_in_one_line() -> None:
    os.environ["PROVISIONER_FACTS_AS_OF"] = "2027-05-01"

    result = deploy_cli("gcp", "--env", "dev", "--plan", "--simulate", "--output", "json")

    assert result.exit_code == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "dated facts" in line]
    assert warnings == [STALE_WARNING.format(n=len(sources()) + 1)]


def test_a_simulated_comparison_of_envs_with_stale_facts_warns_once() -> None:
    os.environ["PROVISIONER_FACTS_AS_OF"] = "2027-05-01"

    result = deploy_cli("gcp", "--plan", "--compare-envs", "--simulate", "--output", "json")

    assert result.exit_code == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "dated facts" in line]
    assert warnings == [STALE_WARNING.format(n=len(sources()) + 1)]


def test_a_simulated_plan_with_fresh_facts_does_not_warn() -> None:
    os.environ["PROVISIONER_FACTS_AS_OF"] = "2026-12-02"

    result = deploy_cli("gcp", "--env", "dev", "--plan", "--simulate", "--output", "json")

    assert result.exit_code == 0, result.stderr
    assert "dated facts" not in result.stderr
