"""pulumi_random resources: real random values, generated once and kept across updates."""

from __future__ import annotations

import secrets
import string
from typing import Any

from provisioner.engine.emulators.base import EmulationContext, Emulator


class RandomPasswordEmulator(Emulator):
    """RandomPassword / RandomString: a fresh value from ``secrets``, honouring length and character sets."""

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        alphabet = string.ascii_letters + string.digits
        if inputs.get("special", True):
            alphabet += str(inputs.get("overrideSpecial") or "!#%&*()-_=+[]{}<>:?")
        length = int(inputs.get("length", 16))
        value = "".join(secrets.choice(alphabet) for _ in range(length))
        return "none", {**inputs, "result": value}


class RandomIdEmulator(Emulator):
    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        raw = secrets.token_bytes(int(inputs.get("byteLength", 8)))
        import base64

        b64 = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return b64, {**inputs, "hex": raw.hex(), "b64Url": b64, "dec": str(int.from_bytes(raw, "big"))}


HANDLERS: dict[str, Emulator] = {
    "random:index/randomPassword:RandomPassword": RandomPasswordEmulator(),
    "random:index/randomString:RandomString": RandomPasswordEmulator(),
    "random:index/randomId:RandomId": RandomIdEmulator(),
}
