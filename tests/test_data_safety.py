"""A prod deploy that would replace or delete a bucket or database is refused before anything changes.

The setting used: the region of a GCP stack. Per provisioner/data/replace_on_change.yaml, a change of
``location`` replaces a ``gcp:storage/bucket:Bucket`` and a change of ``region`` replaces a
``gcp:sql/databaseInstance:DatabaseInstance`` (pulumi-gcp / Terraform Google provider: "Changing this
forces a new resource").
"""

from __future__ import annotations

import json

from provisioner.engine.diff import replace_table
from tests.helpers import deploy_cli

REFUSAL = (
    "error: refused: in prod, Bucket gcp-prod-artifacts would be replaced, because location changed; "
    "DatabaseInstance gcp-prod-mlflow-db-postgres would be replaced, because region changed, and its data with it; "
    "nothing was changed. To accept that: --allow-data-replacement gcp-prod"
)


def _state_ids(env: str) -> dict[str, str]:
    from provisioner.engine.simulated import SimulatedEngine

    engine = SimulatedEngine()
    state = engine.store.load("provisioner-gcp", env)
    assert state is not None
    return {r.key: r.id for r in state.resources}


def test_the_table_rows_the_refusal_relies_on() -> None:
    assert "location" in replace_table()["gcp:storage/bucket:Bucket"]
    assert "region" in replace_table()["gcp:sql/databaseInstance:DatabaseInstance"]


def test_moving_a_prod_stack_to_another_region_is_refused_naming_the_bucket_and_database() -> None:
    assert deploy_cli("gcp", "--env", "prod", "--simulate", "--yes").exit_code == 0
    before = _state_ids("prod")

    refused = deploy_cli("gcp", "--env", "prod", "--simulate", "--yes", "--region", "europe-west4")
    plan = deploy_cli("gcp", "--env", "prod", "--simulate", "--plan", "--region", "europe-west4", "--output", "json")

    assert refused.exit_code == 2
    assert refused.stderr.strip().splitlines()[-1] == REFUSAL
    assert _state_ids("prod") == before  # nothing changed
    assert json.loads(plan.stdout)["data_loss"] == [
        "gcp-prod-artifacts: replaced, because location changed",
        "gcp-prod-mlflow-db-postgres: replaced, because region changed",
    ]


def test_the_same_move_in_staging_goes_ahead() -> None:
    assert deploy_cli("gcp", "--env", "staging", "--simulate").exit_code == 0

    moved = deploy_cli("gcp", "--env", "staging", "--simulate", "--region", "europe-west4", "--output", "json")

    assert moved.exit_code == 0, moved.stderr
    replaced = {r["name"] for r in json.loads(moved.stdout)["resources"] if r["op"] == "replace"}
    assert {"gcp-staging-artifacts", "gcp-staging-mlflow-db-postgres"} <= replaced


def test_allowing_it_in_prod_takes_the_stack_name_and_still_meets_deletion_protection() -> None:
    assert deploy_cli("gcp", "--env", "prod", "--simulate", "--yes").exit_code == 0

    wrong = deploy_cli("gcp", "--env", "prod", "--simulate", "--yes", "--region", "europe-west4",
                       "--allow-data-replacement", "gcp-staging")
    protected = deploy_cli("gcp", "--env", "prod", "--simulate", "--yes", "--region", "europe-west4",
                           "--allow-data-replacement", "gcp-prod")

    assert wrong.exit_code == 2
    assert wrong.stderr.strip().splitlines()[-1] == (
        "error: --allow-data-replacement takes the stack's name, typed out: 'gcp-prod', not 'gcp-staging'"
    )
    assert protected.exit_code == 1  # Cloud SQL refuses to delete the old instance, as GCP would
    assert "has deletion protection enabled; turn it off first" in " ".join(protected.stderr.split())


def test_with_deletion_protection_turned_off_first_an_allowed_prod_move_completes() -> None:
    assert deploy_cli("gcp", "--env", "prod", "--simulate", "--yes").exit_code == 0
    unprotect = ("--set", "database.deletion_protection=false")
    off = deploy_cli("gcp", "--env", "prod", "--simulate", "--yes", *unprotect)  # in place: no data lost

    moved = deploy_cli("gcp", "--env", "prod", "--simulate", "--yes", "--region", "europe-west4", *unprotect,
                       "--allow-data-replacement", "gcp-prod", "--output", "json")

    assert off.exit_code == 0, off.stderr
    assert moved.exit_code == 0, moved.stderr
    replaced = {r["name"] for r in json.loads(moved.stdout)["resources"] if r["op"] == "replace"}
    assert {"gcp-prod-artifacts", "gcp-prod-mlflow-db-postgres"} <= replaced
