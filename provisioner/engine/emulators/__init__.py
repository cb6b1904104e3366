"""Emulators behind the simulated engine: each Pulumi resource type maps to a handler.

Handlers for AWS types create the resource in moto and return the ids and ARNs moto gives back;
types with no emulator get deterministic synthesized outputs.
"""

from __future__ import annotations

from provisioner.engine.emulators.base import EmulationContext, Emulator, SyntheticEmulator

_HANDLERS: dict[str, Emulator] | None = None


def handler_for(resource_type: str) -> Emulator:
    """The emulator for a Pulumi type token, or the synthesizing fallback."""
    global _HANDLERS
    if _HANDLERS is None:
        from provisioner.engine.emulators import aws, random

        _HANDLERS = {**random.HANDLERS, **aws.HANDLERS}
    return _HANDLERS.get(resource_type, SyntheticEmulator())


__all__ = ["EmulationContext", "Emulator", "SyntheticEmulator", "handler_for"]
