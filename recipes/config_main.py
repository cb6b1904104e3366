"""Shared body of each recipe folder's __main__.py: build the args from stack config, run the program."""

from __future__ import annotations

import json

from provisioner.recipe_api import Recipe, RecipeContext


def run_from_stack_config(recipe: Recipe) -> None:
    """`pulumi up` inside a recipe folder: env from config `env` (default: the stack name), args from config keys."""
    import pulumi

    config = pulumi.Config()
    env = config.get("env") or pulumi.get_stack()
    values = dict(recipe.presets.get(env, {}))
    for field in recipe.args_model.model_fields:
        raw = config.get(field)
        if raw is not None:
            try:
                values[field] = json.loads(raw)
            except json.JSONDecodeError:
                values[field] = raw
    args = recipe.args_model.model_validate(values)
    recipe.check(args)
    region = pulumi.Config("aws").get("region") or recipe.default_region
    recipe.program(args, RecipeContext(recipe.name, env, f"{recipe.name}-{env}", region))
