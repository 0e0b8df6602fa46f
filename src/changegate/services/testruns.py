"""Regression-test evidence: a report bound to a change, an environment and a commit (CM-4)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from changegate.db.changes import Changes
from changegate.db.documents import Documents
from changegate.db.models import TestRun
from changegate.db.pipeline import Pipeline
from changegate.domain.errors import BadInput
from changegate.domain.evidence import TestReport, Verdict, judge
from changegate.domain.gate import Evidence
from changegate.domain.users import Role
from changegate.integrations.ports import Drive
from changegate.services import workspace
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
    upload: bytes | None = None,
    *,
    file_in_drive: bool | None = None,
    drive: Drive | None = None,
) -> TestRun:
    """Record a test run; `upload`, the report's bytes as uploaded, is kept by its SHA-256
    (which must be the report's) for the evidence package. With a shared drive in the policy,
    `doc_url` must be a Doc or Sheet there: it is verified and frozen through `drive` first.
    `file_in_drive` (None: the policy's workspace.upload) queues the filing of the run there."""
    user = ctx.user_with(Role.PIPELINE)
    env = ctx.policy.environment(environment)
    change = Changes(ctx.session).get(key)
    if doc_url and not doc_url.startswith(("https://", "http://")):
        raise BadInput(f"--doc must be a URL, got {doc_url!r}")
    filing = ctx.policy.workspace.upload if file_in_drive is None else file_in_drive
    frozen = _verified(ctx, doc_url, drive, filing)
    verdict = report.verdict(warnings_fail=ctx.policy.tests.warnings == "fail")
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
        not_run=report.not_run,
        warnings=report.warnings,
        suite_errors=report.suite_errors,
        flaky=report.flaky,
        duration_seconds=report.duration_seconds,
        report_sha256=report.sha256,
        report_format=report.format_hint,
        doc_url=doc_url,
        ok=verdict.passing,
        verdict=verdict.why,
        recorded_by_id=user.id,
        recorded_at=ctx.now,
    )
    if upload is not None:
        if hashlib.sha256(upload).hexdigest() != report.sha256:
            raise BadInput("the uploaded report is not the report read (SHA-256 differs)")
        Documents(ctx.session).keep_file(report.sha256, upload, ctx.now)
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
            "verdict": run.verdict,
            "tests": run.tests,
            "passed": run.passed,
            "failures": run.failures,
            "errors": run.errors,
            "skipped": run.skipped,
            "not_run": run.not_run,
            "warnings": run.warnings,
            "suite_errors": run.suite_errors,
            "flaky": run.flaky,
            "report_sha256": run.report_sha256,
            "doc_url": doc_url,
        },
    )
    if frozen is not None:
        workspace.keep_doc(ctx, run, change.key, frozen)
    if filing:
        workspace.queue_filing(ctx, run, change.key)
    return run


def _verified(
    ctx: Context, doc_url: str | None, drive: Drive | None, filing: bool
) -> workspace.FrozenDoc | None:
    """The Doc a run cites, verified before anything is written; None when the policy names
    no shared drive (the link is then kept as given) or none is cited."""
    wanted = bool(doc_url) and ctx.policy.workspace.shared_drive is not None
    if filing:
        workspace.shared_drive(ctx.policy)
    if (wanted or filing) and drive is None:
        raise BadInput(
            "Google Drive is not configured: set CHANGEGATE_GOOGLE_CREDENTIALS (docs/workspace.md)"
        )
    if not wanted or doc_url is None or drive is None:
        return None
    return workspace.verify_doc(drive, ctx.policy, doc_url)


class Figures(Protocol):
    """A stored run's figures: a TestRun, or a row selecting the same columns."""

    id: int
    environment: str
    isolated: bool
    commit: str
    artifact: str | None
    ok: bool
    recorded_at: datetime
    passed: int
    failures: int
    errors: int
    skipped: int
    not_run: int
    warnings: int
    suite_errors: int


def as_evidence(ctx: Context, runs: Iterable[Figures]) -> list[Evidence]:
    """Stored runs as CM-4 sees them, for the gate and the audit alike. Isolation and the
    verdict are judged by the policy in force now as well as when the run was recorded: an
    environment demoted from isolated, or a rule made stricter, applies to old runs too."""
    isolated = {e.name for e in ctx.policy.environments if e.isolated}
    strict = ctx.policy.tests.warnings == "fail"
    found = []
    for r in runs:
        verdict = judged(r, strict)
        found.append(
            Evidence(
                r.id,
                r.environment,
                r.isolated and r.environment in isolated,
                r.commit,
                r.artifact,
                r.ok and verdict.passing,
                r.recorded_at,
                verdict.why,
            )
        )
    return found


def judged(run: Figures, warnings_fail: bool) -> Verdict:
    """A stored run judged again from its figures under a policy."""
    return judge(
        run.passed,
        run.failures,
        run.errors,
        run.skipped,
        run.not_run,
        run.warnings,
        run.suite_errors,
        warnings_fail,
    )
