"""AWS recipe: AwsMlopsStack (an embeddable ComponentResource) and the `aws` recipe.

``AwsMlopsStack`` imports pulumi_aws, so it is loaded on first use only.
"""

from typing import Any

from recipes.aws.recipe import AwsArgs, AwsRecipe

__all__ = ["AwsArgs", "AwsMlopsStack", "AwsRecipe"]


def __getattr__(name: str) -> Any:
    if name == "AwsMlopsStack":
        from recipes.aws import stack

        return getattr(stack, name)
    raise AttributeError(name)
