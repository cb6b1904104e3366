"""What a leftover sweep reports, on any cloud, and the rounds every sweeper runs to delete what it found."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, Field

# Kinds that hold data: kept unless --delete-data (AWS and GCP).
DATA_KINDS = frozenset({"s3-bucket", "rds-instance", "rds-snapshot", "gcs-bucket", "cloudsql-instance"})
# Kinds the sweep reports but never deletes: no deleter, or tags it could not read.
REPORT_ONLY_KINDS = frozenset({"unknown", "unreadable"})


class Leftover(BaseModel):
    """One cloud resource the sweep found, with the ownership tags (or labels) it read on it."""

    kind: str
    id: str
    region: str
    monthly_cost: float | None = Field(None, description="USD per month; None when unknown")
    detail: str = ""
    deployment: str | None = Field(None, description="The deployment id the resource is tagged with")
    env: str | None = None
    stack: str | None = None

    @property
    def data(self) -> bool:
        return self.kind in DATA_KINDS

    @property
    def billable(self) -> bool:
        """Costs money while it exists; an unknown price counts as billable."""
        return self.monthly_cost is None or self.monthly_cost > 0


class SweepResult(BaseModel):
    deleted: list[Leftover] = Field(default_factory=list)
    kept: list[Leftover] = Field(default_factory=list)
    remaining: list[Leftover] = Field(default_factory=list)
    errors: dict[str, str] = Field(default_factory=dict)
    rounds: int = 0
    timed_out: bool = False


@dataclass(frozen=True)
class SweepScope:
    """What a sweep may touch: one deployment's id, and what its own state holds.

    ``clusters``, ``vpc_ids`` and ``zones`` let the AWS sweep claim what Kubernetes made for our
    clusters; ``owned_ids`` are the ids our state held before destroy, the only proof of ownership
    for kinds that take no labels (GCP networks, subnetworks, service accounts).
    """

    stack: str
    deployment_id: str
    clusters: tuple[str, ...] = ()
    vpc_ids: tuple[str, ...] = ()
    # The availability zones of our clusters (where the volumes their CSI driver makes live).
    zones: tuple[str, ...] = ()
    owned_ids: tuple[str, ...] = ()


class RoundSweeper(ABC):
    """Finds one deployment's leftovers and deletes them in rounds; subclasses know one cloud."""

    # API calls made so far, for sweepers that count them (None: not counted).
    calls: int | None = None

    def __init__(self, scope: SweepScope | None, survey_stack: str | None, page_size: int | None) -> None:
        """``scope`` says what may be deleted; with ``scope=None`` and ``survey_stack``, the sweeper only
        reports what carries that stack's tags or labels (it never deletes in that mode)."""
        if scope is None and survey_stack is None:
            raise ValueError("a sweeper needs a scope, or a stack to survey")
        self.scope = scope
        self.survey_stack = survey_stack
        self.page_size = page_size

    @abstractmethod
    def find(self) -> list[Leftover]:
        """Everything this sweeper may act on, in deletion order."""

    @abstractmethod
    def delete(self, leftover: Leftover, *, delete_data: bool) -> None:
        """Delete one leftover; raises when the cloud refuses (the caller retries in a later round)."""

    @abstractmethod
    def unlock_databases(self) -> list[str]:
        """Turn deletion protection off on the deployment's databases (for --delete-data); returns their ids."""

    def cluster_leftovers(self) -> list[Leftover]:
        """What Kubernetes made for our clusters in the cloud (polled while the cluster is cleaned)."""
        return []

    def close(self) -> None:
        """Release connections (nothing to release by default)."""

    def _require_scope(self) -> None:
        if self.scope is None:
            raise RuntimeError("a surveying sweeper never deletes: it has no deployment scope")

    def sweep(
        self,
        *,
        delete_data: bool,
        keep_ids: set[str] = frozenset(),  # type: ignore[assignment]
        deadline_s: float = 600,
        max_rounds: int = 5,
        on_event: Callable[[str], None] | None = None,
    ) -> SweepResult:
        """Delete what is ours, in rounds, until nothing deletable is left or time runs out.

        Data (buckets, databases, snapshots) is kept unless ``delete_data``; ``keep_ids`` are
        resources kept on purpose (what a retained database needs).
        """
        self._require_scope()
        say = on_event or (lambda _message: None)
        result = SweepResult()
        deadline = time.monotonic() + deadline_s
        for round_number in range(1, max_rounds + 1):
            result.rounds = round_number
            targets = [
                item for item in self.find() if not self._kept(item, delete_data, keep_ids) and item.kind not in REPORT_ONLY_KINDS
            ]
            if not targets:
                break
            progress = False
            for item in targets:
                if time.monotonic() > deadline:
                    result.timed_out = True
                    break
                try:
                    self.delete(item, delete_data=delete_data)
                except Exception as exc:
                    result.errors[f"{item.kind} {item.id}"] = " ".join(str(exc).split())
                    say(f"  sweep round {round_number}: could not delete {item.kind} {item.id}: {result.errors[f'{item.kind} {item.id}']}")
                    continue
                result.errors.pop(f"{item.kind} {item.id}", None)
                result.deleted.append(item)
                progress = True
                say(f"  sweep round {round_number}: deleted {item.kind} {item.id}")
            if result.timed_out or not progress:
                break
        remaining = self.find()
        result.kept = [item for item in remaining if self._kept(item, delete_data, keep_ids)]
        result.remaining = [item for item in remaining if not self._kept(item, delete_data, keep_ids)]
        return result

    @staticmethod
    def _kept(item: Leftover, delete_data: bool, keep_ids: set[str]) -> bool:
        return item.id in keep_ids or (item.data and not delete_data)
