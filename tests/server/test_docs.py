"""The /docs page: Swagger UI from files in an installed package, no outside host, a strict CSP."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from provisioner.server.docs import mount

CHROMIUM = "/usr/bin/chromium"


def _app() -> FastAPI:
    app = FastAPI(title="docs test", docs_url=None, redoc_url=None)

    @app.get("/ping", tags=["probe"])
    def ping() -> dict[str, str]:
        """Answers pong."""
        return {"ping": "pong"}

    mount(app)
    return app


@pytest.fixture
def client() -> TestClient:
    return TestClient(_app())


def _references(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", html)


def _csp(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_docs_page_references_only_this_origin(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "SwaggerUIBundle(" in html
    assert "http://" not in html and "https://" not in html
    # No validator badge: it would send the document's URL to an outside host.
    assert '"validatorUrl": null' in html
    refs = _references(html)
    assert len(refs) == 3, refs  # stylesheet, favicon, bundle
    for ref in refs:
        assert ref.startswith("/") and not ref.startswith("//"), ref
        assert ":" not in ref, ref


def test_every_asset_is_served(client: TestClient) -> None:
    refs = _references(client.get("/docs").text)
    kinds = {}
    for ref in refs:
        response = client.get(ref)
        assert response.status_code == 200, ref
        kinds[ref.rsplit(".", 1)[-1]] = (response.headers["content-type"], len(response.content))
    js_type, js_size = kinds["js"]
    css_type, css_size = kinds["css"]
    assert js_type.split(";")[0] in {"text/javascript", "application/javascript"}
    assert js_size > 1_000_000  # the whole Swagger UI 5 bundle, not a stub
    assert css_type.split(";")[0] == "text/css"
    assert css_size > 10_000
    assert kinds["png"][0] == "image/png"


def test_csp_allows_only_self_and_the_starter_script(client: TestClient) -> None:
    response = client.get("/docs")
    header = response.headers["content-security-policy"]
    policy = _csp(header)
    assert policy["default-src"] == ["'none'"]
    assert policy["style-src"] == ["'self'"]
    assert "'unsafe-inline'" not in header and "'unsafe-eval'" not in header
    inline = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert policy["script-src"] == ["'self'", f"'sha256-{digest}'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_docs_and_document_need_no_token(client: TestClient) -> None:
    document = client.get("/openapi.json")
    assert document.status_code == 200
    assert "/ping" in document.json()["paths"]
    # The docs routes stay out of the document.
    assert not [path for path in document.json()["paths"] if path.startswith("/docs")]


def test_behind_a_root_path_every_url_carries_it() -> None:
    client = TestClient(_app(), root_path="/registry")
    response = client.get("/registry/docs")
    assert response.status_code == 200
    html = response.text
    assert "url: '/registry/openapi.json'" in html
    for ref in _references(html):
        assert ref.startswith("/registry/docs/assets/"), ref
        assert client.get(ref).status_code == 200, ref


def test_no_openapi_means_no_docs() -> None:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    mount(app)
    assert TestClient(app).get("/docs").status_code == 404


@pytest.fixture
def live_url() -> Iterator[str]:
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason=f"no {CHROMIUM}: the in-browser check needs a headless Chromium")
def test_swagger_ui_renders_the_operation_in_a_browser(live_url: str, tmp_path) -> None:
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=20000",
            "--dump-dom",
            f"{live_url}/docs",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    dom = result.stdout
    assert "opblock-get" in dom, (dom[-2000:], result.stderr[-4000:])
    assert 'data-path="/ping"' in dom
    assert "Unable to render this definition" not in dom
    # A CSP violation shows in the console log as "Refused to ..."
    assert "Refused to" not in result.stderr, result.stderr[-4000:]
