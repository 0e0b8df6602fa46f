"""What the ISO signs once a year: the policy review's report (POL-1) and the configuration
management report (CFG-5), built from the records alone.

Every value is fixed once the year has ended (deadlines and clocks are judged as of the year's
end, never as of "now"), so the same records give the same report, and the same SHA-256,
however long after the preview the ISO signs. Each population carries its row count and the
SHA-256 of its rows' canonical JSON (RFC 8785), so the ISO attests a definite dataset.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from changegate import ledger
from changegate.db.review_records import ReviewRecords
from changegate.domain.audit import rules_config
from changegate.domain.audit.facts import AuditFacts, ObservedFact, Period
from changegate.domain.audit.rules_annual import (
    CONFIG_ANNUAL,
    CONFIG_REVIEW,
    POLICY_ANNUAL,
    POLICY_REVIEW,
)
from changegate.services import audit_facts
from changegate.services.context import Context

# The clause the policy review answers, quoted from the Change Management Policy; the policy
# file (default_policy.yaml) carries the controls, not the document's prose.
SCOPE_SOURCE = "Change Management Policy, Applicability and Scope"
SCOPE = (
    "This Change Management Policy applies to all Casper Studios employees, contractors, and "
    "third-party service providers managing or deploying changes in AWS production, staging, "
    "and development environments using company-provided laptops and remote access. It covers "
    "code, infrastructure, configuration, and system dependencies, with all documentation "
    "stored in Google Workspace and Linear. The Information Security Officer shall review this "
    "policy annually to ensure ongoing SOC 2 compliance."
)
OPEN, CLOSED = ("open", "confirmed"), ("closed", "dismissed")


def population(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """{"rows": n, "sha256": hex of the rows' canonical JSON, "items": rows}."""
    items = [dict(r) for r in rows]
    digest = hashlib.sha256(ledger.canonical(items).encode()).hexdigest()
    return {"rows": len(items), "sha256": digest, "items": items}


def _at(at: datetime | None) -> str | None:
    return None if at is None else ledger.stamp(at)


def _head(kind: str, control: str, year: str, start: datetime, end: datetime) -> dict[str, Any]:
    return {"kind": kind, "control": control, "year": year, "start": _at(start), "end": _at(end)}


def policy_report(ctx: Context, year: str, start: datetime, end: datetime) -> dict[str, Any]:
    """POL-1: the policy in force, every policy digest the gate decided under in the year, the
    scope clause, the controls in force and each control's findings of the year."""
    repo = ReviewRecords(ctx.session)
    in_force = ctx.policy.digest()
    seen = [
        {
            "sha256": digest,
            "gate_decisions": int(n),
            "first": _at(first),
            "last": _at(last),
            "in_force": digest == in_force,
        }
        for digest, n, first, last in repo.policy_digests(start, end)
    ]
    return _head(POLICY_ANNUAL, POLICY_REVIEW, year, start, end) | {
        "policy": {
            "organisation": ctx.policy.organisation,
            "document": ctx.policy.document,
            "sha256": in_force,
            "effective": ctx.policy.model_dump(mode="json"),
        },
        "policy_digests_seen": population(seen),
        "applicability_and_scope": {"source": SCOPE_SOURCE, "text": SCOPE},
        "controls": [
            {"id": c.id, "clause": c.clause, "summary": c.summary, "tsc": list(c.tsc)}
            for c in ctx.policy.controls
        ],
        "findings_by_control": _findings(
            repo.findings_by_control(start, end), [c.id for c in ctx.policy.controls]
        ),
    }


def _findings(rows: Sequence[Any], controls: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per control (every control in force, and any other that has findings): open (open or
    confirmed), closed (closed or dismissed), suppressed by a waiver, and each status's count."""
    by: dict[str, Counter[str]] = {c: Counter() for c in controls}
    for control, status, n in rows:
        by.setdefault(str(control), Counter())[str(status)] += int(n)
    return {
        control: {
            "open": sum(counts[s] for s in OPEN),
            "closed": sum(counts[s] for s in CLOSED),
            "suppressed": counts["suppressed"],
            "by_status": dict(sorted(counts.items())),
        }
        for control, counts in by.items()
    }


def config_report(
    ctx: Context, year: str, start: datetime, end: datetime, as_of: datetime
) -> dict[str, Any]:
    """CFG-5: the year's configuration-management reports, for completeness and accuracy."""
    repo = ReviewRecords(ctx.session)
    drift = [_drift(row, as_of) for row in repo.drifts(start, end)]
    verifications = _verifications(repo, year)
    unbaselined = _unbaselined(ctx, Period(year, start, end, as_of))
    return _head(CONFIG_ANNUAL, CONFIG_REVIEW, year, start, end) | {
        "as_of": _at(as_of),
        "drift_counts": {
            "by_status": dict(sorted(Counter(d["status"] for d in drift).items())),
            "by_resource_type": dict(sorted(Counter(d["resource_type"] for d in drift).items())),
            "remediation": dict(sorted(Counter(d["remediation"] for d in drift).items())),
        },
        "quarters_verified": sorted({v["quarter"] for v in verifications}),
        "not_checked": audit_facts.not_checked(ctx),
        "populations": {
            "baselines": population([_baseline(row) for row in repo.baselines(end)]),
            "baseline_verifications": population(verifications),
            "drift": population(drift),
            "resources_without_baseline": population(unbaselined),
            "configuration_waivers": population(_waivers(repo, start, end)),
        },
    }


def _baseline(row: Any) -> dict[str, Any]:
    name, version, status, source_sha256, created_at, approver, approved_at, resources = row
    return {
        "name": name,
        "version": version,
        "status": status,
        "source_sha256": source_sha256,
        "created_at": _at(created_at),
        "approved_by": approver,
        "approved_at": _at(approved_at),
        "resources": int(resources),
    }


def _verifications(repo: ReviewRecords, year: str) -> list[dict[str, Any]]:
    """CFG-3's signed quarterly verifications of the year's quarters."""
    out = []
    for review_id, summary, author, recorded_at in repo.reviews("baseline_verification"):
        quarter = str(_value(summary, "quarter")).upper()
        if quarter.startswith(f"{year}-Q"):
            out.append(
                {
                    "review_id": review_id,
                    "quarter": quarter,
                    "signed_by": author,
                    "recorded_at": _at(recorded_at),
                    "sha256": hashlib.sha256(summary.encode()).hexdigest(),
                }
            )
    return out


def _value(summary: str, key: str) -> Any:
    """One top-level value of a stored report, or None if the text is not a JSON object."""
    try:
        loaded = json.loads(summary)
    except ValueError:
        return None
    return loaded.get(key) if isinstance(loaded, dict) else None


def _drift(row: Any, as_of: datetime) -> dict[str, Any]:
    """A drift row and how its 48-hour clock (CFG-4) ended; an open one is past due or not as
    of `as_of` (the year's end once it is over), so the answer does not move with the clock."""
    drift_id, rtype, rid, status, authorised_by, detected_at, due_at, closed_at = row
    if due_at is None:
        remediation = "no_clock"  # authorised drift starts no remediation clock
    elif closed_at is not None:
        remediation = "within_48h" if closed_at <= due_at else "late"
    else:
        remediation = "open_past_due" if due_at <= as_of else "open_not_due"
    return {
        "id": drift_id,
        "resource_type": rtype,
        "resource_id": rid,
        "status": status,
        "authorised_by": authorised_by,
        "detected_at": _at(detected_at),
        "due_at": _at(due_at),
        "closed_at": _at(closed_at),
        "remediation": remediation,
    }


def _unbaselined(ctx: Context, period: Period) -> list[dict[str, Any]]:
    """CFG-1's own predicate over the year: resources no baseline in force declared."""
    observed, declared = audit_facts.inventory(ctx, period)
    facts = AuditFacts(
        period=period,
        settings=audit_facts.settings(ctx, period),
        observed=observed,
        declared=declared,
    )
    flagged = {d.subject for d in rules_config.no_baseline(facts)}
    return [
        _resource(o) for o in observed if f"resource:{o.resource_type}:{o.resource_id}" in flagged
    ]


def _resource(o: ObservedFact) -> dict[str, Any]:
    return {
        "resource_type": o.resource_type,
        "resource_id": o.resource_id,
        "resource_name": o.resource_name,
        "account": o.account_id,
        "region": o.region,
        "first_seen": _at(o.first_seen),
        "observation_id": o.observation_id,
    }


def _waivers(repo: ReviewRecords, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Waivers of the year that touch configuration: a CFG control, or a resource scope."""
    return [
        {
            "key": w.key,
            "title": w.title,
            "status": w.status,
            "controls": sorted(w.controls),
            "scope": f"{w.scope_kind}:{w.scope_value}",
            "requested_at": _at(w.created_at),
            "active_from": _at(w.active_from),
            "expires_at": _at(w.expires_at),
            "closed_at": _at(w.closed_at),
        }
        for w in repo.waivers(start, end)
        if w.scope_kind == "resource" or any(c.startswith("CFG-") for c in w.controls)
    ]
