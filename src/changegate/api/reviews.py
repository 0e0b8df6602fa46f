"""/api/v1/reviews: preview and sign the ISO's annual reviews and the quarterly metrics review
by the digest of the report read, and print any signed review as HTML or PDF."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, Response
from pydantic import Field

from changegate.api.access import EVERYONE, CallerDep, allow
from changegate.api.schemas import In
from changegate.domain.users import Role
from changegate.services import annual_reviews, reviews
from changegate.services.annual_reviews import AnnualKind
from changegate.services.views.reviews import ReviewOut, ReviewPreviewOut, review

router = APIRouter(prefix="/api/v1/reviews", tags=["reviews"])
ISO = frozenset({Role.ISO})
PREVIEWERS = frozenset({Role.ISO, Role.ADMIN, Role.AUDITOR})
YEAR = r"^\d{4}$"
SHA256 = r"^[0-9a-fA-F]{64}$"
Year = Annotated[str, Path(pattern=YEAR, examples=["2025"])]
Quarter = Annotated[str, Path(pattern=r"^\d{4}-[Qq][1-4]$", examples=["2026-Q3"])]
ReviewId = Annotated[int, Path(ge=1, le=2**31 - 1)]
PDF = {200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}
HTML = {200: {"content": {"text/html": {"schema": {"type": "string"}}}}}


class AnnualIn(In):
    year: str = Field(pattern=YEAR, examples=["2025"])
    sha256: str = Field(pattern=SHA256, description="The digest the preview answered")
    notes: str = Field(default="", max_length=4000)


def _preview(kind: AnnualKind, year: str, who: CallerDep) -> ReviewPreviewOut:
    return who.read(lambda ctx: annual_reviews.preview(ctx, kind, year))


def _sign(kind: AnnualKind, body: AnnualIn, who: CallerDep) -> ReviewOut:
    return who.write(
        lambda ctx: review(annual_reviews.sign(ctx, kind, body.year, body.sha256, body.notes))
    )


@router.get(
    "/policy-annual/{year}/preview",
    openapi_extra=allow(PREVIEWERS),
    summary="The policy's annual review (POL-1) as it would be signed now, and its SHA-256",
)
def preview_policy(year: Year, who: CallerDep) -> ReviewPreviewOut:
    return _preview(AnnualKind.POLICY, year, who)


@router.post(
    "/policy-annual",
    status_code=201,
    openapi_extra=allow(ISO),
    summary="The ISO signs the policy's annual review (POL-1) previewed with this SHA-256",
)
def sign_policy(body: AnnualIn, who: CallerDep) -> ReviewOut:
    return _sign(AnnualKind.POLICY, body, who)


@router.get(
    "/config-annual/{year}/preview",
    openapi_extra=allow(PREVIEWERS),
    summary="The annual configuration-management review (CFG-5) as it would be signed now",
)
def preview_config(year: Year, who: CallerDep) -> ReviewPreviewOut:
    return _preview(AnnualKind.CONFIG, year, who)


@router.post(
    "/config-annual",
    status_code=201,
    openapi_extra=allow(ISO),
    summary="The ISO signs the annual configuration-management review (CFG-5) by its SHA-256",
)
def sign_config(body: AnnualIn, who: CallerDep) -> ReviewOut:
    return _sign(AnnualKind.CONFIG, body, who)


@router.get(
    "/quarterly-metrics/{quarter}/preview",
    openapi_extra=allow(PREVIEWERS),
    summary="The quarter's change-management metrics (CM-6) as they would be signed now",
)
def preview_metrics(quarter: Quarter, who: CallerDep) -> ReviewPreviewOut:
    return who.read(lambda ctx: reviews.preview_quarter(ctx, quarter))


@router.get(
    "/{review_id}/report.html",
    openapi_extra=allow(EVERYONE),
    response_class=HTMLResponse,
    responses=HTML,  # type: ignore[arg-type]
    summary="One signed review as an HTML report document",
)
def report_html(review_id: ReviewId, who: CallerDep) -> HTMLResponse:
    html, _ = who.read(lambda ctx: reviews.report_document(ctx.session, review_id))
    return HTMLResponse(html)


@router.get(
    "/{review_id}/report.pdf",
    openapi_extra=allow(EVERYONE),
    response_class=Response,
    responses=PDF,  # type: ignore[arg-type]
    summary="One signed review as a PDF report document",
)
def report_pdf(review_id: ReviewId, who: CallerDep) -> Response:
    _, pdf = who.read(lambda ctx: reviews.report_document(ctx.session, review_id))
    filename = f"review-{review_id}.pdf"
    headers = {"Content-Disposition": f'inline; filename="{filename}"'}
    return Response(pdf, media_type="application/pdf", headers=headers)
