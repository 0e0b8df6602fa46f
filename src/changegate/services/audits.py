"""Run the audit: re-perform every detective rule over a period and keep the findings.

A finding is stored once per fingerprint (rule + subject), however often the audit runs, so a
re-run is idempotent; each run is kept with a digest an auditor can reproduce. New findings are
reported to the ISO and HR through the outbox in the same transaction (VIO-1).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from changegate.db.findings import Findings
from changegate.db.models import AuditRun, Finding
from changegate.domain.audit import engine
from changegate.domain.audit.facts import AuditFacts, Period, Result
from changegate.domain.findings import UNDECIDED, FindingAction, FindingStatus, transition
from changegate.domain.periods import Span, parse, previous_quarter, quarter_of
from changegate.domain.users import Role
from changegate.services import audit_facts, state_checks
from changegate.services.context import Context
from changegate.services.ledger_replay_detective import finding_sha256
from changegate.services.notifications import Message, enqueue_many
from changegate.services.views import audits as out
from changegate.services.views.audits import AuditOut


@dataclass(frozen=True)
class Outcome:
    run: AuditRun
    findings: list[Finding]
    raised: list[str]


def period_for(ctx: Context, text: str | None) -> Period:
    """A named period, or the current quarter; deadlines count only up to now."""
    span: Span = parse(text if text else quarter_of(ctx.now))
    return Period(span.name, span.start, span.end, min(ctx.now, span.end))


def run(ctx: Context, period_text: str | None = None) -> Outcome:
    period = period_for(ctx, period_text)
    repo = Findings(ctx.session)
    run_row = repo.add_run(
        AuditRun(
            period=period.name,
            period_start=period.start,
            period_end=period.end,
            as_of=period.as_of,
            actor=ctx.actor,
            started_at=ctx.now,
            rules=sorted({rule.__name__ for _, rule in engine.RULES}),
            counts={},
            digest="",
        )
    )
    results = engine.evaluate(audit_facts.load(ctx, period))
    moved: list[dict[str, object]] = []  # what `ledger verify --state` re-derives findings from
    stored, raised = _store(ctx, run_row, results, moved)
    # VIO-1 reads the findings just stored (and earlier ones): was each reported, remediated?
    violations = engine.evaluate_violations(
        AuditFacts(
            period=period,
            settings=audit_facts.settings(ctx, period),
            findings=audit_facts.findings(ctx, period),
        )
    )
    more, more_raised = _store(ctx, run_row, violations, moved)
    every = results + violations
    run_row.digest = engine.digest(every)
    counts = _counts(every, raised + more_raised)
    warnings = state_checks.warnings(ctx.session, period.as_of)
    # The row keeps its warnings inside `counts` (JSON): no schema change for one list.
    run_row.counts = counts | {"warnings": warnings}
    run_row.not_checked = audit_facts.not_checked(ctx)
    ctx.session.flush()
    ctx.record(
        "audit.run",
        f"audit:{run_row.id}",
        {
            "period": period.name,
            "as_of": period.as_of.isoformat(),
            "digest": run_row.digest,
            "counts": counts,
            "raised": sorted(raised + more_raised),
            "not_checked": run_row.not_checked,
            "warnings": warnings,
            "findings": moved,
        },
    )
    return Outcome(run_row, stored + more, raised + more_raised)


def run_due(ctx: Context) -> list[Outcome]:
    """The worker's job: the current quarter and the one before (late records land there)."""
    current = quarter_of(ctx.now)
    return [run(ctx, previous_quarter(current)), run(ctx, current)]


def _counts(results: Sequence[Result], raised: Sequence[str]) -> dict[str, object]:
    return {
        "findings": len(results),
        "suppressed": sum(1 for r in results if r.waiver),
        "raised": len(raised),
        "by_control": dict(sorted(Counter(r.draft.control for r in results).items())),
    }


def _store(
    ctx: Context, run_row: AuditRun, results: Sequence[Result], moved: list[dict[str, object]]
) -> tuple[list[Finding], list[str]]:
    """Store new findings and move undecided ones; `moved` gets a ledger entry for each."""
    repo = Findings(ctx.session)
    existing = repo.by_fingerprint([r.draft.fingerprint for r in results])
    fresh = [r for r in results if r.draft.fingerprint not in existing]
    numbers = repo.next_numbers(len(fresh)) if fresh else []
    created = [_new(ctx, run_row, r, n) for r, n in zip(fresh, numbers, strict=True)]
    seen_again = []
    for result in results:
        found = existing.get(result.draft.fingerprint)
        if found is None:
            continue
        was = found.status
        if _refresh(ctx, found, result):
            reported = was == FindingStatus.SUPPRESSED and found.status == FindingStatus.OPEN
            moved.append(
                {"key": found.key, "status": found.status, "waiver": found.waiver_key}
                | {"reported": reported}
            )
        else:
            seen_again.append(found)
    repo.touch(seen_again, ctx.now)
    # Reported before the insert, so `reported_at` goes out with it: set after it, it would cost
    # an UPDATE per finding (the ORM updates versioned rows one at a time).
    _report(ctx, [f for f in created if f.status == FindingStatus.OPEN])
    repo.add_all(created)
    moved.extend(_entry(f) for f in created)
    stored = created + [
        existing[r.draft.fingerprint] for r in results if r.draft.fingerprint in existing
    ]
    return stored, [f.key for f in created]


def _entry(f: Finding) -> dict[str, object]:
    """A new finding as the ledger states it: all but its sighting times, and a digest of what
    it says (`ledger_replay_detective.finding_sha256`)."""
    return {
        "key": f.key,
        "control": f.control,
        "rule": f.rule,
        "subject": f.subject,
        "occurred_at": f.occurred_at.isoformat(),
        "status": f.status,
        "waiver": f.waiver_key,
        "reported": f.reported_at is not None,
        "sha256": finding_sha256(f.fingerprint, f.summary, f.evidence, f.attributes),
    }


def _new(ctx: Context, run_row: AuditRun, result: Result, number: int) -> Finding:
    d = result.draft
    status = FindingStatus.SUPPRESSED if result.waiver else FindingStatus.OPEN
    return Finding(
        number=number,
        key=f"FND-{number}",
        fingerprint=d.fingerprint,
        control=d.control,
        rule=d.rule,
        subject=d.subject,
        summary=d.summary,
        evidence=list(d.evidence),
        attributes=dict(d.attributes),
        status=status.value,
        waiver_key=result.waiver,
        occurred_at=d.occurred_at,
        first_detected_at=ctx.now,
        last_detected_at=ctx.now,
        first_run_id=run_row.id,
    )


def _refresh(ctx: Context, finding: Finding, result: Result) -> bool:
    """A re-run never duplicates; it only moves an undecided finding in or out of a waiver.

    False when the finding was only seen again: the caller records those sightings in one
    statement, where the ORM would update each versioned row on its own.
    """
    status = FindingStatus(finding.status)
    suppress = bool(result.waiver) and status is FindingStatus.OPEN
    unsuppress = not result.waiver and status is FindingStatus.SUPPRESSED
    if status not in UNDECIDED or not (
        suppress or unsuppress or finding.waiver_key != result.waiver
    ):
        return False
    finding.last_detected_at = ctx.now
    if suppress:
        finding.status = transition(status, FindingAction.SUPPRESS).value
    elif unsuppress:
        finding.status = transition(status, FindingAction.UNSUPPRESS).value
        _report(ctx, [finding])
    finding.waiver_key = result.waiver
    return True


def _report(ctx: Context, findings: Sequence[Finding]) -> None:
    if not findings:
        return
    messages = [
        Message(
            audit_facts.report_key(f.key),
            f"[changegate] {f.key} {f.control} violation: {f.subject}",
            f"{f.summary}\n\nRule: {f.rule}\nOccurred: {f.occurred_at.isoformat()}\n"
            f"Evidence: {', '.join(f.evidence)}\n\n"
            f"Confirm or dismiss it: changegate finding show {f.key}",
        )
        for f in findings
    ]
    enqueue_many(ctx, messages, (Role.ISO, Role.HR))
    for f in findings:
        f.reported_at = ctx.now


def run_requested(ctx: Context, period_text: str | None) -> Outcome:
    """A person runs the audit: the ISO or an admin (auditors re-perform with `preview`)."""
    ctx.user_with(Role.ISO, Role.ADMIN)
    return run(ctx, period_text)


def summary(outcome: Outcome) -> AuditOut:
    ordered = sorted(outcome.findings, key=lambda f: (f.occurred_at, f.fingerprint))
    return AuditOut(run=out.run(outcome.run), findings=[out.stored_finding(f) for f in ordered])


def preview(ctx: Context, period_text: str | None) -> AuditOut:
    """Evaluate without storing anything: what an auditor re-performs from the records."""
    ctx.user_with(Role.ISO, Role.ADMIN, Role.AUDITOR)
    period = period_for(ctx, period_text)
    results = engine.evaluate(audit_facts.load(ctx, period))
    results += engine.evaluate_violations(
        AuditFacts(
            period=period,
            settings=audit_facts.settings(ctx, period),
            findings=audit_facts.findings(ctx, period),
        )
    )
    stored = Findings(ctx.session).by_fingerprint([r.draft.fingerprint for r in results])
    run_row = out.AuditRunOut(
        id=None,
        period=period.name,
        as_of=period.as_of,
        started_at=None,
        actor=None,
        digest=engine.digest(results),
        counts=out.AuditCountsOut.model_validate(_counts(results, [])),
        rules=sorted({rule.__name__ for _, rule in engine.RULES}),
        not_checked=audit_facts.not_checked(ctx),
        warnings=state_checks.warnings(ctx.session, period.as_of),
        stored=False,
    )
    drafts = [out.draft_finding(r, stored.get(r.draft.fingerprint)) for r in results]
    return AuditOut(run=run_row, findings=drafts)
