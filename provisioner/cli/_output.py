"""Output sink: rich tables for people, JSON on stdout for scripts. Progress and errors go to stderr."""

import json
import sys
from collections.abc import Sequence
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


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a rich table on stdout."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_cell(value) for value in row))
    Console().print(table)


def _cell(value: Any) -> str:
    from rich.markup import escape

    if value is None:
        return "-"
    if isinstance(value, dict):
        return escape(", ".join(f"{getattr(k, 'value', k)}={getattr(v, 'value', v)}" for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return escape(", ".join(str(getattr(v, "value", v)) for v in value))
    return escape(str(getattr(value, "value", value)))


def info(message: str) -> None:
    """A line for people, on stderr so that stdout stays machine-readable."""
    print(message, file=sys.stderr)


def render(data: Any, output: OutputFormat, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """JSON of ``data`` or a table of ``rows``, by ``output``."""
    if output is OutputFormat.json:
        print_json(data)
    else:
        print_table(title, columns, rows)
