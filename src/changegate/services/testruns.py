"""Regression-test evidence: a report bound to a change, an environment and a commit (CM-4)."""

from __future__ import annotations

from changegate.db.changes import Changes
from changegate.db.models import TestRun
from changegate.db.pipeline import Pipeline
from changegate.domain.errors import BadInput
from changegate.domain.evidence import TestReport
from changegate.domain.users import Role
from changegate.services.context import Context

MAX_COMMIT = 64


def check_commit(commit: str) -> str:
    value = commit.strip().lower()
    if not (7 <= len(value) <= MAX_COMMIT) or any(c not in "0123456789abcdef" for c in value):
        raise BadInput(f"not a commit SHA: {commit!r} (7 to 64 hex characters)")
    return value


def record(
    ctx: Context,
    key: str,
    environment: str,
    commit: str,
    report: TestReport,
    artifact: str | None = None,
    doc_url: str | None = None,
) -> TestRun:
    user = ctx.user_with(Role.PIPELINE)
    env = ctx.policy.environment(environment)
    change = Changes(ctx.session).get(key)
    if doc_url and not doc_url.startswith(("https://", "http://")):
        raise BadInput(f"--doc must be a URL, got {doc_url!r}")
    run = TestRun(
        change_id=change.id,
        environment=env.name,
        isolated=env.isolated,
        commit=check_commit(commit),
        artifact=artifact or None,
        tests=report.tests,
        passed=report.passed,
        failures=report.failures,
        errors=report.errors,
        skipped=report.skipped,
        flaky=report.flaky,
        duration_seconds=report.duration_seconds,
        report_sha256=report.sha256,
        report_format=report.format_hint,
        doc_url=doc_url,
        ok=report.ok,
        recorded_by_id=user.id,
        recorded_at=ctx.now,
    )
    Pipeline(ctx.session).add(run)
    ctx.record(
        "test_run.recorded",
        change.key,
        {
            "test_run_id": run.id,
            "environment": env.name,
            "isolated": env.isolated,
            "commit": run.commit,
            "artifact": run.artifact,
            "ok": run.ok,
            "tests": run.tests,
            "failures": run.failures,
            "errors": run.errors,
            "skipped": run.skipped,
            "flaky": run.flaky,
            "report_sha256": run.report_sha256,
            "doc_url": doc_url,
        },
    )
    return run
