"""Output sink: rich tables for people, JSON on stdout for scripts. Progress and errors go to stderr."""

import json
import sys
from collections.abc import Sequence
from functools import lru_cache
from enum import Enum
from typing import Any

import typer
from typing import Annotated


class OutputFormat(str, Enum):
    """How list and describe commands print their result."""

    table = "table"
    json = "json"


OutputOption = Annotated[
    OutputFormat, typer.Option("--output", "-o", help="table for people, json for scripts.", case_sensitive=False)
]
ShowSecretsOption = Annotated[
    bool, typer.Option("--show-secrets", help="Print secret values instead of references or masks.")
]


def print_json(data: Any) -> None:
    """Print a pydantic model, a list of them, or plain data as JSON on stdout."""
    print(json.dumps(_plain(data), indent=2, sort_keys=False))


def _plain(data: Any) -> Any:
    if hasattr(data, "model_dump"):
        return data.model_dump(mode="json")
    if isinstance(data, dict):
        return {str(getattr(k, "value", k)): _plain(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_plain(item) for item in data]
    return data


# Output to a pipe or file is not wrapped: a line as long as it needs (copy-paste and grep keep working).
PIPE_WIDTH = 4096


WIDE_ENV = "PROVISIONER_WIDE"  # set by --wide: tables as wide as their values, even on a narrow terminal


def stdout_console(soft_wrap: bool = False) -> Any:
    """A rich console on stdout: the terminal's width on a terminal, no hard wrapping anywhere else
    (nor on a terminal with ``--wide``).

    Its tables never cut a value: every column folds a long one inside its cell instead.
    """
    import os

    console_class = _unclipped_console_class()
    console = console_class(highlight=False, soft_wrap=soft_wrap)
    if not console.is_terminal or os.environ.get(WIDE_ENV) == "1":
        console = console_class(highlight=False, soft_wrap=soft_wrap, width=PIPE_WIDTH)
    return console


@lru_cache(maxsize=1)
def _unclipped_console_class() -> Any:
    """rich's Console, printing tables with every column folding instead of cutting (rich loads on first use)."""
    from rich.console import Console
    from rich.table import Table

    class UnclippedConsole(Console):
        def print(self, *objects: Any, **options: Any) -> None:
            for item in objects:
                if isinstance(item, Table):
                    for column in item.columns:
                        column.overflow = "fold"
            super().print(*objects, **options)

    return UnclippedConsole


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a rich table on stdout. Values are never cut: a terminal too narrow for the table gets
    one record per block (``column: value`` lines) instead, and a pipe gets lines as long as needed."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    cells = [[_cell(value) for value in row] for row in rows]
    for row_cells in cells:
        table.add_row(*row_cells)
    console = stdout_console()
    if console.measure(table, options=console.options.update_width(PIPE_WIDTH)).maximum <= console.width:
        console.print(table)
        return
    console.print(title, style="italic")
    for row_cells in cells:
        console.print()
        for column, text in zip(columns, row_cells):
            lines = text.split("\n")
            console.print(f"[bold]{column}[/bold]: {lines[0]}", overflow="fold")
            for line in lines[1:]:
                console.print(f"  {line}", overflow="fold")


def _cell(value: Any) -> str:
    from rich.markup import escape

    if value is None:
        return "-"
    if isinstance(value, dict):  # one setting a line
        return escape("\n".join(f"{getattr(k, 'value', k)}={getattr(v, 'value', v)}" for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return escape(", ".join(str(getattr(v, "value", v)) for v in value))
    return escape(str(getattr(value, "value", value)))


def ask(question: str) -> str:
    """Ask on stderr and read one line from stdin ("" when stdin is closed): stdout stays for results.

    (click's prompt writes a space to stdout, which breaks ``--output json``.)
    """
    sys.stderr.write(f"{question} ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    if not answer:
        sys.stderr.write("\n")
    return answer.strip()


def ask_secret(question: str) -> str:
    """A secret value: asked without echo on a terminal, else one line of stdin (no prompt, no warning).

    Raises:
        InputError: stdin has no line for it, or the line is empty.
    """
    import getpass

    from provisioner.errors import InputError

    if sys.stdin.isatty():
        try:
            value = getpass.getpass(f"{question}: ", stream=sys.stderr)
        except EOFError:
            value = ""
    else:
        line = sys.stdin.readline()
        if not line:
            raise InputError(f"no value for {question}: standard input has no line for it (or give KEY=@FILE)")
        value = line.rstrip("\r\n")
    if not value:
        raise InputError(f"an empty value for {question}")
    return value


def info(message: str) -> None:
    """A line for people, on stderr so that stdout stays machine-readable."""
    print(message, file=sys.stderr)


def render(data: Any, output: OutputFormat, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """JSON of ``data`` or a table of ``rows``, by ``output``."""
    if output is OutputFormat.json:
        print_json(data)
    else:
        print_table(title, columns, rows)
