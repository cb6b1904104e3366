"""GCP recipe: GcpMlopsStack (an embeddable ComponentResource, loaded on first use) and the `gcp` recipe."""

from typing import Any

from recipes.gcp.recipe import GcpArgs, GcpRecipe

__all__ = ["GcpArgs", "GcpMlopsStack", "GcpMlopsStackArgs", "GcpRecipe"]


def __getattr__(name: str) -> Any:
    if name in ("GcpMlopsStack", "GcpMlopsStackArgs"):
        from recipes.gcp import stack

        return getattr(stack, name)
    raise AttributeError(name)
