"""The pages' routes: sign-in and sign-out, stacks by env, a stack's page, verify, reveal, audit.

Every page reads through a Registry acting as the session's user, so the API's gate decides what
a page shows; a refusal is a 403 page, and the gate's audit records it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from provisioner.errors import AuthenticationError, InputError, NotFoundError, PermissionDeniedError, ProvisionerError
from provisioner.server.web import sessions, views
from provisioner.server.web.sessions import LOGIN_CSRF_COOKIE, SESSION_COOKIE, WebSession

HERE = Path(__file__).parent
STATIC_URL = "/static"
# No script at all; styles and images from this origin; forms post only here; never framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
templates = Jinja2Templates(directory=str(HERE / "templates"))


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _page(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    _harden(response)
    return response


def _harden(response: Response) -> None:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"


def _state(request: Request) -> Any:
    return request.app.state.provisioner


def _to_login(request: Request, ended: bool = False) -> Response:
    response = RedirectResponse("/login?ended=1" if ended else "/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    _harden(response)
    return response


def _signed_in(request: Request, render: Callable[[WebSession, Any], Response]) -> Response:
    """Run a page as the session's user: no session signs in first; a refusal is a 403 page."""
    state = _state(request)
    try:
        session = sessions.current_session(state.store, request.cookies.get(SESSION_COOKIE))
    except AuthenticationError:
        return _to_login(request, ended=SESSION_COOKIE in request.cookies)
    registry = state.registry(session.user)
    try:
        return render(session, registry)
    except PermissionDeniedError as exc:
        return _page(request, "error.html", {"session": session, "title": "Not allowed", "message": str(exc)}, 403)
    except NotFoundError as exc:
        return _page(request, "error.html", {"session": session, "title": "Not found", "message": str(exc)}, 404)
    except InputError as exc:
        return _page(request, "error.html", {"session": session, "title": "Refused", "message": str(exc)}, 400)


def _check_csrf(session: WebSession, given: str | None) -> None:
    if not sessions.csrf_matches(session.csrf, given):
        raise PermissionDeniedError("the form's CSRF token is missing or wrong: reload the page and try again")


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"{value!r} is not a date and time (YYYY-MM-DDTHH:MM)") from None


def mount(app: FastAPI) -> None:
    """Add the pages and their stylesheet to the registry server's app."""
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    def home() -> Response:
        return RedirectResponse("/stacks", status_code=303)

    @router.get("/login")
    def login_form(request: Request, ended: int = 0) -> Response:
        csrf = sessions.new_login_csrf()
        note = "Your session has ended: sign in again." if ended else None
        response = _page(request, "login.html", {"session": None, "csrf": csrf, "error": None, "note": note})
        response.set_cookie(LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="strict", secure=_secure(request), path="/login")
        return response

    @router.post("/login")
    def login(request: Request, token: str = Form(""), csrf: str = Form("")) -> Response:
        state = _state(request)
        expected = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
        if not expected or not sessions.csrf_matches(expected, csrf):
            return _page(request, "login.html", {"session": None, "csrf": sessions.new_login_csrf(), "note": None,
                                                 "error": "The form expired: sign in again."}, 403)
        try:
            session_id, session = sessions.open_session(state.store, token)
        except AuthenticationError as exc:
            with state.store.transaction() as tx:
                shown = f"token {token.strip()[:8]}…" if token.strip() else "no token"
                tx.add_audit(user="anonymous", action="web.login", target=shown, result="denied", detail=str(exc))
            fresh = sessions.new_login_csrf()
            response = _page(request, "login.html", {"session": None, "csrf": fresh, "note": None, "error": str(exc)}, 401)
            response.set_cookie(LOGIN_CSRF_COOKIE, fresh, httponly=True, samesite="strict", secure=_secure(request), path="/login")
            return response
        with state.store.transaction() as tx:
            tx.add_audit(user=session.user, action="web.login", target="dashboard", result="ok", detail="")
        response = RedirectResponse("/stacks", status_code=303)
        response.set_cookie(SESSION_COOKIE, session_id, httponly=True, samesite="strict", secure=_secure(request), path="/",
                            max_age=int(sessions.SESSION_LIFETIME.total_seconds()))
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        _harden(response)
        return response

    @router.post("/logout")
    def logout(request: Request, csrf: str = Form("")) -> Response:
        def render(session: WebSession, _registry: Any) -> Response:
            _check_csrf(session, csrf)
            sessions.close_session(_state(request).store, session)
            return _to_login(request)

        return _signed_in(request, render)

    @router.get("/stacks")
    def stacks(request: Request, env: str | None = None) -> Response:
        def render(session: WebSession, registry: Any) -> Response:
            page = views.stacks_page(registry, env or None)
            return _page(request, "stacks.html", {"session": session, "page": page})

        return _signed_in(request, render)

    @router.get("/stacks/{name}")
    def stack(request: Request, name: str) -> Response:
        def render(session: WebSession, registry: Any) -> Response:
            page = views.stack_page(registry, name)
            return _page(request, "stack.html", {"session": session, "page": page, "verify": None})

        return _signed_in(request, render)

    @router.post("/stacks/{name}/connectors/{connector}/verify")
    def verify(request: Request, name: str, connector: str, csrf: str = Form(""), resource_id: str = Form("")) -> Response:
        def render(session: WebSession, registry: Any) -> Response:
            from provisioner.connectors import use

            _check_csrf(session, csrf)
            page = views.stack_page(registry, name)
            if connector not in {c.name for c in page.connectors}:
                raise NotFoundError(f"stack {name!r} uses no connector {connector!r}")
            try:
                report: Any = use.verify(registry, connector, resource_id.strip() or None, None)
            except ProvisionerError as exc:
                report = {"connector": connector, "ok": False, "error": str(exc)}
            return _page(request, "stack.html", {"session": session, "page": page, "verify": report})

        return _signed_in(request, render)

    @router.post("/components/{name}/reveal")
    def reveal(request: Request, name: str, key: str = Form(...), csrf: str = Form("")) -> Response:
        def render(session: WebSession, registry: Any) -> Response:
            _check_csrf(session, csrf)
            detail = registry.describe_component(name, show_secrets=True)  # audited as component.read-secrets
            if key not in detail.config:
                raise NotFoundError(f"component {name!r} has no setting {key!r}")
            return _page(request, "reveal.html", {"session": session, "component": name, "key": key, "value": detail.config[key]})

        return _signed_in(request, render)

    @router.get("/audit")
    def audit(request: Request, user: str = "", action: str = "", result: str = "", since: str = "", until: str = "") -> Response:
        def render(session: WebSession, registry: Any) -> Response:
            page = views.audit_page(registry, user=user, action=action, result=result, since=_when(since), until=_when(until))
            return _page(request, "audit.html", {"session": session, "page": page})

        return _signed_in(request, render)

    app.include_router(router)
    app.mount(STATIC_URL, StaticFiles(directory=str(HERE / "static")), name="static")
