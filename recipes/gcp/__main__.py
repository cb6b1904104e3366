"""`pulumi up` in this folder runs the GCP recipe; settings come from stack config (see ../config_main.py)."""

from recipes.config_main import run_from_stack_config
from recipes.gcp.recipe import GcpRecipe

run_from_stack_config(GcpRecipe())
