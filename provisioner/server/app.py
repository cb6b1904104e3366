"""The registry server's app: bearer-token identity, one Registry per request, errors as JSON.

Stateless: every request authenticates against the database and runs its own units of work, so
several replicas can serve one PostgreSQL registry; stack locks live in the database too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from provisioner import __version__
from provisioner.errors import AuthenticationError, ProvisionerError
from provisioner.registry.flavors import FlavorRegistry
from provisioner.registry.service import Registry
from provisioner.registry.store import Store
from provisioner.secrets import SecretBackend
from provisioner.server.errors import error_body, status_of

API_PREFIX = "/api/v1"


@dataclass
class ServerState:
    """What every request shares: the store, the flavors and the secret backend (the server holds it)."""

    store: Store
    flavors: FlavorRegistry
    backend: SecretBackend
    home: Path

    def registry(self, user: str) -> Registry:
        """A registry facade acting as ``user``; no first-user bootstrap on a server."""
        registry = Registry(self.store, self.flavors, self.backend, self.home / "server-active-stack", user=user, bootstrap=False)
        return registry


def load_state(store_url: str) -> ServerState:
    """Open the store (migrating it) and the secret backend the registry has chosen."""
    from provisioner.paths import home
    from provisioner.registry.secret_service import SECRET_BACKEND_SETTING
    from provisioner.secrets import default_backend

    store = Store(store_url, pooled=True)
    backend = default_backend()
    with store.transaction() as tx:
        chosen = tx.setting(SECRET_BACKEND_SETTING)
    if chosen and chosen.get("name") != backend.name:
        from provisioner.secret_backends import make_backend

        backend = make_backend(chosen["name"], chosen.get("options", {}), home=home())
    return ServerState(store=store, flavors=FlavorRegistry.load(), backend=backend, home=home())


_bearer = HTTPBearer(auto_error=False, description="An API token from `provisioner user add` or `user token`.")


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.provisioner
    return state


def current_registry(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Registry:
    """The registry acting as the token's user; a missing or bad token is refused (and audited)."""
    from provisioner.registry.tokens import authenticate

    state = _state(request)
    token = credentials.credentials if credentials is not None else ""
    try:
        if not token:
            raise AuthenticationError("this server needs an API token: provisioner login URL (or set PROVISIONER_TOKEN)")
        with state.store.transaction() as tx:
            user = authenticate(tx, token)
    except AuthenticationError as exc:
        with state.store.transaction() as tx:
            shown = f"token {token[:8]}…" if token else "no token"
            tx.add_audit(user="anonymous", action="auth", target=shown, result="denied", detail=str(exc))
        raise
    return state.registry(user)


RegistryDep = Annotated[Registry, Depends(current_registry)]


def create_app(store_url: str | None = None, *, state: ServerState | None = None) -> FastAPI:
    """The FastAPI app over the registry at ``store_url`` (default: PROVISIONER_STORE_URL or the home's SQLite)."""
    from provisioner.paths import store_url as default_store_url
    from provisioner.server import docs, routes

    app = FastAPI(
        title="provisioner registry",
        version=__version__,
        description="Stack components, connectors, stacks, secrets, users and audit, behind one permission gate.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.provisioner = state or load_state(store_url or default_store_url())

    @app.exception_handler(ProvisionerError)
    async def _provisioner_error(_request: Request, exc: ProvisionerError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthenticationError) else None
        return JSONResponse(error_body(exc), status_code=status_of(exc), headers=headers)

    @app.get("/health", tags=["server"])
    def health(request: Request) -> dict[str, Any]:
        """Liveness and database reachability; needs no token."""
        with _state(request).store.transaction() as tx:
            tx.setting("schema")
        return {"status": "ok", "version": __version__}

    routes.include(app, API_PREFIX)
    docs.mount(app)
    from provisioner.server.web import pages

    pages.mount(app)
    return app
