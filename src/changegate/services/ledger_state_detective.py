"""The live drifts, findings, disciplinary actions, baselines and reviews, as text in the shapes
`ledger_replay_detective` derives from the ledger, for `ledger_state` to compare."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from changegate import ledger
from changegate.db.models import (
    Baseline,
    BaselineResource,
    Change,
    DisciplinaryAction,
    Drift,
    Finding,
    Review,
    User,
)
from changegate.services.ledger_replay_detective import (
    Row,
    details_sha256,
    finding_sha256,
    json_text,
    resources_sha256,
    seconds,
)


def _when(value: datetime | None) -> str:
    return ledger.stamp(value) if value else "None"


def _text(names: Iterable[str], values: Iterable[Any]) -> Row:
    return {
        name: _when(value) if isinstance(value, datetime) else str(value)
        for name, value in zip(names, values, strict=True)
    }


def drifts(session: Session) -> dict[int, Row]:
    d = Drift
    plain = ("resource_type", "resource_id", "status", "authorised_by")
    more = ("detected_at", "due_at", "closed_at", "baseline_resource_id", "observation_id")
    rows = session.execute(
        select(
            d.id,
            *(getattr(d, n) for n in plain + more),
            d.reopened,
            d.differences,
            d.remediation_seconds,
        )
    )
    return {
        drift_id: _text(plain + more, values)
        | {
            "reopened": str(reopened),
            "differences": json_text(differences),
            "remediation_seconds": seconds(took),
        }
        for drift_id, *values, reopened, differences, took in rows
    }


def findings(session: Session) -> dict[str, Row]:
    f = Finding
    decider, fixer = aliased(User), aliased(User)
    plain = ("control", "rule", "subject", "status", "waiver_key", "first_run_id")
    instants = ("occurred_at", "first_detected_at", "reported_at", "decided_at")
    later = ("remediation_due_at", "dismissal_reason", "remediation_kind", "remediation")
    names = (*plain, *instants, *later, "remediated_at", "decided_by", "remediated_by")
    rows = session.execute(
        select(
            f.key,
            *(getattr(f, n) for n in (*plain, *instants, *later, "remediated_at")),
            decider.email,
            fixer.email,
            f.due_calendar,
            f.fingerprint,
            f.summary,
            f.evidence,
            f.attributes,
        )
        .outerjoin(decider, decider.id == f.decided_by_id)
        .outerjoin(fixer, fixer.id == f.remediated_by_id)
    )
    found = {}
    for key, *values, calendar, fingerprint, summary, evidence, attributes in rows:
        row = _text(names, values)
        row["due_calendar"] = json_text(calendar)
        row["sha256"] = finding_sha256(fingerprint, summary, evidence, attributes)
        found[key] = row
    return found


def baselines(session: Session) -> dict[str, Row]:
    b, author, approver = Baseline, aliased(User), aliased(User)
    names = ("status", "source", "source_ref", "source_sha256", "change_key", "created_at")
    rows = session.execute(
        select(
            b.name,
            b.version,
            *(getattr(b, n) for n in names),
            b.approved_at,
            author.email,
            approver.email,
        )
        .join(author, author.id == b.author_id)
        .outerjoin(approver, approver.id == b.approver_id)
    )
    return {
        f"{name} v{version}": _text((*names, "approved_at", "author", "approver"), values)
        for name, version, *values in rows
    }


def baseline_resources(session: Session) -> dict[str, Row]:
    """Per baseline version: how many resources it declares and their digest, in id order."""
    r = BaselineResource
    rows = session.execute(
        select(
            Baseline.name,
            Baseline.version,
            r.resource_type,
            r.resource_id,
            r.logical_id,
            r.properties,
            r.id_source,
        )
        .join(Baseline, Baseline.id == r.baseline_id)
        .order_by(r.id)
    )
    grouped: dict[str, list[tuple[str, str, str | None, Any, str]]] = defaultdict(list)
    for name, version, *resource in rows:
        grouped[f"{name} v{version}"].append(tuple(resource))
    known = session.execute(select(Baseline.name, Baseline.version))
    return {
        key: {"count": str(len(grouped[key])), "sha256": resources_sha256(grouped[key])}
        for key in (f"{name} v{version}" for name, version in known)
    }


def reviews(session: Session) -> dict[int, Row]:
    r = Review
    rows = session.execute(
        select(r.id, r.kind, User.email, r.recorded_at, Change.key, r.summary)
        .join(User, User.id == r.author_id)
        .outerjoin(Change, Change.id == r.change_id)
    )
    return {
        review_id: {
            "kind": kind,
            "author": email,
            "recorded_at": _when(at),
            "change": str(change),
            "sha256": hashlib.sha256(summary.encode()).hexdigest(),
        }
        for review_id, kind, email, at, change, summary in rows
    }


def disciplinary_actions(session: Session) -> dict[int, Row]:
    a, person, hr = DisciplinaryAction, aliased(User), aliased(User)
    rows = session.execute(
        select(a.id, Finding.key, person.email, a.action, a.notes, hr.email, a.recorded_at)
        .join(Finding, Finding.id == a.finding_id)
        .join(person, person.id == a.person_id)
        .join(hr, hr.id == a.recorded_by_id)
    )
    return {
        action_id: {
            "finding": key,
            "recorded_by": recorded_by,
            "recorded_at": _when(at),
            "details_sha256": details_sha256(email, action, notes),
        }
        for action_id, key, email, action, notes, recorded_by, at in rows
    }
