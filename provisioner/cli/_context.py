"""Lazy access to the registry, so that importing the CLI stays cheap."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from provisioner.registry.service import Registry


def open_registry() -> "Registry":
    """Open the registry of this machine (or PROVISIONER_STORE_URL)."""
    from provisioner.registry.service import Registry

    return Registry.open()
