"""GCP recipe: GcpMlopsStack (an embeddable ComponentResource, loaded on first use) and the `gcp` recipe."""

from typing import Any

from recipes.gcp.recipe import GcpArgs, GcpRecipe

__all__ = ["GcpArgs", "GcpMlopsStack", "GcpRecipe"]


def __getattr__(name: str) -> Any:
    if name == "GcpMlopsStack":
        from recipes.gcp import stack

        return getattr(stack, name)
    raise AttributeError(name)
