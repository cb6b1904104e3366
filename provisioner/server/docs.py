"""The interactive API page at ``/docs``: Swagger UI served from an installed package, never a CDN.

FastAPI's own ``/docs`` loads Swagger UI from a CDN; the app turns it off (``docs_url=None``) and calls
:func:`mount`. The bundle, stylesheet and favicon come from the ``fastapi-offline`` wheel's ``static``
folder (Swagger UI 5, which renders the OpenAPI 3.1 documents FastAPI writes; ``swagger-ui-bundle``
still ships Swagger UI 4.15, which refuses 3.1). Only the files are used, not that package's code.

The page needs no token, like ``/openapi.json`` itself. Its Content-Security-Policy admits scripts and
styles from this origin only, plus the one inline script that starts Swagger UI, by its SHA-256 hash
(computed from the page as sent, so no other inline script can run). Swagger UI's online validator
badge is turned off, so the page makes no request to another host.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.util import find_spec
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
ASSETS_URL = "/docs/assets"
ASSETS_PACKAGE = "fastapi_offline"
SWAGGER_JS = "swagger-ui-bundle.js"
SWAGGER_CSS = "swagger-ui.css"
FAVICON = "favicon.png"

# Inline scripts only: the bundle's <script src=...> has an attribute, the starter has none.
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def assets_dir() -> Path:
    """The folder of Swagger UI files inside the installed ``fastapi-offline`` (its code is not imported)."""
    spec = find_spec(ASSETS_PACKAGE)
    if spec is None or spec.origin is None:
        raise RuntimeError("the API docs need the fastapi-offline package, a dependency of provisioner: reinstall provisioner")
    folder = Path(spec.origin).parent / "static"
    missing = [name for name in (SWAGGER_JS, SWAGGER_CSS, FAVICON) if not (folder / name).is_file()]
    if missing:
        raise RuntimeError(f"the installed fastapi-offline lacks {', '.join(missing)} in {folder}")
    return folder


def content_security_policy(html: str) -> str:
    """The /docs page's policy: everything from this origin only, inline scripts only by their hash."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii") + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    directives = [
        "default-src 'none'",
        f"script-src 'self' {hashes}".rstrip(),
        "style-src 'self'",
        # Swagger UI's stylesheet draws its icons as data: images.
        "img-src 'self' data:",
        # The OpenAPI document and "Try it out" requests.
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def mount(app: FastAPI) -> None:
    """Serve Swagger UI at ``/docs`` and its files under ``/docs/assets``; nothing if the app has no OpenAPI."""
    openapi_url = app.openapi_url
    if not openapi_url:
        return
    app.mount(ASSETS_URL, StaticFiles(directory=assets_dir()), name="docs-assets")
    # The validator badge would send the document's URL to an outside host: off.
    parameters = {**(app.swagger_ui_parameters or {}), "validatorUrl": None}
    title = f"{app.title} - API docs"

    @app.get(DOCS_URL, include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        page = get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=title,
            swagger_js_url=f"{root}{ASSETS_URL}/{SWAGGER_JS}",
            swagger_css_url=f"{root}{ASSETS_URL}/{SWAGGER_CSS}",
            swagger_favicon_url=f"{root}{ASSETS_URL}/{FAVICON}",
            oauth2_redirect_url=None,
            swagger_ui_parameters=parameters,
        )
        html = bytes(page.body).decode("utf-8")
        page.headers["Content-Security-Policy"] = content_security_policy(html)
        page.headers["X-Content-Type-Options"] = "nosniff"
        page.headers["Referrer-Policy"] = "no-referrer"
        return page
