"""The demo's pipeline evidence: a passing staging run for one approved change, so the gate has
something to allow, next to a change still awaiting approval, which it denies."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from changegate.db.changes import Changes
from changegate.domain.changes import ChangeStatus
from changegate.domain.evidence import TestReport
from changegate.services import testruns
from changegate.services.context import Context

COMMIT = "4f2c1a9e7d3b5a60c8e1f2a3b4c5d6e7f8091a2b"
REPORT = b'<testsuite name="regression" tests="42" failures="0" errors="0" skipped="0"/>'


@dataclass(frozen=True)
class GateExample:
    allowed: str  # an approved change with a passing staging run for COMMIT
    denied: str  # a change still awaiting approval
    commit: str = COMMIT


def seed_evidence(ctx: Context) -> GateExample:
    """As the pipeline: record the regression run the gate will find for the allowed change."""
    repo = Changes(ctx.session)
    approved = repo.list(ChangeStatus.APPROVED)
    waiting = repo.list(ChangeStatus.SUBMITTED)
    if not approved or not waiting:
        raise AssertionError("the demo quarter must leave an approved and a submitted change")
    report = TestReport(
        tests=42,
        passed=42,
        failures=0,
        errors=0,
        skipped=0,
        flaky=0,
        duration_seconds=318.4,
        suites=6,
        sha256=hashlib.sha256(REPORT).hexdigest(),
        format_hint="pytest",
    )
    testruns.record(
        ctx,
        approved[0].key,
        "staging",
        COMMIT,
        report,
        doc_url="https://docs.google.com/document/d/demo-regression-run",
        upload=REPORT,
    )
    return GateExample(allowed=approved[0].key, denied=waiting[0].key)
