"""Recipes found through the ``provisioner.recipes`` entry-point group."""

from __future__ import annotations

from importlib.metadata import entry_points

from provisioner.errors import InputError, NotFoundError
from provisioner.recipe_api import Recipe

ENTRY_POINT_GROUP = "provisioner.recipes"


class RecipeRegistry:
    """The recipes installed in this environment, by name. Loading one imports its module only then."""

    def __init__(self) -> None:
        self._entry_points = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}

    def names(self) -> list[str]:
        return sorted(self._entry_points)

    def get(self, name: str) -> Recipe:
        """Load a recipe; an unknown name is an InputError listing the installed ones."""
        entry_point = self._entry_points.get(name)
        if entry_point is None:
            from provisioner.suggest import did_you_mean

            known = ", ".join(self.names()) or "none installed"
            raise NotFoundError(f"unknown recipe {name!r}{did_you_mean(name, self.names())} (known: {known})")
        loaded = entry_point.load()
        recipe = loaded() if isinstance(loaded, type) else loaded
        if not isinstance(recipe, Recipe):
            raise InputError(f"entry point {name!r} ({entry_point.value}) is not a provisioner Recipe")
        return recipe
