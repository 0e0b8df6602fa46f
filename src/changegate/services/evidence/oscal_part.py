"""`oscal/assessment-results.json`: the period's audit as an OSCAL assessment-results document
whose observations pin the package's evidence files by SHA-256 (integrations/oscal.py).

Written last among the evidence (after the populations, the ledger, the policy and the
documents) so every file it cites is already hashed; the per-change folders are reached through
the populations and are not listed one by one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from changegate.domain.audit import engine
from changegate.domain.audit.facts import Result
from changegate.integrations.oscal import Assessment, EvidenceFile, FindingIn, assessment_results
from changegate.services.evidence.export_run import ExportRun
from changegate.services.evidence.formats import POLICY_DOCUMENT, compact

OSCAL = "oscal/assessment-results.json"
CITED = ("populations/", "policy/", "ledger/", "cab/", "reviews/")
MEDIA = {
    ".csv": "text/csv",
    ".json": "application/json",
    ".jsonl": "application/jsonl",
    ".html": "text/html",
    ".pdf": "application/pdf",
}
# Which population holds the records a finding's evidence names ("deployment:45").
POPULATION_OF = {
    "change": "changes",
    "approval": "approvals",
    "deployment": "deployments",
    "gate": "gate_decisions",
    "test_run": "test_runs",
    "drift": "drifts",
    "baseline": "baselines",
    "waiver": "waivers",
    "finding": "findings",
    "review": "reviews",
}


def _media(path: str) -> str:
    return next((m for s, m in MEDIA.items() if path.endswith(s)), "application/octet-stream")


def _cited(run: ExportRun) -> tuple[EvidenceFile, ...]:
    return tuple(
        EvidenceFile(e.path, e.sha256, _media(e.path), f"{e.path}, {e.size:,} bytes")
        for e in run.package.entries
        if e.path.startswith(CITED) and not e.path.endswith(".xlsx")
    )


def _evidence(result: Result, paths: set[str]) -> tuple[str, ...]:
    kinds = dict.fromkeys(e.split(":", 1)[0] for e in result.draft.evidence)
    files = (f"populations/{POPULATION_OF[k]}.csv" for k in kinds if k in POPULATION_OF)
    return tuple(dict.fromkeys(f for f in files if f in paths))


def write(run: ExportRun, results: Sequence[Result]) -> dict[str, Any]:
    files = _cited(run)
    paths = {f.path for f in files}
    plan = next(f for f in files if f.path == POLICY_DOCUMENT)
    period = run.period
    document = assessment_results(
        Assessment(
            title=f"changegate change-management audit, {period.name}",
            period=period.name,
            start=period.start,
            end=period.as_of,
            generated_at=run.ctx.now,
            plan=plan,
            controls=tuple(dict.fromkeys(control for control, _ in engine.RULES)),
            findings=tuple(
                FindingIn(
                    control=r.draft.control,
                    rule=r.draft.rule,
                    subject=r.draft.subject,
                    summary=r.draft.summary,
                    occurred_at=r.draft.occurred_at,
                    waiver=r.waiver,
                    evidence=_evidence(r, paths),
                )
                for r in sorted(results, key=lambda r: r.draft.fingerprint)
            ),
            files=files,
        )
    )
    run.package.write(OSCAL, compact(document))
    return {"oscal": OSCAL}
