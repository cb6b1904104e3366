"""The installed connector types, ready to use: built-ins and plugins of the ``provisioner.connectors`` group.

Discovery itself is ``provisioner.registry.connector_schemas`` (the registry validates connectors
with it and must not import this package); here a type must also be a ``ConnectorTypeSpec``.
"""

from __future__ import annotations

from provisioner.connectors.base import ConnectorTypeSpec
from provisioner.registry.connector_schemas import ENTRY_POINT_GROUP, connector_schema, connector_type_names

__all__ = ["ENTRY_POINT_GROUP", "connector_type", "connector_type_names"]


def connector_type(name: str) -> ConnectorTypeSpec:
    """The installed connector type ``name``; its module is imported only now.

    Raises:
        InputError: no connector type of that name is installed; the message lists the known ones.
        TypeError: the entry point does not name a complete ConnectorTypeSpec subclass.
    """
    loaded = connector_schema(name)
    if not isinstance(loaded, ConnectorTypeSpec):
        raise TypeError(
            f"connector type {name!r}: {type(loaded).__qualname__} is not a subclass of provisioner ConnectorTypeSpec"
        )
    return loaded
