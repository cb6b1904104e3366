"""Run the recipe with plain `pulumi up` in this folder; settings come from stack config.

    pulumi config set provisioner-kubernetes:kube_context kind-dev
    pulumi config set provisioner-kubernetes:env dev
    pulumi up
"""

import json

import pulumi

from provisioner.recipe_api import RecipeContext
from recipes.kubernetes.recipe import KubernetesRecipe

recipe = KubernetesRecipe()
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
recipe.program(args, RecipeContext(recipe.name, env, f"{recipe.name}-{env}"))
