"""The one way the CLI makes its typer apps: plain help and errors (no Rich), so --help starts fast."""

from typing import Any

import typer


def new_app(**options: Any) -> typer.Typer:
    """A typer app that formats help and usage errors with click's plain formatter.

    Rich help costs about 60 ms of imports (rich.markdown, markdown-it, rich.traceback) on every
    --help: more than typer and pydantic together.
    """
    return typer.Typer(rich_markup_mode=None, **options)
