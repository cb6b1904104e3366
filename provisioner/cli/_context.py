"""Lazy access to the registry, so that importing the CLI stays cheap."""

from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from provisioner.client.remote import RemoteRegistry
    from provisioner.registry.service import Registry


def open_registry() -> Union["Registry", "RemoteRegistry"]:
    """The registry server in client mode (provisioner login), else this machine's (or PROVISIONER_STORE_URL's)."""
    from provisioner.client.open import open_registry as open_configured

    return open_configured()
