"""`audit/`: the audit's inputs for the period and what the engine finds in them, computed
live at export time, as `audit run` and `audit run --dry-run` compute them.

`audit/facts.json` holds two `AuditFacts` in the codec's JSON: `facts` (what every rule but
VIO-1 reads) and `violation_facts` (the stored findings VIO-1 reads). Re-performing is
`engine.evaluate(facts) + engine.evaluate_violations(violation_facts)`, then `engine.digest`
(`results.reperform`).
"""

from __future__ import annotations

from typing import Any

from changegate.domain.audit import engine
from changegate.domain.audit.facts import AuditFacts
from changegate.services import audit_facts
from changegate.services.evidence import oscal_part
from changegate.services.evidence.export_run import ExportRun
from changegate.services.evidence.formats import FACTS, RESULTS, compact
from changegate.services.evidence.results import count, facts_document, shape


def write(run: ExportRun) -> dict[str, Any]:
    ctx, period = run.ctx, run.period
    facts = audit_facts.load(ctx, period)
    violations = AuditFacts(
        period=period,
        settings=audit_facts.settings(ctx, period),
        findings=audit_facts.findings(ctx, period),
    )
    results = engine.evaluate(facts) + engine.evaluate_violations(violations)
    digest = engine.digest(results)
    run.package.write(FACTS, compact(facts_document(facts, violations)))
    counts = count(results)
    run.package.write_json(
        RESULTS, {"digest": digest, "counts": counts, "findings": [shape(r) for r in results]}
    )
    run.progress(f"audit/: {counts['findings']:,} findings, digest {digest[:16]}")
    return {"audit": {"digest": digest, "counts": counts}} | oscal_part.write(run, results)
