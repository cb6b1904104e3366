"""`pulumi up` in this folder runs the Kubernetes recipe; settings come from stack config.

    pulumi config set kube_context kind-dev
    pulumi up
"""

from recipes.config_main import run_from_stack_config
from recipes.kubernetes.recipe import KubernetesRecipe

run_from_stack_config(KubernetesRecipe())
