"""The ``provisioner`` command: registry management. Heavy modules load inside commands only."""

import typer

from provisioner.cli._app import new_app
from provisioner.cli import access, component, connector, facts, flavor, recipe, register, secret, server, simulate, stack

app = new_app(
    name="provisioner",
    help="Manage the stack components, connectors, stacks and secrets that deploy-stack registers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
@app.callback()
def _options(
    wide: bool = typer.Option(False, "--wide", help="Tables as wide as their values, even on a narrow terminal (no folding)."),
) -> None:
    """Manage the stack components, connectors, stacks and secrets that deploy-stack registers."""
    if wide:
        import os

        from provisioner.cli._output import WIDE_ENV

        os.environ[WIDE_ENV] = "1"


app.add_typer(component.app, name="component")
app.add_typer(stack.app, name="stack")
app.add_typer(connector.app, name="connector")
app.add_typer(secret.app, name="secret")
app.add_typer(flavor.app, name="flavor")
app.add_typer(recipe.app, name="recipe")
app.command("unlock")(recipe.unlock)
app.add_typer(access.users_app, name="user")
app.add_typer(access.audit_app, name="audit")
app.command("register")(register.register)
app.add_typer(facts.app, name="facts")
app.add_typer(server.app, name="server")
app.add_typer(simulate.app, name="simulate")
app.command("login")(server.login)
app.command("logout")(server.logout)


def run() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    run()
