"""Ctrl-C during deploy and destroy: the first one asks the engine to stop at the next resource
boundary (in-flight cloud calls finish and are recorded); a second one stops at once."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from provisioner.errors import ProvisionerError

_requested = threading.Event()


class OperationInterrupted(ProvisionerError):
    """The user pressed Ctrl-C; what exists is recorded in the state."""

    exit_code = 130


def requested() -> bool:
    """Whether Ctrl-C was pressed during the current operation."""
    return _requested.is_set()


def check() -> None:
    """Raise OperationInterrupted if Ctrl-C was pressed (called at resource boundaries)."""
    if _requested.is_set():
        raise OperationInterrupted("interrupted by Ctrl-C")


@contextmanager
def graceful_sigint() -> Iterator[None]:
    """Turn the first SIGINT into a stop request; a second SIGINT raises KeyboardInterrupt as usual."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _requested.clear()

    def handler(_signum: int, _frame: Any) -> None:
        if _requested.is_set():
            raise KeyboardInterrupt
        _requested.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
