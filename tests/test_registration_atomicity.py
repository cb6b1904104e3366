"""Registration is one transaction: a failure after the first component leaves nothing registered."""

from __future__ import annotations

from typing import Any

import pytest

from provisioner.registry.store import Transaction
from tests.helpers import deploy_cli, registry_rows


def _fail_after_first_component(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make the second component write raise, as a database error would; returns the names written."""
    written: list[str] = []
    original = Transaction.save_component

    def save_component(self: Transaction, spec: Any) -> Any:
        if written:
            raise RuntimeError("injected: the database went away after the first component")
        written.append(spec.name)
        return original(self, spec)

    monkeypatch.setattr(Transaction, "save_component", save_component)
    return written


def test_a_failure_after_the_first_component_registers_nothing(store_url: str, demo_recipe: object, monkeypatch: pytest.MonkeyPatch) -> None:
    written = _fail_after_first_component(monkeypatch)

    result = deploy_cli("demo", "--env", "dev", "--simulate")

    assert written == ["demo-dev-orchestrator"]  # the first component really was written, then rolled back
    assert result.exit_code == 1
    assert "injected: the database went away after the first component" in result.stderr
    rows = registry_rows()
    assert {table: rows[table] for table in ("stacks", "components", "connectors", "secrets", "stack_members")} == {
        "stacks": [], "components": [], "connectors": [], "secrets": [], "stack_members": [],
    }


def test_a_failed_reregistration_leaves_the_previous_one_exactly_as_it_was(store_url: str, demo_recipe: object, monkeypatch: pytest.MonkeyPatch) -> None:
    assert deploy_cli("demo", "--env", "dev", "--simulate").exit_code == 0
    before = registry_rows()
    _fail_after_first_component(monkeypatch)

    result = deploy_cli("demo", "--env", "dev", "--simulate", "--set", "versioning=false")

    assert result.exit_code == 1
    assert registry_rows() == before


def test_backend_secrets_are_discarded_only_after_the_database_commit(demo_recipe: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from provisioner.registry.service import Registry
    from provisioner.registry.vault import SecretVault
    from provisioner.secrets import LocalFernetBackend

    assert deploy_cli("demo", "--env", "dev", "--simulate").exit_code == 0
    discarded: list[str] = []
    monkeypatch.setattr(LocalFernetBackend, "discard", lambda self, name, payload: discarded.append(name))
    original = SecretVault.drop_owned

    def drop_then_fail(self: SecretVault, tx: Transaction, kind: str, name: str, keep: Any = ()) -> None:
        original(self, tx, kind, name, keep)
        if name == "demo-dev-tracker":
            raise RuntimeError("injected: failure after the secret row was deleted")

    monkeypatch.setattr(SecretVault, "drop_owned", drop_then_fail)
    with pytest.raises(RuntimeError, match="injected"):
        Registry.open().unregister_deployment("demo-dev")
    assert discarded == []  # rolled back: the row and the value both stay
    assert [s["name"] for s in registry_rows()["secrets"]] == ["component-demo-dev-tracker"]

    monkeypatch.setattr(SecretVault, "drop_owned", original)
    Registry.open().unregister_deployment("demo-dev")
    assert discarded == ["component-demo-dev-tracker"]
    assert registry_rows()["secrets"] == []
