"""Read models of the pipeline's records: test evidence, gate decisions, deployments."""

from __future__ import annotations

from changegate.db.changes import Changes
from changegate.db.models import Deployment, GateDecisionRecord, TestRun
from changegate.db.pipeline import Pipeline
from changegate.services import testruns
from changegate.services.context import Context
from changegate.services.views.common import Instant, Out, Page, check_window
from changegate.services.views.workspace import DriveFileOut, documentation


class TestRunOut(Out):
    __test__ = False  # not a pytest class, despite the name
    id: int
    change: str
    environment: str
    isolated: bool
    commit: str
    artifact: str | None
    ok: bool  # passing evidence, as judged when it was recorded
    verdict: str  # why: "12 passed of 12 executed", "no test executed (3 skipped, 0 not run)"
    tests: int  # test cases in the report
    executed: int  # passed + failed + errored (+ warnings)
    passed: int
    failures: int
    errors: int
    skipped: int
    not_run: int
    warnings: int
    suite_errors: int  # failures the suites declare that no test case shows
    flaky: int
    duration_seconds: float
    report_sha256: str
    format: str
    doc_url: str | None
    recorded_by: str
    recorded_at: Instant
    # Where it is documented in Google Workspace: "filing pending", "report filed: ...".
    workspace: str | None = None
    drive_files: list[DriveFileOut] = []


class ReasonOut(Out):
    control: str
    ok: bool
    message: str
    waiver: str | None = None


class GateDecisionOut(Out):
    decision_id: int
    allowed: bool
    change: str
    environment: str
    commit: str
    artifact: str | None
    principal: str
    reasons: list[ReasonOut]
    obligations: list[str]
    policy_digest: str
    decided_at: Instant


class DeploymentOut(Out):
    id: int
    change: str
    environment: str
    kind: str
    commit: str
    artifact: str | None
    status: str
    run_url: str
    iac_path: str | None
    iac_sha256: str | None
    deployer: str
    gate_decision_id: int | None
    rollback_of: int | None
    reason: str
    started_at: Instant
    finished_at: Instant | None
    change_status: str


def testrun(
    r: TestRun, documented: tuple[str | None, list[DriveFileOut]] | None = None
) -> TestRunOut:
    workspace, files = documented or (None, [])
    return TestRunOut(
        id=r.id,
        change=r.change.key,
        environment=r.environment,
        isolated=r.isolated,
        commit=r.commit,
        artifact=r.artifact,
        ok=r.ok,
        verdict=r.verdict or testruns.judged(r, warnings_fail=True).why,
        tests=r.tests,
        executed=r.passed + r.failures + r.errors + r.warnings,
        passed=r.passed,
        failures=r.failures,
        errors=r.errors,
        skipped=r.skipped,
        not_run=r.not_run,
        warnings=r.warnings,
        suite_errors=r.suite_errors,
        flaky=r.flaky,
        duration_seconds=r.duration_seconds,
        report_sha256=r.report_sha256,
        format=r.report_format,
        doc_url=r.doc_url,
        recorded_by=r.recorded_by.email,
        recorded_at=r.recorded_at,
        workspace=workspace,
        drive_files=files,
    )


def recorded(ctx: Context, r: TestRun) -> TestRunOut:
    """A run as just recorded, with where it is documented."""
    return testrun(r, documentation(ctx, [r.id]).get(r.id))


def show_decision(ctx: Context, decision_id: int) -> GateDecisionOut:
    return decision(Pipeline(ctx.session).decision(decision_id))


def decision(d: GateDecisionRecord) -> GateDecisionOut:
    return GateDecisionOut(
        decision_id=d.id,
        allowed=d.allowed,
        change=d.change_key,
        environment=d.environment,
        commit=d.commit,
        artifact=d.artifact,
        principal=d.principal,
        reasons=[ReasonOut(**r) for r in d.reasons],
        obligations=d.obligations,
        policy_digest=d.policy_digest,
        decided_at=d.decided_at,
    )


def deployment(d: Deployment) -> DeploymentOut:
    return DeploymentOut(
        id=d.id,
        change=d.change.key,
        environment=d.environment,
        kind=d.kind,
        commit=d.commit,
        artifact=d.artifact,
        status=d.status,
        run_url=d.run_url,
        iac_path=d.iac_path,
        iac_sha256=d.iac_sha256,
        deployer=d.deployer.email,
        gate_decision_id=d.gate_decision_id,
        rollback_of=d.rollback_of_id,
        reason=d.reason,
        started_at=d.started_at,
        finished_at=d.finished_at,
        change_status=d.change.status,
    )


def test_runs(ctx: Context, key: str, limit: int, offset: int) -> Page[TestRunOut]:
    check_window(limit, offset)
    found = Pipeline(ctx.session).test_runs(Changes(ctx.session).get(key), limit, offset)
    docs = documentation(ctx, [r.id for r in found.rows])
    return Page.of([testrun(r, docs.get(r.id)) for r in found.rows], found.total, limit, offset)


def deployments(ctx: Context, key: str, limit: int, offset: int) -> Page[DeploymentOut]:
    check_window(limit, offset)
    found = Pipeline(ctx.session).deployments(Changes(ctx.session).get(key), limit, offset)
    return Page.of([deployment(d) for d in found.rows], found.total, limit, offset)
