"""/api/v1 audits, findings (violations), disciplinary actions and quarterly reviews."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import Field

from changegate.api.access import EVERYONE, CallerDep, allow
from changegate.api.paging import Limit, Offset
from changegate.api.schemas import In
from changegate.domain.findings import DisciplinaryKind, FindingStatus, RemediationKind
from changegate.domain.users import Role
from changegate.services import audits, findings, reviews
from changegate.services.context import Context
from changegate.services.views import audits as views
from changegate.services.views import reviews as review_views
from changegate.services.views.audits import (
    AuditOut,
    AuditRunOut,
    DisciplineOut,
    FindingDetailOut,
    FindingOut,
)
from changegate.services.views.common import Page
from changegate.services.views.reviews import ReviewOut

router = APIRouter(prefix="/api/v1", tags=["audits"])
R = Role
RUNNERS = frozenset({R.ISO, R.ADMIN})
PERFORMERS = frozenset({R.ISO, R.ADMIN, R.AUDITOR})
READERS = frozenset(findings.READERS)
ISO = frozenset({R.ISO})
FIXERS = frozenset({R.ISO, R.SECURITY_ENGINEER})
HR = frozenset({R.HR})
PERIOD = r"^\d{4}(-[Qq][1-4])?$"
Key = Annotated[str, Path(pattern=r"^[Ff][Nn][Dd]-\d{1,9}$")]
ReviewId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class AuditIn(In):
    period: str | None = Field(default=None, pattern=PERIOD, examples=["2026-Q3"])


class CommentIn(In):
    comment: str = Field(default="", max_length=4000)


class DismissIn(In):
    reason: str = Field(min_length=1, max_length=4000)


class RemediateIn(In):
    kind: RemediationKind
    description: str = Field(min_length=1, max_length=4000)


class DisciplineIn(In):
    person: str = Field(min_length=3, max_length=320)
    action: DisciplinaryKind
    notes: str = Field(default="", max_length=4000)


class QuarterIn(In):
    quarter: str = Field(pattern=r"^\d{4}-[Qq][1-4]$", examples=["2026-Q3"])
    notes: str = Field(default="", max_length=4000)
    # From GET /reviews/quarterly-metrics/{quarter}/preview; without it the signature is unpinned.
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")


@router.post(
    "/audits",
    status_code=201,
    openapi_extra=allow(RUNNERS),
    summary="Run every audit rule over a period and store the findings",
)
def run_audit(body: AuditIn, who: CallerDep) -> AuditOut:
    return who.write(lambda ctx: audits.summary(audits.run_requested(ctx, body.period)))


@router.get(
    "/audits/preview",
    openapi_extra=allow(PERFORMERS),
    summary="Re-perform the audit without storing anything",
)
def preview_audit(
    who: CallerDep, period: Annotated[str | None, Query(pattern=PERIOD)] = None
) -> AuditOut:
    return who.read(lambda ctx: audits.preview(ctx, period))


@router.get("/audits", openapi_extra=allow(READERS), summary="Audit runs, newest first")
def list_runs(who: CallerDep, limit: Limit = 100, offset: Offset = 0) -> Page[AuditRunOut]:
    return who.read(lambda ctx: views.runs(ctx, limit, offset))


@router.get("/findings", openapi_extra=allow(READERS), summary="Findings, newest first")
def list_findings(
    who: CallerDep,
    limit: Limit = 100,
    offset: Offset = 0,
    status: FindingStatus | None = None,
    control: Annotated[str | None, Query(max_length=20)] = None,
) -> Page[FindingOut]:
    return who.read(lambda ctx: views.finding_page(ctx, status, control, limit, offset))


@router.get(
    "/findings/{key}",
    openapi_extra=allow(READERS),
    summary="One finding; disciplinary details for the ISO and HR only",
)
def get_finding(key: Key, who: CallerDep) -> FindingDetailOut:
    return who.read(lambda ctx: views.show_finding(ctx, key))


@router.post(
    "/findings/{key}/confirm",
    openapi_extra=allow(ISO),
    summary="Confirm a violation (ISO); remediation falls due",
)
def confirm(key: Key, body: CommentIn, who: CallerDep) -> FindingOut:
    return who.write(lambda ctx: views.finding(ctx, findings.confirm(ctx, key, body.comment)))


@router.post(
    "/findings/{key}/dismiss",
    openapi_extra=allow(ISO),
    summary="Dismiss a finding with a reason (ISO)",
)
def dismiss(key: Key, body: DismissIn, who: CallerDep) -> FindingOut:
    return who.write(lambda ctx: views.finding(ctx, findings.dismiss(ctx, key, body.reason)))


@router.post(
    "/findings/{key}/remediate",
    openapi_extra=allow(FIXERS),
    summary="Record the rollback or fix; the finding closes",
)
def remediate(key: Key, body: RemediateIn, who: CallerDep) -> FindingOut:
    return who.write(
        lambda ctx: views.finding(ctx, findings.remediate(ctx, key, body.kind, body.description))
    )


@router.post(
    "/findings/{key}/disciplinary-actions",
    status_code=201,
    openapi_extra=allow(HR),
    summary="Record a disciplinary action (HR only)",
)
def discipline(key: Key, body: DisciplineIn, who: CallerDep) -> DisciplineOut:
    def use_case(ctx: Context) -> DisciplineOut:
        row = findings.discipline(ctx, key, body.person, body.action, body.notes)
        return DisciplineOut(finding=key.upper(), action_id=row.id)

    return who.write(use_case)


@router.post(
    "/reviews/quarterly-metrics",
    status_code=201,
    openapi_extra=allow(ISO),
    summary="The ISO's signed quarterly change-management review (CM-6)",
)
def quarterly_metrics(body: QuarterIn, who: CallerDep) -> ReviewOut:
    return who.write(
        lambda ctx: review_views.review(
            reviews.review_quarter(ctx, body.quarter, body.notes, body.sha256)
        )
    )


@router.get("/reviews", openapi_extra=allow(EVERYONE), summary="Signed reviews, newest first")
def list_reviews(
    who: CallerDep,
    limit: Limit = 100,
    offset: Offset = 0,
    kind: Annotated[list[str] | None, Query(max_length=10)] = None,
) -> Page[ReviewOut]:
    return who.read(lambda ctx: review_views.page(ctx, kind or [], limit, offset))


@router.get("/reviews/{review_id}", openapi_extra=allow(EVERYONE), summary="One signed review")
def show_review(review_id: ReviewId, who: CallerDep) -> ReviewOut:
    return who.read(lambda ctx: review_views.show(ctx, review_id))
