"""Per-change folders: what an auditor pulls for a sampled change, in one place.

`changes/<KEY>/` holds `change.json` (the request's current state and its clocks),
`versions/<n>.json` (each version as submitted, with its hash), `approvals.json`,
`test_runs.json` (the report's SHA-256 as uploaded; changegate keeps the hash and the report's
figures, not the report's bytes), `gate_decisions.json` (with reasons and the policy digest),
`deployments.json` (rollbacks included), and when there are any `pir.json`, `findings.json`
and `waivers.json`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from changegate.db.evidence import ChangeRecords, Evidence
from changegate.db.models import (
    Approval,
    Change,
    ChangeVersion,
    Deployment,
    Finding,
    GateDecisionRecord,
    Review,
    TestRun,
    Waiver,
)
from changegate.services.evidence.export_run import ExportRun
from changegate.services.evidence.formats import cell
from changegate.services.evidence.package import Package

CHUNK = 500
Json = dict[str, Any]


def write(run: ExportRun) -> dict[str, Any]:
    """Write a folder per change active in the period; adds how many to the manifest."""
    ctx, package, period = run.ctx, run.package, run.period
    repo = Evidence(ctx.session)
    emails = repo.emails()
    findings = repo.findings_by_change(period.start, period.end)
    waivers = repo.waivers_by_change()
    count = 0
    for ids in repo.change_chunks(period.start, period.end, CHUNK):
        records = repo.records(ids)
        for change in records.changes:
            links = (findings.get(change.key, []), waivers.get(change.key.upper(), []))
            _folder(package, change, records, emails, links)
        count += len(ids)
        # The session holds what it loaded until told to forget: a year would fill memory.
        ctx.session.expunge_all()
    run.progress(f"changes/: {count:,} changes")
    return {"changes": count}


def _folder(
    package: Package,
    change: Change,
    records: ChangeRecords,
    emails: dict[int, str],
    links: tuple[Sequence[Finding], Sequence[Waiver]],
) -> None:
    home = f"changes/{change.key}"
    package.write_json(f"{home}/change.json", _change(change, emails))
    for v in records.versions[change.id]:
        package.write_json(f"{home}/versions/{v.version}.json", _version(v, emails))
    parts: tuple[tuple[str, Sequence[Any], Callable[[Any], Json]], ...] = (
        ("approvals", records.approvals[change.id], _approval),
        ("test_runs", records.test_runs[change.id], _test_run),
        ("gate_decisions", records.gate_decisions[change.id], _gate_decision),
        ("deployments", records.deployments[change.id], _deployment),
    )
    for name, rows, shape in parts:
        package.write_json(f"{home}/{name}.json", [shape(r) for r in rows])
    optional: tuple[tuple[str, Sequence[Any], Callable[[Any], Json]], ...] = (
        ("pir", records.pirs[change.id], _pir),
        ("findings", links[0], _finding),
        ("waivers", links[1], _waiver),
    )
    for name, rows, shape in optional:
        if rows:
            package.write_json(f"{home}/{name}.json", [shape(r) for r in rows])


def _change(c: Change, emails: dict[int, str]) -> Json:
    return {
        "key": c.key,
        "title": c.title,
        "requester": c.requester.email,
        "status": c.status,
        "change_type": c.change_type,
        "risk": c.risk,
        "version": c.version,
        "version_hash": c.version_hash,
        "ticket": c.ticket,
        "commit_authors": list(c.commit_authors),
        "implemented_by": emails.get(c.implemented_by_id) if c.implemented_by_id else None,
        "due_calendar": c.due_calendar,
        **{
            name: cell(getattr(c, name)) or None
            for name in (
                "window_start",
                "window_end",
                "created_at",
                "submitted_at",
                "approved_at",
                "implemented_at",
                "closed_at",
                "retro_due_at",
                "retro_approved_at",
                "pir_due_at",
                "pir_recorded_at",
            )
        },
    }


def _version(v: ChangeVersion, emails: dict[int, str]) -> Json:
    return {
        "version": v.version,
        "hash": v.hash,
        "created_at": cell(v.created_at),
        "created_by": emails.get(v.created_by_id),
        "fields": v.fields,
    }


def _approval(a: Approval) -> Json:
    return {
        "id": a.id,
        "version": a.version,
        "role": a.role,
        "decision": a.decision,
        "approver": a.approver.email,
        "retroactive": a.retroactive,
        "decided_at": cell(a.decided_at),
        "comment": a.comment,
    }


def _test_run(t: TestRun) -> Json:
    figures = ("tests", "passed", "failures", "errors", "skipped", "not_run", "warnings")
    return {
        "id": t.id,
        "environment": t.environment,
        "isolated": t.isolated,
        "commit": t.commit,
        "artifact": t.artifact,
        "ok": t.ok,
        "verdict": t.verdict,
        **{f: getattr(t, f) for f in (*figures, "suite_errors", "flaky", "duration_seconds")},
        "report_sha256": t.report_sha256,
        "report_format": t.report_format,
        "report_stored": False,
        "doc_url": t.doc_url,
        "recorded_by": t.recorded_by.email,
        "recorded_at": cell(t.recorded_at),
    }


def _gate_decision(g: GateDecisionRecord) -> Json:
    return {
        "id": g.id,
        "environment": g.environment,
        "commit": g.commit,
        "artifact": g.artifact,
        "principal": g.principal,
        "allowed": g.allowed,
        "reasons": g.reasons,
        "obligations": g.obligations,
        "inputs": g.inputs,
        "policy_digest": g.policy_digest,
        "source": g.source,
        "decided_at": cell(g.decided_at),
    }


def _deployment(d: Deployment) -> Json:
    return {
        "id": d.id,
        "environment": d.environment,
        "kind": d.kind,
        "commit": d.commit,
        "artifact": d.artifact,
        "status": d.status,
        "run_url": d.run_url,
        "iac_path": d.iac_path,
        "iac_sha256": d.iac_sha256,
        "deployer": d.deployer.email,
        "gate_decision_id": d.gate_decision_id,
        "rollback_of": d.rollback_of_id,
        "reason": d.reason,
        "started_at": cell(d.started_at),
        "finished_at": cell(d.finished_at) or None,
    }


def _pir(r: Review) -> Json:
    return {
        "id": r.id,
        "author": r.author.email,
        "recorded_at": cell(r.recorded_at),
        "summary": r.summary,
    }


def _finding(f: Finding) -> Json:
    return {
        "key": f.key,
        "control": f.control,
        "rule": f.rule,
        "subject": f.subject,
        "status": f.status,
        "waiver": f.waiver_key,
        "summary": f.summary,
        "evidence": f.evidence,
        "occurred_at": cell(f.occurred_at),
        "remediation_due_at": cell(f.remediation_due_at) or None,
        "remediated_at": cell(f.remediated_at) or None,
    }


def _waiver(w: Waiver) -> Json:
    return {
        "key": w.key,
        "status": w.status,
        "controls": w.controls,
        "round": w.round,
        "justification": w.justification,
        "compensating_controls": w.compensating_controls,
        "periods": w.periods,
        "expires_at": cell(w.expires_at) or None,
        "approvals": [
            {
                "round": a.round,
                "role": a.role,
                "decision": a.decision,
                "approver": a.approver.email,
                "decided_at": cell(a.decided_at),
            }
            for a in w.approvals
        ],
    }
