"""Per-change folders: what an auditor pulls for a sampled change, in one place.

`changes/<KEY>/` holds `change.json` (the request's current state and its clocks),
`versions/<n>.json` (each version as submitted, with its hash) and, when there are any,
`approvals.json`, `test_runs.json` (the report's figures and SHA-256; `report_file` names
`test_reports/<sha256>.xml`, the report as uploaded, when changegate kept it: reports recorded
before version 0012 of the schema were kept as a hash only), `gate_decisions.json` (with reasons
and the policy digest), `deployments.json` (rollbacks included), `pir.json`, `findings.json`,
`waivers.json` and `aws_events.json` (the CloudTrail changes and attempts its pipeline sessions
named, each with its record as received). No file means none. A run documented in Google
Workspace lists its `drive_files` (file id, version, Drive's checksums, link); a verified Doc's
frozen PDF export and a filed summary are in `workspace/<sha256>.pdf|.html`, named by `file`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row

from changegate.db.documents import Documents
from changegate.db.evidence import ChangeRecords, Evidence
from changegate.db.models import Finding, Waiver, WorkspaceFile
from changegate.db.workspace import Workspace
from changegate.services.evidence.export_run import ExportRun
from changegate.services.evidence.formats import cell
from changegate.services.evidence.package import Package
from changegate.services.workspace import described

CHUNK = 500
Json = dict[str, Any]


def write(run: ExportRun) -> dict[str, Any]:
    """Write a folder per change active in the period; adds how many to the manifest."""
    ctx, package, period = run.ctx, run.package, run.period
    repo = Evidence(ctx.session)
    emails = repo.emails()
    findings = repo.findings_by_change(period.start, period.end)
    waivers = repo.waivers_by_change()
    files = Documents(ctx.session)
    count = 0
    for ids in repo.change_chunks(period.start, period.end, CHUNK):
        records = repo.records(ids)
        runs = _runs(records)
        drive: dict[int, list[WorkspaceFile]] = {}
        for row in Workspace(ctx.session).of_runs([t.id for t in runs]):
            drive.setdefault(row.test_run_id, []).append(row)
        reports = _Reports(files, files.stored([t.report_sha256 for t in runs]), drive)
        for change in records.changes:
            links = (findings.get(change.key, []), waivers.get(change.key.upper(), []))
            _folder(package, change, records, emails, links, reports)
        count += len(ids)
    run.progress(f"changes/: {count:,} changes")
    return {"changes": count}


def _folder(
    package: Package,
    change: Row[Any],
    records: ChangeRecords,
    emails: dict[int, str],
    links: tuple[Sequence[Finding], Sequence[Waiver]],
    reports: _Reports,
) -> None:
    home = f"changes/{change.key}"
    reports.write(package, change.key, records.test_runs[change.id])

    def test_run(t: Row[Any]) -> Json:
        kept = t.report_sha256 in reports.kept
        return {
            **_test_run(t),
            "report_file": report_file(change.key, t.report_sha256) if kept else None,
            "drive_files": reports.drive_files(package, change.key, t.id),
        }

    package.write_json(f"{home}/change.json", _change(change, emails), pretty=False)
    for v in records.versions[change.id]:
        package.write_json(f"{home}/versions/{v.version}.json", _version(v, emails), pretty=False)
    parts: tuple[tuple[str, Sequence[Any], Callable[[Any], Json]], ...] = (
        ("approvals", records.approvals[change.id], _approval),
        ("test_runs", records.test_runs[change.id], test_run),
        ("gate_decisions", records.gate_decisions[change.id], _gate_decision),
        ("deployments", records.deployments[change.id], _deployment),
        ("pir", records.pirs[change.id], _pir),
        ("findings", links[0], _finding),
        ("waivers", links[1], _waiver),
        ("aws_events", records.aws_events[change.id], _aws_event),
    )
    for name, rows, shape in parts:  # no file: none (a year has tens of thousands of changes)
        if rows:
            package.write_json(f"{home}/{name}.json", [shape(r) for r in rows], pretty=False)


def _runs(records: ChangeRecords) -> list[Any]:
    return [t for runs in records.test_runs.values() for t in runs]


@dataclass(frozen=True)
class _Reports:
    """The test reports kept as uploaded, written beside the change's `test_runs.json`."""

    files: Documents
    kept: set[str]
    drive: dict[int, list[WorkspaceFile]]
    written: set[str] = field(default_factory=set)  # one Doc may document several runs

    def write(self, package: Package, key: str, runs: Sequence[Any]) -> None:
        for sha in sorted({t.report_sha256 for t in runs} & self.kept):
            package.write(report_file(key, sha), self.files.file(sha) or b"")

    def drive_files(self, package: Package, key: str, run_id: int) -> list[Json]:
        """A run's Drive files; a Doc's frozen PDF and a filed summary written beside them
        (the filed report is `report_file`)."""
        shown = []
        for row in self.drive.get(run_id, []):
            name = None
            if row.role != "report":
                suffix = "pdf" if row.role == "doc" else "html"
                name = f"changes/{key}/workspace/{row.content_sha256}.{suffix}"
                if name not in self.written:
                    package.write(name, self.files.file(row.content_sha256) or b"")
                    self.written.add(name)
            shown.append({**described(row), "file": name})
        return shown


def report_file(key: str, sha256: str) -> str:
    return f"changes/{key}/test_reports/{sha256}.xml"


def _change(c: Row[Any], emails: dict[int, str]) -> Json:
    return {
        "key": c.key,
        "title": c.title,
        "requester": c.requester,
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


def _version(v: Row[Any], emails: dict[int, str]) -> Json:
    return {
        "version": v.version,
        "hash": v.hash,
        "created_at": cell(v.created_at),
        "created_by": v.created_by,
        "fields": v.fields,
    }


def _approval(a: Row[Any]) -> Json:
    return {
        "id": a.id,
        "version": a.version,
        "role": a.role,
        "decision": a.decision,
        "approver": a.approver,
        "retroactive": a.retroactive,
        "decided_at": cell(a.decided_at),
        "comment": a.comment,
    }


def _test_run(t: Row[Any]) -> Json:
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
        "doc_url": t.doc_url,
        "recorded_by": t.recorded_by,
        "recorded_at": cell(t.recorded_at),
    }


def _gate_decision(g: Row[Any]) -> Json:
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


def _deployment(d: Row[Any]) -> Json:
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
        "deployer": d.deployer,
        "gate_decision_id": d.gate_decision_id,
        "rollback_of": d.rollback_of_id,
        "reason": d.reason,
        "started_at": cell(d.started_at),
        "finished_at": cell(d.finished_at) or None,
    }


def _pir(r: Row[Any]) -> Json:
    return {
        "id": r.id,
        "author": r.author,
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


AWS_EVENT = (
    *("event_id", "environment", "account", "region", "event_source", "event_name", "kind"),
    *("error_code", "actor_kind", "principal", "actor_name", "source", "position"),
)


def _aws_event(e: Row[Any]) -> Json:
    shown = {name: getattr(e, name) for name in AWS_EVENT}
    return {**shown, "event_time": cell(e.event_time), "record": json.loads(e.raw)}
