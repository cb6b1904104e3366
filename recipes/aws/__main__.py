"""`pulumi up` in this folder runs the AWS recipe; settings come from stack config (see ../config_main.py)."""

from recipes.aws.recipe import AwsRecipe
from recipes.config_main import run_from_stack_config

run_from_stack_config(AwsRecipe())
