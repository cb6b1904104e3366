"""Shell completion of names: recipes, envs, stacks and components (only runs while completing)."""

from __future__ import annotations


def _starting(names: list[str], incomplete: str) -> list[str]:
    return [name for name in names if name.startswith(incomplete)]


def recipes(incomplete: str) -> list[str]:
    from provisioner.recipe_registry import RecipeRegistry

    return _starting(RecipeRegistry().names(), incomplete)


def envs(incomplete: str) -> list[str]:
    from provisioner.recipe_api import STANDARD_ENVS

    return _starting(list(STANDARD_ENVS), incomplete)


def stacks(incomplete: str) -> list[str]:
    """Registered stack names the user may see; nothing when the registry cannot be read."""
    try:
        from provisioner.cli._context import open_registry

        return _starting([s.name for s in open_registry().list_stacks()], incomplete)
    except Exception:  # completion must never print an error into the user's shell
        return []


def components(incomplete: str) -> list[str]:
    try:
        from provisioner.cli._context import open_registry

        return _starting([c.name for c in open_registry().list_components()], incomplete)
    except Exception:  # completion must never print an error into the user's shell
        return []
