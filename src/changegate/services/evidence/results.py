"""The audit's results as the package writes them, and re-performing them from the facts.
Pure (the domain and the codec): the offline verifier imports it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from changegate.domain.audit import engine
from changegate.domain.audit.facts import AuditFacts, Result
from changegate.services.evidence import codec
from changegate.services.evidence.formats import FACTS_FORMAT, cell


def facts_document(facts: AuditFacts, violations: AuditFacts) -> dict[str, Any]:
    return {
        "format": FACTS_FORMAT,
        "facts": codec.encode(facts),
        "violation_facts": codec.encode(violations),
    }


def reperform(document: Mapping[str, Any]) -> list[Result]:
    """Every rule over `audit/facts.json`'s two fact sets, as `audit run` does. Raises
    codec.Malformed for a document of another shape."""
    if document.get("format") != FACTS_FORMAT:
        raise codec.Malformed(f"not {FACTS_FORMAT}")
    facts = codec.decode(AuditFacts, document["facts"])
    violations = codec.decode(AuditFacts, document["violation_facts"])
    return engine.evaluate(facts) + engine.evaluate_violations(violations)


def count(results: Sequence[Result]) -> dict[str, Any]:
    return {
        "findings": len(results),
        "suppressed": sum(1 for r in results if r.waiver),
        "by_control": dict(sorted(Counter(r.draft.control for r in results).items())),
    }


def shape(result: Result) -> dict[str, Any]:
    d = result.draft
    return {
        "fingerprint": d.fingerprint,
        "control": d.control,
        "rule": d.rule,
        "subject": d.subject,
        "summary": d.summary,
        "evidence": list(d.evidence),
        "occurred_at": cell(d.occurred_at),
        "attributes": dict(d.attributes),
        "waiver": result.waiver,
    }
