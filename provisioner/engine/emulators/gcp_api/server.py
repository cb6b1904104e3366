"""Serve the fake GCP API with uvicorn on 127.0.0.1 (a free port) in a background thread, for one command."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

from provisioner.engine.emulators.gcp_api.store import GcpFakeStore


class FakeGcpServer:
    """A context manager: the fake GCP API is up inside the block, at ``url``, and stopped after it."""

    def __init__(self, store: GcpFakeStore | None = None, *, start_timeout_s: float = 10) -> None:
        self.store = store or GcpFakeStore()
        self._start_timeout_s = start_timeout_s
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.url = ""

    @property
    def requests(self) -> list[tuple[str, str]]:
        """Every (method, path) the server has answered, in order."""
        return list(self._server.config.app.state.requests) if self._server else []

    def __enter__(self) -> FakeGcpServer:
        import uvicorn

        from provisioner.engine.emulators.gcp_api.app import create_app

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        config = uvicorn.Config(create_app(self.store), log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [listener]}, name="fake-gcp-api", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self._start_timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fake GCP API did not start on 127.0.0.1")
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
