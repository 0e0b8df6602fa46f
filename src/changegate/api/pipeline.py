"""/api/v1: test evidence, the gate, deployments, and ledger verification."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, UploadFile

from changegate import bootstrap
from changegate.api.access import ACTORS, EVERYONE, PIPELINES, CallerDep, allow
from changegate.api.paging import Limit, Offset
from changegate.api.schemas import DeploymentIn, FailIn, GateIn, RollbackIn
from changegate.bootstrap import read_report
from changegate.integrations.junit import MAX_BYTES
from changegate.services import deployments, gate, state_checks, testruns
from changegate.services.views import ledger as ledger_views
from changegate.services.views import pipeline as views
from changegate.services.views.common import Page
from changegate.services.views.ledger import VerificationOut
from changegate.services.views.pipeline import DeploymentOut, GateDecisionOut, TestRunOut

router = APIRouter(prefix="/api/v1", tags=["pipeline"])
DeploymentId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post(
    "/changes/{key}/test-runs",
    status_code=201,
    openapi_extra=allow(PIPELINES),
    summary="Record a regression-test report (JUnit XML) for a commit (CM-4)",
)
def record_test_run(
    key: str,
    who: CallerDep,
    junit: Annotated[UploadFile, File(description="The JUnit XML report")],
    environment: Annotated[str, Form(max_length=40)],
    commit: Annotated[str, Form(min_length=7, max_length=64)],
    artifact: Annotated[str | None, Form(max_length=200)] = None,
    doc_url: Annotated[str | None, Form(max_length=1000)] = None,
    upload: Annotated[bool | None, Form(description="File it in the shared drive")] = None,
) -> TestRunOut:
    # Read at most one byte past the cap: the parser refuses it without us holding more.
    data = junit.file.read(MAX_BYTES + 1)
    report = read_report(data, junit.filename or "report")
    drive = bootstrap.drive(who.app.settings, who.app.policy)
    return who.write(
        lambda ctx: views.recorded(
            ctx,
            testruns.record(
                ctx,
                key,
                environment,
                commit,
                report,
                artifact,
                doc_url,
                data,
                file_in_drive=upload,
                drive=drive,
            ),
        )
    )


@router.get(
    "/changes/{key}/test-runs",
    openapi_extra=allow(EVERYONE),
    summary="Test evidence recorded for a change",
)
def list_test_runs(
    key: str, who: CallerDep, limit: Limit = 100, offset: Offset = 0
) -> Page[TestRunOut]:
    return who.read(lambda ctx: views.test_runs(ctx, key, limit, offset))


@router.post(
    "/gate",
    openapi_extra=allow(ACTORS),
    summary="May this commit of this change go to this environment now?",
)
def check_gate(body: GateIn, who: CallerDep) -> GateDecisionOut:
    """Always 200 with `allowed` true or false; every decision is recorded in the ledger."""
    return who.write(
        lambda ctx: views.decision(
            gate.check(ctx, body.change, body.environment, body.commit, body.artifact)
        )
    )


@router.get(
    "/gate/decisions/{decision_id}",
    openapi_extra=allow(EVERYONE),
    summary="One recorded gate decision, with the reasons and inputs to re-perform it",
)
def show_decision(
    decision_id: Annotated[int, Path(ge=1, le=2**31 - 1)], who: CallerDep
) -> GateDecisionOut:
    return who.read(lambda ctx: views.show_decision(ctx, decision_id))


@router.post(
    "/deployments",
    status_code=201,
    openapi_extra=allow(PIPELINES),
    summary="Record the start of a deployment (production needs an allow decision)",
)
def start_deployment(body: DeploymentIn, who: CallerDep) -> DeploymentOut:
    return who.write(
        lambda ctx: views.deployment(
            deployments.start(
                ctx,
                body.change,
                body.environment,
                body.commit,
                body.run_url,
                body.artifact,
                body.iac_path,
                body.iac_sha256,
                body.decision_id,
            )
        )
    )


@router.post(
    "/deployments/{deployment_id}/finish",
    openapi_extra=allow(PIPELINES),
    summary="The deployment succeeded (production: the change is implemented)",
)
def finish_deployment(deployment_id: DeploymentId, who: CallerDep) -> DeploymentOut:
    return who.write(lambda ctx: views.deployment(deployments.finish(ctx, deployment_id)))


@router.post(
    "/deployments/{deployment_id}/fail",
    openapi_extra=allow(PIPELINES),
    summary="The deployment failed",
)
def fail_deployment(deployment_id: DeploymentId, body: FailIn, who: CallerDep) -> DeploymentOut:
    return who.write(
        lambda ctx: views.deployment(deployments.fail(ctx, deployment_id, body.reason))
    )


@router.post(
    "/deployments/{deployment_id}/rollback",
    openapi_extra=allow(PIPELINES),
    summary="Rolled back to a known-good commit under the same change",
)
def rollback_deployment(
    deployment_id: DeploymentId, body: RollbackIn, who: CallerDep
) -> DeploymentOut:
    return who.write(
        lambda ctx: views.deployment(
            deployments.rollback(ctx, deployment_id, body.to_commit, body.run_url, body.reason)
        )
    )


@router.get(
    "/changes/{key}/deployments",
    openapi_extra=allow(EVERYONE),
    summary="Deployments recorded under a change",
)
def list_deployments(
    key: str, who: CallerDep, limit: Limit = 100, offset: Offset = 0
) -> Page[DeploymentOut]:
    return who.read(lambda ctx: views.deployments(ctx, key, limit, offset))


@router.get(
    "/ledger/verify",
    openapi_extra=allow(EVERYONE),
    tags=["ledger"],
    summary="Walk the hash chain and report the first tampered record",
)
def verify_ledger(
    who: CallerDep,
    state: Annotated[
        bool, Query(description="Also compare the live tables with what the ledger implies")
    ] = False,
) -> VerificationOut:
    return who.read(lambda ctx: ledger_views.verified(ctx.session, state))


@router.post(
    "/ledger/state-verifications",
    openapi_extra=allow(frozenset(state_checks.RECORDERS)),
    tags=["ledger"],
    summary="Verify the chain and the live state; record the check in the ledger if it passes",
)
def record_state_verification(who: CallerDep) -> VerificationOut:
    return who.write(state_checks.record)
