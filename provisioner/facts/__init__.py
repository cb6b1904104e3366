"""Dated cloud facts: what a cloud offers and until when, each with its source and the date it was recorded.

The real engine resolves versions from the live cloud; these facts give the defaults of a simulated
or offline plan, let the emulators refuse what the cloud refuses, and are checked for staleness by
``provisioner facts check``. Dates in tests are fixed ("as of"), never today's.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict


class Source(BaseModel):
    """Where a fact comes from and when it was read there."""

    model_config = ConfigDict(frozen=True)

    title: str
    url: str
    recorded: date

    def age_days(self, on: date) -> int:
        return (on - self.recorded).days


AS_OF_ENV = "PROVISIONER_FACTS_AS_OF"


def today() -> date:
    """The date facts are judged on: ``PROVISIONER_FACTS_AS_OF`` (YYYY-MM-DD) when set, else today."""
    import os

    value = os.environ.get(AS_OF_ENV, "").strip()
    if not value:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        from provisioner.errors import InputError

        raise InputError(f"{AS_OF_ENV}={value!r} is not a date (YYYY-MM-DD)") from None
