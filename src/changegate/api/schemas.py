"""Request bodies. Responses are the service views (plain dicts), documented by example."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.changes import ChangeType, Risk
from changegate.domain.documents import check_instant, has_nul
from changegate.domain.errors import BadInput

Short = Annotated[str, Field(max_length=300)]
Long = Annotated[str, Field(max_length=20_000)]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _no_nul(self) -> In:
        # PostgreSQL text cannot hold NUL; refusing it here keeps reads from failing too.
        if has_nul(self.model_dump()):
            raise ValueError("text may not contain NUL characters")
        for name, value in self:
            if isinstance(value, datetime):
                try:
                    check_instant(value.astimezone(UTC), name)
                except (BadInput, OverflowError):
                    raise ValueError(f"{name}: outside 1970 to 9000") from None
        return self


class ChangeIn(In):
    title: str = Field(min_length=1, max_length=300)
    scope: Long = ""
    impact: Long = ""
    rollback_plan: Long = ""
    risk: Risk = Risk.MEDIUM
    type: ChangeType = ChangeType.NORMAL
    justification: Long = ""
    ticket: Short = ""
    commit_authors: list[str] = Field(default_factory=list, max_length=100)
    affected_services: list[str] = Field(default_factory=list, max_length=100)
    environments: list[str] = Field(default_factory=list, max_length=20)
    customer_impact: Long = ""
    expected_downtime_minutes: int = Field(default=0, ge=0, le=100_000)
    window_start: datetime | None = None
    window_end: datetime | None = None


class ChangeEditIn(In):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    scope: str | None = Field(default=None, max_length=20_000)
    impact: str | None = Field(default=None, max_length=20_000)
    rollback_plan: str | None = Field(default=None, max_length=20_000)
    risk: Risk | None = None
    type: ChangeType | None = None
    justification: str | None = Field(default=None, max_length=20_000)
    ticket: str | None = Field(default=None, max_length=300)
    commit_authors: list[str] | None = Field(default=None, max_length=100)
    affected_services: list[str] | None = Field(default=None, max_length=100)
    environments: list[str] | None = Field(default=None, max_length=20)
    customer_impact: str | None = Field(default=None, max_length=20_000)
    expected_downtime_minutes: int | None = Field(default=None, ge=0, le=100_000)


class DecisionIn(In):
    role: ApprovalRole
    decision: Decision
    comment: str = Field(default="", max_length=5_000)
    version: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="The version decided on, as read; or send If-Match with the change's ETag.",
    )


class PirIn(In):
    summary: str = Field(min_length=1, max_length=20_000)


class GateIn(In):
    change: str = Field(min_length=1, max_length=40, examples=["CHG-42"])
    environment: str = Field(min_length=1, max_length=40, examples=["production"])
    commit: str = Field(
        min_length=7, max_length=64, examples=["9fceb02d0ae598e95dc970b74767f19372d61af8"]
    )
    artifact: str | None = Field(default=None, max_length=200)


class DeploymentIn(In):
    change: str = Field(min_length=1, max_length=40)
    environment: str = Field(min_length=1, max_length=40)
    commit: str = Field(min_length=7, max_length=64)
    run_url: str = Field(min_length=1, max_length=1000)
    artifact: str | None = Field(default=None, max_length=200)
    iac_path: str | None = Field(default=None, max_length=500)
    iac_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    decision_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class FailIn(In):
    reason: str = Field(default="", max_length=5_000)


class RollbackIn(In):
    to_commit: str = Field(min_length=7, max_length=64)
    run_url: str = Field(default="", max_length=1000)
    reason: str = Field(default="", max_length=5_000)
