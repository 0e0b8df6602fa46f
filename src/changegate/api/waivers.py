"""/api/v1/waivers: the policy's exceptions (EXC-1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import Field

from changegate.api.access import EVERYONE, CallerDep, allow
from changegate.api.paging import Limit, Offset
from changegate.api.schemas import DecisionIn, In
from changegate.domain import limits
from changegate.domain.users import Role
from changegate.domain.waivers import ScopeKind, WaiverStatus
from changegate.services import waiver_reviews, waivers
from changegate.services.views import waivers as views
from changegate.services.views.common import Page
from changegate.services.views.reviews import ReviewOut, review
from changegate.services.views.waivers import WaiverOut

router = APIRouter(prefix="/api/v1/waivers", tags=["waivers"])
R = Role
# Auditors and HR read everything and change nothing; a pipeline has no business asking.
REQUESTERS = frozenset({R.REQUESTER, R.CAB, R.ISO, R.SECURITY_ENGINEER, R.ADMIN})
DECIDERS = frozenset({R.CAB, R.ISO})
ISO = frozenset({R.ISO})
Key = Annotated[str, Path(min_length=1, max_length=40, examples=["WVR-1"])]
# Far beyond any sane waivers.max_days, and well inside what a date can hold.
MAX_DAYS = 3650


class WaiverIn(In):
    title: str = Field(min_length=1, max_length=300)
    justification: str = Field(min_length=1, max_length=20_000)
    compensating_controls: str = Field(min_length=1, max_length=20_000)
    controls: list[Annotated[str, Field(min_length=1, max_length=20)]] = Field(
        min_length=1, max_length=50, examples=[["CM-4"]]
    )
    scope_kind: ScopeKind = Field(examples=["change"])
    scope_value: str = Field(min_length=1, max_length=limits.RESOURCE_ID, examples=["CHG-3"])
    days: int = Field(ge=1, le=MAX_DAYS, examples=[30])


class ReviewIn(In):
    outcome: waiver_reviews.Outcome
    notes: str = Field(min_length=1, max_length=20_000)
    days: int | None = Field(default=None, ge=1, le=MAX_DAYS)


class QuarterIn(In):
    quarter: str = Field(pattern=r"^\d{4}-[Qq][1-4]$", examples=["2026-Q3"])


@router.get("", summary="List waivers", openapi_extra=allow(EVERYONE - {R.PIPELINE}))
def list_(
    who: CallerDep, limit: Limit = 100, offset: Offset = 0, status: WaiverStatus | None = None
) -> Page[WaiverOut]:
    return who.read(lambda ctx: views.page(ctx, status, limit, offset))


@router.post(
    "",
    status_code=201,
    summary="Request a waiver (needs CAB and ISO approval)",
    openapi_extra=allow(REQUESTERS),
)
def request(body: WaiverIn, who: CallerDep) -> WaiverOut:
    return who.write(
        lambda ctx: views.waiver(
            waivers.request(
                ctx,
                body.title,
                body.justification,
                body.compensating_controls,
                body.controls,
                body.scope_kind.value,
                body.scope_value,
                body.days,
            )
        )
    )


@router.post(
    "/quarterly-review",
    status_code=201,
    summary="Sign the quarterly review of waivers (EXC-1, the ISO)",
    openapi_extra=allow(ISO),
)
def review_quarter(body: QuarterIn, who: CallerDep) -> ReviewOut:
    return who.write(lambda ctx: review(waiver_reviews.review_quarter(ctx, body.quarter)))


@router.get(
    "/{key}",
    summary="One waiver with its windows and decisions",
    openapi_extra=allow(EVERYONE - {R.PIPELINE}),
)
def show(key: Key, who: CallerDep) -> WaiverOut:
    return who.read(lambda ctx: views.show(ctx, key))


@router.post(
    "/{key}/approvals", summary="Approve or reject the current round", openapi_extra=allow(DECIDERS)
)
def decide(key: Key, body: DecisionIn, who: CallerDep) -> WaiverOut:
    return who.write(
        lambda ctx: views.waiver(waivers.decide(ctx, key, body.role, body.decision, body.comment))
    )


@router.post(
    "/{key}/review",
    summary="Review at or before expiry: renew or close",
    openapi_extra=allow(DECIDERS),
)
def review_waiver(key: Key, body: ReviewIn, who: CallerDep) -> WaiverOut:
    return who.write(
        lambda ctx: views.waiver(
            waiver_reviews.review(ctx, key, body.outcome, body.notes, body.days)
        )
    )
