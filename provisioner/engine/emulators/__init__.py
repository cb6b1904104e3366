"""Emulators behind the simulated engine: each Pulumi resource type maps to a handler.

Handlers for AWS types create the resource in moto and return the ids and ARNs moto gives back;
types with no emulator get deterministic synthesized outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from provisioner.engine.emulators.base import EmulationContext, Emulator, SyntheticEmulator

Invoke = Callable[[dict[str, Any], EmulationContext], dict[str, Any]]

_HANDLERS: dict[str, Emulator] | None = None
_PREFIX_HANDLERS: dict[str, Emulator] = {}


def handler_for(resource_type: str) -> Emulator:
    """The emulator for a Pulumi type token (exact, then by provider prefix), or the synthesizing fallback."""
    global _HANDLERS
    if _HANDLERS is None:
        from provisioner.engine.emulators import aws, gcp, kubernetes, random

        _HANDLERS = {**random.HANDLERS, **aws.HANDLERS, **gcp.HANDLERS}
        _PREFIX_HANDLERS.update(kubernetes.PREFIX_HANDLERS)
    if resource_type in _HANDLERS:
        return _HANDLERS[resource_type]
    for prefix, handler in _PREFIX_HANDLERS.items():
        if resource_type.startswith(prefix):
            return handler
    return SyntheticEmulator()


def invoke_for(token: str) -> Invoke | None:
    """The function answering a Pulumi invoke (data source) token, or None when none is emulated."""
    from provisioner.engine.emulators.aws_invokes import INVOKES

    return INVOKES.get(token)


__all__ = ["EmulationContext", "Emulator", "Invoke", "SyntheticEmulator", "handler_for", "invoke_for"]
