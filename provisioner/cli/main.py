"""The ``provisioner`` command: registry management. Heavy modules load inside commands only."""

import typer

from provisioner.cli import access, component, connector, facts, flavor, recipe, register, secret, stack

app = typer.Typer(
    name="provisioner",
    help="Manage the stack components, connectors, stacks and secrets that deploy-stack registers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(component.app, name="component")
app.add_typer(stack.app, name="stack")
app.add_typer(connector.app, name="connector")
app.add_typer(secret.app, name="secret")
app.add_typer(flavor.app, name="flavor")
app.add_typer(recipe.app, name="recipe")
app.command("unlock")(recipe.unlock)
app.add_typer(access.users_app, name="user")
app.command("audit")(access.audit)
app.command("register")(register.register)
app.add_typer(facts.app, name="facts")


def run() -> None:
    """Console-script entry point."""
    app()
