"""Where provisioner keeps its files: one home folder, movable with PROVISIONER_HOME."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "PROVISIONER_HOME"
STORE_URL_ENV = "PROVISIONER_STORE_URL"


def home() -> Path:
    """Return the provisioner home, creating it (mode 0700) if needed."""
    configured = os.environ.get(HOME_ENV)
    if configured:
        path = Path(configured).expanduser()
    else:
        from platformdirs import user_data_dir

        path = Path(user_data_dir("provisioner", appauthor=False))
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def store_url() -> str:
    """The registry database URL: PROVISIONER_STORE_URL, else a SQLite file in the home."""
    return os.environ.get(STORE_URL_ENV) or f"sqlite:///{home() / 'registry.db'}"


def write_private_file(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600 and write ``data``; never widens permissions on the way."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(path, 0o600)


def create_private_file_once(path: Path, data: bytes) -> None:
    """Create ``path`` (0600) with ``data`` unless it exists; safe when several processes race."""
    import tempfile

    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.write(fd, data)
        os.close(fd)
        os.chmod(temporary, 0o600)
        try:
            os.link(temporary, path)  # fails if another process created it first: keep theirs
        except FileExistsError:
            pass
    finally:
        os.unlink(temporary)
