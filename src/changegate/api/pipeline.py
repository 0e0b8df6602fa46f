"""/api/v1: test evidence, the gate, deployments, and ledger verification."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, UploadFile

from changegate import ledger
from changegate.api.access import ACTORS, EVERYONE, PIPELINES, CallerDep, allow
from changegate.api.schemas import DeploymentIn, FailIn, GateIn, RollbackIn
from changegate.bootstrap import read_report
from changegate.db.pipeline import Pipeline
from changegate.integrations.junit import MAX_BYTES
from changegate.services import changes, deployments, gate, testruns, views
from changegate.services.context import Context

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
) -> dict[str, Any]:
    # Read at most one byte past the cap: the parser refuses it without us holding more.
    data = junit.file.read(MAX_BYTES + 1)
    report = read_report(data, junit.filename or "report")
    return who.write(
        lambda ctx: views.test_run(
            testruns.record(ctx, key, environment, commit, report, artifact, doc_url)
        )
    )


@router.get(
    "/changes/{key}/test-runs",
    openapi_extra=allow(EVERYONE),
    summary="Test evidence recorded for a change",
)
def list_test_runs(key: str, who: CallerDep) -> list[dict[str, Any]]:
    return who.read(
        lambda ctx: [
            views.test_run(r) for r in Pipeline(ctx.session).test_runs(changes.get(ctx, key))
        ]
    )


@router.post(
    "/gate",
    openapi_extra=allow(ACTORS),
    summary="May this commit of this change go to this environment now?",
)
def check_gate(body: GateIn, who: CallerDep) -> dict[str, Any]:
    """Always 200 with `allowed` true or false; every decision is recorded in the ledger."""
    return who.write(
        lambda ctx: views.decision(
            gate.check(ctx, body.change, body.environment, body.commit, body.artifact)
        )
    )


@router.post(
    "/deployments",
    status_code=201,
    openapi_extra=allow(PIPELINES),
    summary="Record the start of a deployment (production needs an allow decision)",
)
def start_deployment(body: DeploymentIn, who: CallerDep) -> dict[str, Any]:
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
def finish_deployment(deployment_id: DeploymentId, who: CallerDep) -> dict[str, Any]:
    return who.write(lambda ctx: views.deployment(deployments.finish(ctx, deployment_id)))


@router.post(
    "/deployments/{deployment_id}/fail",
    openapi_extra=allow(PIPELINES),
    summary="The deployment failed",
)
def fail_deployment(deployment_id: DeploymentId, body: FailIn, who: CallerDep) -> dict[str, Any]:
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
) -> dict[str, Any]:
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
def list_deployments(key: str, who: CallerDep) -> list[dict[str, Any]]:
    return who.read(
        lambda ctx: [
            views.deployment(d) for d in Pipeline(ctx.session).deployments(changes.get(ctx, key))
        ]
    )


@router.get(
    "/ledger/verify",
    openapi_extra=allow(EVERYONE),
    tags=["ledger"],
    summary="Walk the hash chain and report the first tampered record",
)
def verify_ledger(who: CallerDep) -> dict[str, Any]:
    def use_case(ctx: Context) -> dict[str, Any]:
        report = ledger.verify(ctx.session)
        problem = report.problem
        return {
            "ok": report.ok,
            "count": report.count,
            "head_seq": report.head_seq,
            "head_hash": report.head_hash,
            "checkpoints": report.checkpoints,
            "problem": problem.__dict__ if problem else None,
        }

    return who.read(use_case)


@router.get(
    "/me", openapi_extra=allow(EVERYONE), tags=["auth"], summary="The principal behind the token"
)
def me(who: CallerDep) -> dict[str, Any]:
    def use_case(ctx: Context) -> dict[str, Any]:
        user = ctx.user()
        return {"email": user.email, "name": user.name, "roles": user.role_names}

    return who.read(use_case)
