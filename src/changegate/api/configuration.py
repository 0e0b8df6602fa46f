"""/api/v1 baselines, configuration items and drift (CFG-1..CFG-4)."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Form, Path, Query, UploadFile
from pydantic import Field

from changegate.api.access import EVERYONE, CallerDep, allow
from changegate.api.schemas import In
from changegate.domain.drift import DriftStatus
from changegate.domain.errors import BadInput
from changegate.domain.users import Role
from changegate.integrations import awsconfig, cloudformation
from changegate.services import baselines, drift
from changegate.services.context import Context

router = APIRouter(prefix="/api/v1", tags=["configuration"])
AUTHORS = frozenset({Role.SECURITY_ENGINEER, Role.REQUESTER, Role.ADMIN})
ENGINEERS = frozenset({Role.SECURITY_ENGINEER})
FEEDERS = frozenset({Role.SECURITY_ENGINEER, Role.PIPELINE, Role.ADMIN})
MAX_UPLOAD = 50 * 1024 * 1024
Name = Annotated[str, Path(min_length=1, max_length=200)]
DriftId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class ApproveIn(In):
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)
    change: str | None = Field(default=None, max_length=40)


class VerifyIn(In):
    quarter: str = Field(pattern=r"^\d{4}-[Qq][1-4]$", examples=["2026-Q3"])


@router.post(
    "/baselines",
    status_code=201,
    openapi_extra=allow(AUTHORS),
    summary="Import a CloudFormation template as a draft baseline",
)
def import_baseline(
    who: CallerDep,
    template: Annotated[UploadFile, File()],
    name: Annotated[str, Form(min_length=1, max_length=200)],
    physical: Annotated[str, Form(description="JSON {logical: physical}")] = "{}",
) -> dict[str, Any]:
    data = template.file.read(MAX_UPLOAD + 1)
    source = template.filename or "template"
    declared = cloudformation.parse_template(data, source)
    try:
        ids = {str(k): str(v) for k, v in dict(json.loads(physical)).items()}
    except (ValueError, TypeError):
        raise BadInput("physical: expected a JSON object {logical id: physical id}") from None
    return who.write(
        lambda ctx: baselines.view(
            baselines.import_baseline(
                ctx, name, declared, source, hashlib.sha256(data).hexdigest(), ids
            )
        )
    )


@router.post(
    "/baselines/{name}/approve",
    openapi_extra=allow(ENGINEERS),
    summary="Approve a draft baseline (security engineer, not its author)",
)
def approve_baseline(name: Name, body: ApproveIn, who: CallerDep) -> dict[str, Any]:
    return who.write(
        lambda ctx: baselines.view(baselines.approve(ctx, name, body.version, body.change))
    )


@router.get("/baselines", openapi_extra=allow(EVERYONE), summary="Every baseline version")
def list_baselines(who: CallerDep) -> list[dict[str, Any]]:
    return who.read(lambda ctx: [baselines.view(b) for b in baselines.list_baselines(ctx)])


@router.get(
    "/baselines/{name}",
    openapi_extra=allow(EVERYONE),
    summary="A baseline and its declared resources",
)
def show_baseline(
    name: Name, who: CallerDep, version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None
) -> dict[str, Any]:
    return who.read(lambda ctx: baselines.view(baselines.get(ctx, name, version), True))


@router.post(
    "/baselines/verify",
    status_code=201,
    openapi_extra=allow(ENGINEERS),
    summary="Sign the quarterly baseline verification (CFG-3)",
)
def verify_quarter(body: VerifyIn, who: CallerDep) -> dict[str, Any]:
    def use_case(ctx: Context) -> dict[str, Any]:
        review = baselines.verify_quarter(ctx, body.quarter)
        report: dict[str, Any] = json.loads(review.summary)
        return report | {"review_id": review.id}

    return who.write(use_case)


@router.post(
    "/config/items",
    openapi_extra=allow(FEEDERS),
    summary="Ingest AWS Config items: a snapshot, history file or notification",
)
def ingest_items(
    who: CallerDep, document: Annotated[dict[str, Any] | list[Any], Body()]
) -> dict[str, Any]:
    items, problems = awsconfig.read_file(json.dumps(document).encode(), "request body")
    result = who.write(lambda ctx: drift.ingest(ctx, items, "api"))
    return {"added": result.added, "duplicates": result.duplicates, "skipped": problems}


@router.post(
    "/drift/scan",
    openapi_extra=allow(FEEDERS),
    summary="Compare approved baselines with the latest observations",
)
def scan(
    who: CallerDep,
    full: Annotated[
        bool,
        Query(description="Compare every resource, not only those changed since the last scan"),
    ] = False,
) -> dict[str, Any]:
    return who.write(lambda ctx: drift.scan(ctx, full).__dict__)


@router.get("/drift", openapi_extra=allow(EVERYONE), summary="Drift findings")
def list_drift(who: CallerDep, status: DriftStatus | None = None) -> list[dict[str, Any]]:
    wanted = status.value if status else None
    return who.read(lambda ctx: [baselines.drift_view(d) for d in drift.list_drifts(ctx, wanted)])


@router.get("/drift/{drift_id}", openapi_extra=allow(EVERYONE), summary="One drift")
def show_drift(drift_id: DriftId, who: CallerDep) -> dict[str, Any]:
    return who.read(lambda ctx: baselines.drift_view(drift.get(ctx, drift_id)))
