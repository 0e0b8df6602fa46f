"""/api/v1 baselines, configuration items and drift (CFG-1..CFG-4)."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Form, Path, Query, UploadFile
from pydantic import Field

from changegate.api.access import EVERYONE, CallerDep, allow
from changegate.api.paging import Limit, Offset
from changegate.api.schemas import In
from changegate.domain import limits
from changegate.domain.documents import loads_json
from changegate.domain.drift import DriftStatus
from changegate.domain.errors import BadInput
from changegate.domain.users import Role
from changegate.integrations import awsconfig, cloudformation
from changegate.services import baselines, drift
from changegate.services.views import configuration as views
from changegate.services.views.common import Page
from changegate.services.views.configuration import (
    BaselineDetailOut,
    BaselineOut,
    DriftOut,
    IngestOut,
    ObservedOut,
    ScanOut,
)
from changegate.services.views.reviews import ReviewOut, review

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


class ResourceRefIn(In):
    type: str = Field(min_length=1, max_length=limits.RESOURCE_TYPE, examples=["AWS::S3::Bucket"])
    id: str = Field(min_length=1, max_length=limits.RESOURCE_ID, examples=["logs-prod"])


class AdoptIn(In):
    name: str = Field(min_length=1, max_length=200)
    resources: list[ResourceRefIn] = Field(min_length=1, max_length=10_000)


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
    physical: Annotated[str, Form(description="JSON {logical id: physical id}")] = "{}",
    parameters: Annotated[str, Form(description="JSON {parameter: value}")] = "{}",
) -> BaselineOut:
    data = template.file.read(MAX_UPLOAD + 1)
    source = template.filename or "template"
    ids, given = _pairs(physical, "physical"), _pairs(parameters, "parameters")
    declared = cloudformation.parse_template(data, source, given, ids)
    vocabulary = who.app.vocabulary()
    return who.write(
        lambda ctx: views.baseline(
            baselines.import_baseline(
                ctx, name, declared, source, hashlib.sha256(data).hexdigest(), vocabulary, ids
            )
        )
    )


def _pairs(raw: str, field: str) -> dict[str, str]:
    try:
        found = loads_json(raw, field)
        if not isinstance(found, dict):
            raise TypeError
        return {str(k): str(v) for k, v in found.items()}
    except (ValueError, TypeError):
        raise BadInput(f"{field}: expected a JSON object of names to values") from None


@router.post(
    "/baselines/adopt",
    status_code=201,
    openapi_extra=allow(AUTHORS),
    summary="Adopt observed resources' configuration as a draft baseline",
)
def adopt_baseline(body: AdoptIn, who: CallerDep) -> BaselineOut:
    keys = [(r.type, r.id) for r in body.resources]
    vocabulary = who.app.vocabulary()
    return who.write(lambda ctx: views.baseline(baselines.adopt(ctx, body.name, keys, vocabulary)))


@router.post(
    "/baselines/{name}/approve",
    openapi_extra=allow(ENGINEERS),
    summary="Approve a draft baseline (security engineer, not its author)",
)
def approve_baseline(name: Name, body: ApproveIn, who: CallerDep) -> BaselineOut:
    return who.write(
        lambda ctx: views.baseline(baselines.approve(ctx, name, body.version, body.change))
    )


@router.get("/baselines", openapi_extra=allow(EVERYONE), summary="Every baseline version")
def list_baselines(who: CallerDep, limit: Limit = 100, offset: Offset = 0) -> Page[BaselineOut]:
    return who.read(lambda ctx: views.baselines(ctx, limit, offset))


@router.get(
    "/baselines/{name}",
    openapi_extra=allow(EVERYONE),
    summary="A baseline and its declared resources",
)
def show_baseline(
    name: Name, who: CallerDep, version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None
) -> BaselineDetailOut:
    return who.read(lambda ctx: views.show_baseline(ctx, name, version))


@router.post(
    "/baselines/verify",
    status_code=201,
    openapi_extra=allow(ENGINEERS),
    summary="Sign the quarterly baseline verification (CFG-3)",
)
def verify_quarter(body: VerifyIn, who: CallerDep) -> ReviewOut:
    return who.write(lambda ctx: review(baselines.verify_quarter(ctx, body.quarter)))


@router.get(
    "/config/items",
    openapi_extra=allow(EVERYONE),
    summary="Observed resources: each one's latest observation, and the baseline declaring it",
)
def list_observed(
    who: CallerDep,
    limit: Limit = 100,
    offset: Offset = 0,
    resource_type: Annotated[
        str | None, Query(alias="type", max_length=limits.RESOURCE_TYPE)
    ] = None,
    account: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
) -> Page[ObservedOut]:
    return who.read(lambda ctx: views.observed(ctx, resource_type, account, limit, offset))


@router.post(
    "/config/items",
    openapi_extra=allow(FEEDERS),
    summary="Ingest AWS Config items: a snapshot, history file or notification",
)
def ingest_items(
    who: CallerDep, document: Annotated[dict[str, Any] | list[Any], Body()]
) -> IngestOut:
    items, problems = awsconfig.read_file(json.dumps(document).encode(), "request body")
    vocabulary = who.app.vocabulary()
    return who.write(
        lambda ctx: views.ingest(drift.ingest(ctx, items, "api", vocabulary), problems)
    )


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
) -> ScanOut:
    vocabulary = who.app.vocabulary()
    return who.write(lambda ctx: views.scan(drift.scan(ctx, vocabulary, full)))


@router.get("/drift", openapi_extra=allow(EVERYONE), summary="Drift findings")
def list_drift(
    who: CallerDep, limit: Limit = 100, offset: Offset = 0, status: DriftStatus | None = None
) -> Page[DriftOut]:
    return who.read(lambda ctx: views.drifts(ctx, status, limit, offset))


@router.get("/drift/{drift_id}", openapi_extra=allow(EVERYONE), summary="One drift")
def show_drift(drift_id: DriftId, who: CallerDep) -> DriftOut:
    return who.read(lambda ctx: views.show_drift(ctx, drift_id))
