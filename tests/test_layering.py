"""No import cycle between provisioner's packages and modules: found by walking every import statement."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "provisioner"


def _unit(module: str) -> str:
    """The unit a module belongs to: its subpackage (provisioner.engine.x -> engine), or the top-level module."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def import_graph() -> dict[str, set[str]]:
    """unit -> the units its modules import (top-level and inside functions alike)."""
    graph: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT.parent).with_suffix("")
        module = ".".join(part for part in relative.parts if part != "__init__")
        source = _unit(module)
        targets = graph.setdefault(source, set())
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
                if node.module == "provisioner":
                    names = [f"provisioner.{alias.name}" for alias in node.names]
            for name in names:
                if name.startswith("provisioner.") and _unit(name) != source:
                    targets.add(_unit(name))
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path of units, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(unit: str) -> list[str] | None:
        state[unit] = 1
        stack.append(unit)
        for target in sorted(graph.get(unit, ())):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        stack.pop()
        state[unit] = 2
        return None

    for unit in sorted(graph):
        if unit not in state:
            found = visit(unit)
            if found:
                return found
    return None


def test_find_cycle_reports_a_cycle_when_there_is_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_there_is_no_import_cycle_between_provisioner_packages() -> None:
    assert find_cycle(import_graph()) is None


def test_recipe_api_imports_neither_teardown_nor_the_registry_nor_the_cli() -> None:
    assert import_graph()["recipe_api"] & {"teardown", "registry", "cli", "engine"} == set()


def test_the_engine_does_not_import_teardown() -> None:
    assert "teardown" not in import_graph()["engine"]
