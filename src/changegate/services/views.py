"""Read models: what `show`, `list` and (later) the API return, as plain JSON-ready dicts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from changegate.db.changes import Changes
from changegate.db.models import Approval, Change, Deployment, GateDecisionRecord, TestRun
from changegate.services.approvals import current_tally
from changegate.services.context import Context
from changegate.services.lifecycle import OverdueChange


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def summary(change: Change) -> dict[str, Any]:
    return {
        "key": change.key,
        "title": change.title,
        "status": change.status,
        "type": change.change_type,
        "risk": change.risk,
        "version": change.version,
        "requester": change.requester.email,
        "ticket": change.ticket,
        "created_at": iso(change.created_at),
        "updated_at": iso(change.updated_at),
    }


def _approval(a: Approval, version: int) -> dict[str, Any]:
    return {
        "approver": a.approver.email,
        "role": a.role,
        "decision": a.decision,
        "version": a.version,
        "counts": a.version == version,
        "comment": a.comment,
        "retroactive": a.retroactive,
        "at": iso(a.decided_at),
    }


def detail(ctx: Context, change: Change) -> dict[str, Any]:
    repo = Changes(ctx.session)
    result = current_tally(ctx, change)
    return summary(change) | {
        "version_hash": change.version_hash,
        "scope": change.scope,
        "impact": change.impact,
        "rollback_plan": change.rollback_plan,
        "justification": change.justification,
        "affected_services": change.affected_services,
        "environments": change.environments,
        "customer_impact": change.customer_impact,
        "expected_downtime_minutes": change.expected_downtime_minutes,
        "window": {"start": iso(change.window_start), "end": iso(change.window_end)},
        "commit_authors": change.commit_authors,
        "approvals": [_approval(a, change.version) for a in repo.approvals(change)],
        "awaiting": result.missing() if change.status == "submitted" else [],
        "submitted_at": iso(change.submitted_at),
        "approved_at": iso(change.approved_at),
        "implemented_at": iso(change.implemented_at),
        "closed_at": iso(change.closed_at),
        "due": {
            "retro_approval": iso(change.retro_due_at),
            "pir": iso(change.pir_due_at),
            "calendar": change.due_calendar,
            "retro_approved_at": iso(change.retro_approved_at),
            "pir_recorded_at": iso(change.pir_recorded_at),
        },
        "reviews": [
            {
                "kind": r.kind,
                "author": r.author.email,
                "summary": r.summary,
                "at": iso(r.recorded_at),
            }
            for r in repo.reviews(change)
        ],
    }


def overdue_rows(items: list[OverdueChange]) -> list[dict[str, Any]]:
    return [
        {
            "key": o.change.key,
            "title": o.change.title,
            "obligation": i.obligation,
            "due_at": iso(i.due_at),
            "requester": o.change.requester.email,
        }
        for o in items
        for i in o.items
    ]


def test_run(r: TestRun) -> dict[str, Any]:
    return {
        "id": r.id,
        "change": r.change_id,
        "environment": r.environment,
        "isolated": r.isolated,
        "commit": r.commit,
        "artifact": r.artifact,
        "ok": r.ok,
        "tests": r.tests,
        "passed": r.passed,
        "failures": r.failures,
        "errors": r.errors,
        "skipped": r.skipped,
        "flaky": r.flaky,
        "duration_seconds": r.duration_seconds,
        "report_sha256": r.report_sha256,
        "format": r.report_format,
        "doc_url": r.doc_url,
        "recorded_by": r.recorded_by.email,
        "recorded_at": iso(r.recorded_at),
    }


def decision(d: GateDecisionRecord) -> dict[str, Any]:
    return {
        "decision_id": d.id,
        "allowed": d.allowed,
        "change": d.change_key,
        "environment": d.environment,
        "commit": d.commit,
        "artifact": d.artifact,
        "principal": d.principal,
        "reasons": d.reasons,
        "obligations": d.obligations,
        "policy_digest": d.policy_digest,
        "decided_at": iso(d.decided_at),
    }


def deployment(d: Deployment) -> dict[str, Any]:
    return {
        "id": d.id,
        "change": d.change.key,
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
        "started_at": iso(d.started_at),
        "finished_at": iso(d.finished_at),
        "change_status": d.change.status,
    }
