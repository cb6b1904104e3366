"""The preflight report: one row per check, shown as a table or as JSON."""

from __future__ import annotations

from enum import Enum
from typing import Self

from pydantic import BaseModel, ConfigDict, ValidationError, computed_field


class ArgsView(BaseModel):
    """The fields of a recipe's args that a preflight reads; the others are ignored."""

    model_config = ConfigDict(extra="ignore")

    @classmethod
    def of(cls, args: BaseModel) -> Self | None:
        """The view of ``args``; None when the recipe's args lack what it reads (another kind of recipe)."""
        try:
            return cls.model_validate(args.model_dump())
        except ValidationError:
            return None


class CheckStatus(str, Enum):
    """ok: passed; fail: the deploy would fail; skipped: not checked here (the detail says why)."""

    ok = "ok"
    fail = "fail"
    skipped = "skipped"


class Check(BaseModel):
    """One check's result, and for a failure how to fix it."""

    model_config = ConfigDict(frozen=True)

    name: str
    status: CheckStatus
    detail: str
    fix: str = ""

    @classmethod
    def ok(cls, name: str, detail: str) -> Check:
        return cls(name=name, status=CheckStatus.ok, detail=detail)

    @classmethod
    def fail(cls, name: str, detail: str, fix: str) -> Check:
        return cls(name=name, status=CheckStatus.fail, detail=detail, fix=fix)

    @classmethod
    def skipped(cls, name: str, detail: str) -> Check:
        return cls(name=name, status=CheckStatus.skipped, detail=detail)


class PreflightReport(BaseModel):
    """Every check of one stack's preflight; it passes when none failed."""

    stack: str
    recipe: str
    env: str
    region: str | None
    simulated: bool
    checks: list[Check]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> bool:
        return all(check.status is not CheckStatus.fail for check in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if check.status is CheckStatus.fail]
