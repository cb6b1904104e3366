"""One place that turns library errors into a one-line message and an exit code."""

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from provisioner.errors import ProvisionerError

F = TypeVar("F", bound=Callable[..., Any])
DEBUG_ENV = "PROVISIONER_DEBUG"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def report_errors(func: F) -> F:
    """Wrap a command: known errors print ``error: ...`` on stderr and exit with their code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except ProvisionerError as exc:
            if os.environ.get(DEBUG_ENV):
                raise
            print(f"error: {_one_line(str(exc))}", file=sys.stderr)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            print("error: interrupted", file=sys.stderr)
            raise typer.Exit(130) from None
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, as other tools do, without a second error on flush.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(141) from None
        except Exception as exc:
            if os.environ.get(DEBUG_ENV):
                raise
            print(
                f"internal error: {type(exc).__name__}: {_one_line(str(exc))}; "
                f"set {DEBUG_ENV}=1 for the traceback",
                file=sys.stderr,
            )
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]
