"""Open the registry the way this process is set up: a server (client mode) or the database itself."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from provisioner.client.remote import RemoteRegistry
    from provisioner.registry.service import Registry

_warned: set[str] = set()


def open_registry() -> Union["Registry", "RemoteRegistry"]:
    """A RemoteRegistry when a server is configured (PROVISIONER_URL/TOKEN or `provisioner login`), else the
    embedded registry of this machine or PROVISIONER_STORE_URL, warning once that roles are advisory on a
    shared database without a server."""
    from provisioner.client.login import current_login

    login = current_login()
    if login is not None:
        from provisioner.client.remote import RemoteRegistry

        return RemoteRegistry(login)
    from provisioner.paths import store_url
    from provisioner.registry.service import Registry

    url = store_url()
    if not url.startswith("sqlite") and url not in _warned:
        _warned.add(url)
        print(
            "warning: this registry database is shared and no registry server is in front of it: roles are advisory, "
            "anyone with the database URL can bypass them (provisioner server start, then provisioner login)",
            file=sys.stderr,
        )
    return Registry.open()
