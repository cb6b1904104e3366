"""Live progress of an engine run on stderr, with rich."""

from typing import Any

from provisioner.engine.base import Op

_DONE_VERB = {
    Op.CREATE: "created",
    Op.UPDATE: "updated",
    Op.SAME: "unchanged",
    Op.DELETE: "deleted",
    Op.REPLACE: "replaced",
    Op.READ: "read",
}


class RichProgressSink:
    """Counts of created, running and failed resources, plus a line per finished resource."""

    def __init__(self, title: str, console: Any = None) -> None:
        import threading

        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn

        self._console = console or Console(stderr=True, highlight=False)
        self._lock = threading.Lock()  # the engine reports from its worker threads
        self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), console=self._console, transient=True)
        self._title = title
        self._running: set[str] = set()
        self._done: dict[str, int] = {}
        self._failed = 0
        self._task: Any = None

    def __enter__(self) -> "RichProgressSink":
        self._progress.__enter__()
        self._task = self._progress.add_task(self._status())
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(*exc)  # type: ignore[arg-type]

    def _status(self) -> str:
        done = ", ".join(f"{count} {verb}" for verb, count in self._done.items()) or "nothing done yet"
        return f"{self._title}: {done}; {len(self._running)} running; {self._failed} failed"

    def _refresh(self) -> None:
        # Drawn now, not at the next timer tick: a busy engine can starve the refresh thread for seconds.
        if self._task is not None:
            self._progress.update(self._task, description=self._status(), refresh=True)

    def started(self, urn: str, resource_type: str, op: Op) -> None:
        with self._lock:
            self._running.add(urn)
            self._refresh()

    def finished(self, urn: str, resource_type: str, op: Op) -> None:
        with self._lock:
            self._running.discard(urn)
            verb = _DONE_VERB.get(op, op.value)
            self._done[verb] = self._done.get(verb, 0) + 1
            if op is not Op.SAME:
                self._console.print(f"  {verb:<9} {resource_type} {urn.rsplit('::', 1)[-1]}", markup=False)
            self._refresh()

    def failed(self, urn: str, resource_type: str, message: str) -> None:
        with self._lock:
            self._running.discard(urn)
            self._failed += 1
            self._console.print(f"  failed    {resource_type} {urn.rsplit('::', 1)[-1]}: {message}", markup=False, style="red")
            self._refresh()

    def note(self, message: str) -> None:
        self._console.print(message, markup=False)
