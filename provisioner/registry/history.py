"""The deployment history the registry keeps per stack: each deploy and destroy, who ran it, how it ended.

A run keeps the counts by operation, the monthly cost estimated at the time, each resource's real
duration (the real engine's events; simulated runs take no real time, so they record none), and for
a destroy its teardown report. The history outlives the stack: a clean destroy unregisters the stack's
components and connectors and keeps this.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

# A type's median over at most this many of the user's own timings: recent runs count, old ones fade.
MEDIAN_WINDOW = 20


class ResourceTiming(BaseModel):
    """How long one resource's operation took in a real run."""

    type: str
    op: str
    seconds: float


class DeploymentRun(BaseModel):
    """One deploy or destroy of a stack, as the registry keeps it."""

    id: int | None = None
    stack: str
    kind: Literal["deploy", "destroy", "drift"]  # drift: a check; ``counts["drifted"]`` is what it found
    recipe: str
    env: str
    region: str | None = None
    engine: str
    simulated: bool
    user: str = ""  # set by the registry: the acting user, never what a client claims
    started_at: datetime
    finished_at: datetime
    result: Literal["succeeded", "failed"]
    error: str | None = None
    counts: dict[str, int] = Field(default_factory=dict)
    monthly_cost_usd: float | None = None
    timings: list[ResourceTiming] = Field(default_factory=list)
    report: dict[str, Any] | None = None  # a destroy's teardown report

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


def medians(runs: Iterable[DeploymentRun]) -> dict[str, float]:
    """The median seconds per ``type#op`` over the newest real timings (runs newest first)."""
    seen: dict[str, list[float]] = {}
    for run in runs:
        if run.simulated:
            continue
        for timing in run.timings:
            bucket = seen.setdefault(f"{timing.type}#{timing.op}", [])
            if len(bucket) < MEDIAN_WINDOW:
                bucket.append(timing.seconds)
    return {key: statistics.median(values) for key, values in seen.items()}
