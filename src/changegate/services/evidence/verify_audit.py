"""Offline checks of `audit/`: the facts agree with the populations (ids and instants), and
the rules re-performed over the facts alone give the manifest's digest."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from changegate.domain.audit import engine
from changegate.domain.audit.facts import AuditFacts
from changegate.services.evidence import codec
from changegate.services.evidence.formats import FACTS, RESULTS, cell, population_file
from changegate.services.evidence.reader import PackageReader, Unreadable
from changegate.services.evidence.results import reperform

SHOWN = 5
Pairs = set[tuple[str, str]]


def facts_of(package: PackageReader) -> tuple[dict[str, Any], AuditFacts]:
    document = package.json(FACTS)
    try:
        return document, codec.decode(AuditFacts, document["facts"])
    except (codec.Malformed, KeyError, TypeError):
        raise Unreadable(f"{FACTS}: not the audit facts changegate writes") from None


def against_populations(package: PackageReader, facts: AuditFacts) -> list[str]:
    """Each kind of fact the period holds is a population row (id and instant), and back."""
    period = facts.period
    inside = _inside(period.start, period.end)
    changes = {row["key"] for row in package.rows(population_file("changes"))}
    problems = [
        f"{FACTS}: change {key} is not in {population_file('changes')}"
        for key in sorted(set(facts.changes) - changes)[:SHOWN]
    ]
    approvals = {
        (str(a.id), cell(a.decided_at))
        for c in facts.changes.values()
        for a in c.approvals
        if inside(a.decided_at)
    }
    votes = {
        (str(a.id), cell(a.decided_at))
        for w in facts.waivers
        for a in w.approvals
        if inside(a.decided_at)
    }
    deployed = {(str(d.id), cell(d.started_at)) for d in facts.deployments}
    drifted = {(str(d.id), cell(d.detected_at)) for d in facts.drifts if inside(d.detected_at)}
    expected: tuple[tuple[str, Pairs, str, str, Any], ...] = (
        ("deployments", deployed, "id", "started_at", None),
        ("drifts", drifted, "id", "detected_at", None),
        ("approvals", approvals, "id", "decided_at", set(facts.changes)),
        ("waiver_approvals", votes, "id", "decided_at", None),
    )
    for name, fact_pairs, id_column, at_column, change_keys in expected:
        rows = _pairs(package, name, id_column, at_column, change_keys)
        problems += _differences(population_file(name), fact_pairs, rows)
    return problems


def _inside(start: datetime, end: datetime) -> Any:
    return lambda at: start <= at < end


def _pairs(
    package: PackageReader, name: str, id_column: str, at_column: str, keys: set[str] | None
) -> Pairs:
    return {
        (row[id_column], row[at_column])
        for row in package.rows(population_file(name))
        if keys is None or row.get("change_key") in keys
    }


def _differences(path: str, facts: Pairs, rows: Pairs) -> list[str]:
    out = [f"{FACTS}: {path} lacks {i} at {at}" for i, at in sorted(facts - rows)[:SHOWN]]
    out += [f"{FACTS}: lacks {path}'s {i} at {at}" for i, at in sorted(rows - facts)[:SHOWN]]
    return out


def reperformed(
    package: PackageReader, document: Mapping[str, Any], manifest: Mapping[str, Any]
) -> tuple[str, list[str]]:
    """(the digest re-performed from the facts, problems against the manifest and results)."""
    try:
        results = reperform(document)
    except (codec.Malformed, KeyError, TypeError):
        raise Unreadable(f"{FACTS}: not the audit facts changegate writes") from None
    digest = engine.digest(results)
    problems = []
    if digest != manifest["audit"]["digest"]:
        problems.append(f"{FACTS}: re-performed digest {digest} is not the manifest's")
    stated = package.json(RESULTS)
    listed = {(f.get("fingerprint"), f.get("waiver")) for f in _findings(stated)}
    if listed != {(r.draft.fingerprint, r.waiver) for r in results}:
        problems.append(f"{RESULTS}: lists other findings than the facts give")
    return digest, problems


def _findings(stated: Any) -> Iterable[dict[str, Any]]:
    found = stated.get("findings") if isinstance(stated, dict) else None
    if not isinstance(found, list):
        raise Unreadable(f"{RESULTS}: no list of findings")
    return [f for f in found if isinstance(f, dict)]
