"""/api/v1 audits, findings (violations), disciplinary actions and quarterly reviews."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import Field

from changegate.api.access import CallerDep, allow
from changegate.api.schemas import In
from changegate.domain.findings import DisciplinaryKind, FindingStatus, RemediationKind
from changegate.domain.users import Role
from changegate.services import audits, findings, reviews
from changegate.services.context import Context

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


@router.post(
    "/audits",
    status_code=201,
    openapi_extra=allow(RUNNERS),
    summary="Run every audit rule over a period and store the findings",
)
def run_audit(body: AuditIn, who: CallerDep) -> dict[str, Any]:
    return who.write(lambda ctx: audits.summary(ctx, audits.run_requested(ctx, body.period)))


@router.get(
    "/audits/preview",
    openapi_extra=allow(PERFORMERS),
    summary="Re-perform the audit without storing anything",
)
def preview_audit(
    who: CallerDep, period: Annotated[str | None, Query(pattern=PERIOD)] = None
) -> dict[str, Any]:
    return who.read(lambda ctx: audits.preview(ctx, period))


@router.get("/audits", openapi_extra=allow(READERS), summary="Recent audit runs")
def list_runs(who: CallerDep) -> list[dict[str, Any]]:
    return who.read(lambda ctx: [audits.run_view(r) for r in audits.recent_runs(ctx)])


@router.get("/findings", openapi_extra=allow(READERS), summary="Findings, newest first")
def list_findings(
    who: CallerDep,
    status: FindingStatus | None = None,
    control: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=findings.MAX_LIST)] = 1000,
) -> list[dict[str, Any]]:
    def use_case(ctx: Context) -> list[dict[str, Any]]:
        roles = findings.reader_roles(ctx)
        return [
            findings.view(ctx, f, roles)
            for f in findings.list_findings(ctx, status.value if status else None, control, limit)
        ]

    return who.read(use_case)


@router.get(
    "/findings/{key}",
    openapi_extra=allow(READERS),
    summary="One finding; disciplinary details for the ISO and HR only",
)
def get_finding(key: Key, who: CallerDep) -> dict[str, Any]:
    return who.read(
        lambda ctx: findings.view(
            ctx, findings.get(ctx, key), findings.reader_roles(ctx), detail=True
        )
    )


@router.post(
    "/findings/{key}/confirm",
    openapi_extra=allow(ISO),
    summary="Confirm a violation (ISO); remediation falls due",
)
def confirm(key: Key, body: CommentIn, who: CallerDep) -> dict[str, Any]:
    return who.write(
        lambda ctx: findings.view(ctx, findings.confirm(ctx, key, body.comment), frozenset())
    )


@router.post(
    "/findings/{key}/dismiss",
    openapi_extra=allow(ISO),
    summary="Dismiss a finding with a reason (ISO)",
)
def dismiss(key: Key, body: DismissIn, who: CallerDep) -> dict[str, Any]:
    return who.write(
        lambda ctx: findings.view(ctx, findings.dismiss(ctx, key, body.reason), frozenset())
    )


@router.post(
    "/findings/{key}/remediate",
    openapi_extra=allow(FIXERS),
    summary="Record the rollback or fix; the finding closes",
)
def remediate(key: Key, body: RemediateIn, who: CallerDep) -> dict[str, Any]:
    return who.write(
        lambda ctx: findings.view(
            ctx, findings.remediate(ctx, key, body.kind, body.description), frozenset()
        )
    )


@router.post(
    "/findings/{key}/disciplinary-actions",
    status_code=201,
    openapi_extra=allow(HR),
    summary="Record a disciplinary action (HR only)",
)
def discipline(key: Key, body: DisciplineIn, who: CallerDep) -> dict[str, Any]:
    def use_case(ctx: Context) -> dict[str, Any]:
        row = findings.discipline(ctx, key, body.person, body.action, body.notes)
        return {"finding": key.upper(), "action_id": row.id}

    return who.write(use_case)


@router.post(
    "/reviews/quarterly-metrics",
    status_code=201,
    openapi_extra=allow(ISO),
    summary="The ISO's signed quarterly change-management review (CM-6)",
)
def quarterly_metrics(body: QuarterIn, who: CallerDep) -> dict[str, Any]:
    return who.write(
        lambda ctx: reviews.view(reviews.review_quarter(ctx, body.quarter, body.notes))
    )
