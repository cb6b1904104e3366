"""`provisioner server start`, `provisioner login` and `logout`: the registry server and client mode."""

import sys
from typing import Annotated, Optional

import typer

from provisioner.cli._app import new_app
from provisioner.cli._errors import report_errors
from provisioner.cli._output import info

app = new_app(help="Run the registry server that members talk to (roles enforced there).", no_args_is_help=True)

BOOTSTRAP_ENV = "PROVISIONER_BOOTSTRAP_TOKEN"


@app.command("start")
@report_errors
def start(
    *,
    host: Annotated[str, typer.Option("--host", help="Address to bind; 127.0.0.1 unless a proxy or TLS is in front.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8420,
    admin: Annotated[str, typer.Option("--admin", help="Name of the first admin on a new server.")] = "admin",
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Worker processes.")] = 1,
    ssl_certfile: Annotated[Optional[str], typer.Option("--ssl-certfile", help="Serve HTTPS with this certificate (PEM).")] = None,
    ssl_keyfile: Annotated[Optional[str], typer.Option("--ssl-keyfile", help="The certificate's private key (PEM).")] = None,
    forwarded_allow_ips: Annotated[
        Optional[str], typer.Option("--forwarded-allow-ips", help="Proxies whose X-Forwarded-* headers are trusted.")
    ] = None,
) -> None:
    """Serve the registry's REST API (and /docs, /health) on the store of PROVISIONER_STORE_URL or this home.

    A new server prints a one-time admin token (or takes PROVISIONER_BOOTSTRAP_TOKEN).
    """
    import os

    import uvicorn

    from provisioner.errors import InputError
    from provisioner.paths import store_url
    from provisioner.registry.store import Store
    from provisioner.registry.tokens import bootstrap_admin
    from provisioner.registry.users import check_user_name

    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise InputError("--ssl-certfile and --ssl-keyfile go together")
    check_user_name(admin)
    url = store_url()
    store = Store(url)
    token = bootstrap_admin(store, admin, os.environ.get(BOOTSTRAP_ENV) or None)
    store.dispose()
    if token is not None and not os.environ.get(BOOTSTRAP_ENV):
        info(f"New registry server: {admin!r} is its admin. This admin token is shown only now:")
        print(token, flush=True)
        info("Log in with: provisioner login URL (it asks for the token), then add users: provisioner user add NAME")
    elif token is not None:
        info(f"New registry server: {admin!r} is its admin, with the token from {BOOTSTRAP_ENV}.")
    scheme = "https" if ssl_certfile else "http"
    info(f"Serving the registry at {scheme}://{host}:{port} (API docs at /docs) on {_shown(url)}.")
    os.environ["PROVISIONER_STORE_URL"] = url
    uvicorn.run(
        "provisioner.server.main:app", host=host, port=port, workers=workers, log_level="warning",
        ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile, proxy_headers=forwarded_allow_ips is not None,
        forwarded_allow_ips=forwarded_allow_ips, server_header=False,
    )


def _shown(url: str) -> str:
    """The store URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@report_errors
def login(
    url: Annotated[str, typer.Argument(help="The registry server, e.g. https://registry.example.com:8420")],
    *,
    token_stdin: Annotated[bool, typer.Option("--token-stdin", help="Read the token from standard input.")] = False,
) -> None:
    """Keep a server URL and your API token (file mode 0600): every command then talks to that server."""
    import httpx

    from provisioner.client.login import Login, save_login
    from provisioner.client.remote import RemoteRegistry
    from provisioner.errors import InputError

    if not url.startswith(("http://", "https://")):
        raise InputError(f"the server URL must start with http:// or https:// (got {url!r})")
    if token_stdin:
        token = sys.stdin.readline().strip()
    else:
        token = typer.prompt("API token", hide_input=True, err=True).strip()
    if not token:
        raise InputError("no token given")
    login_ = Login(url=url.rstrip("/"), token=token)
    registry = RemoteRegistry(login_)
    try:
        who, role = registry.user, registry.role()
    finally:
        registry.close()
    path = save_login(login_)
    if url.startswith("http://") and httpx.URL(url).host not in ("127.0.0.1", "localhost", "::1"):
        info("warning: the server is not on HTTPS: the token crosses the network in clear text")
    info(f"Logged in to {login_.url} as {who} ({role.value}); kept in {path}.")


@report_errors
def logout() -> None:
    """Forget the saved server and token: commands use the local registry again."""
    from provisioner.client.login import forget_login

    info("Logged out." if forget_login() else "Not logged in.")
