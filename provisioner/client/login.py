"""Where client mode finds its server and token: PROVISIONER_URL/PROVISIONER_TOKEN, else the login file."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel

URL_ENV = "PROVISIONER_URL"
TOKEN_ENV = "PROVISIONER_TOKEN"
LOGIN_FILE = "login.json"


class Login(BaseModel):
    """A server URL and the API token to present to it."""

    url: str
    token: str


def login_file() -> Path:
    from provisioner.paths import home

    return home() / LOGIN_FILE


def current_login() -> Login | None:
    """The environment's server and token, else those saved by `provisioner login`; None: embedded mode.

    Raises:
        InputError: only one of PROVISIONER_URL and PROVISIONER_TOKEN is set, or the login file is unreadable.
    """
    from provisioner.errors import InputError

    url, token = os.environ.get(URL_ENV), os.environ.get(TOKEN_ENV)
    if url or token:
        if not (url and token):
            missing = TOKEN_ENV if url else URL_ENV
            raise InputError(f"{URL_ENV} and {TOKEN_ENV} go together: set {missing} too, or unset both")
        return Login(url=url.rstrip("/"), token=token)
    path = login_file()
    if not path.exists():
        return None
    try:
        return Login.model_validate(json.loads(path.read_text()))
    except ValueError:
        raise InputError(f"{path} is not a valid login file: provisioner login URL writes it again, or delete it") from None


def save_login(login: Login) -> Path:
    """Keep the server and token in the home, mode 0600, written atomically."""
    from provisioner.paths import write_private_file

    path = login_file()
    write_private_file(path, login.model_dump_json().encode())
    return path


def forget_login() -> bool:
    """Remove the saved login; whether there was one."""
    path = login_file()
    if path.exists():
        path.unlink()
        return True
    return False
