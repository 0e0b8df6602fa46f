"""What a linked Linear issue shows of its change or waiver, built from the current state.

The attachment is the "approvals attached to Linear tickets" the policy asks for: its url is
the request's page on changegate (Linear keys attachments by url, so each send updates the one
attachment), its subtitle says the status and each decision of the current version or round,
and its metadata carries every decision with role, decision, person and time (UTC, ISO 8601).
The comment reports one ledger record; its id is derived from the record, so a resend after a
crash finds the comment already posted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import select

from changegate.db.changes import Changes
from changegate.db.models import LedgerRecord
from changegate.db.waivers import Waivers
from changegate.domain.changes import ChangeStatus
from changegate.domain.waivers import WaiverStatus
from changegate.integrations.linear_ports import LinearAttachment
from changegate.services.context import Context
from changegate.services.linear_outbound import comment_id

NO_PUBLIC_URL: Final = "https://changegate.invalid"  # CHANGEGATE_PUBLIC_URL unset (see docs)
_WORDS: Final[Mapping[str, str]] = {
    "change.submitted": "submitted for approval",
    "change.edited": "edited",
    "change.approved": "approved: every approval the policy requires is in",
    "change.rejected": "rejected",
    "change.retro_approved": "approved retroactively",
    "change.cancelled": "cancelled",
    "change.implemented": "implemented",
    "change.pir_recorded": "post-implementation review recorded",
    "change.closed": "closed",
    "gate.allowed": "deployment gate ALLOWED",
    "gate.denied": "deployment gate DENIED",
    "waiver.approved": "waiver approved by one approver",
    "waiver.rejected": "waiver rejected",
    "waiver.activated": "waiver in force: CAB and the ISO both approved",
    "waiver.expired": "waiver expired",
}
_DETAILS: Final = ("version", "environment", "commit", "reason", "comment", "decision_id", "round")


@dataclass(frozen=True)
class Report:
    """Everything one `record` row sends: a state (by name; None: leave the issue's state),
    the attachment, and the comment."""

    state: str | None
    attachment: LinearAttachment
    comment_id: str
    comment: str


def build(ctx: Context, issue_id: str, seq: int, key: str) -> Report:
    record = ctx.session.execute(select(LedgerRecord).where(LedgerRecord.seq == seq)).scalar_one()
    base = (ctx.public_url or NO_PUBLIC_URL).rstrip("/")
    if key.startswith("WVR-"):
        status, attachment = _waiver(ctx, key, base)
        state = ctx.policy.linear.waiver_states.get(WaiverStatus(status))
    else:
        status, attachment = _change(ctx, key, base)
        state = ctx.policy.linear.change_states.get(ChangeStatus(status))
    text = comment_for(record, key, attachment.url)
    return Report(state, attachment, comment_id(issue_id, f"ledger:{record.hash}"), text)


def _change(ctx: Context, key: str, base: str) -> tuple[str, LinearAttachment]:
    repo = Changes(ctx.session)
    change = repo.get(key)
    decisions = [
        _decision(a.role, a.decision, a.approver.email, a.decided_at, version=a.version)
        for a in repo.approvals(change)
        if a.version == change.version
    ]
    title = f"changegate {key}: {change.status} (version {change.version})"
    metadata = {
        "changegate": key,
        "status": change.status,
        "version": change.version,
        "versionHash": change.version_hash,
        "approvals": decisions,
    }
    return change.status, LinearAttachment(
        f"{base}/changes/{key}", title, _subtitle(change.status, decisions), metadata
    )


def _waiver(ctx: Context, key: str, base: str) -> tuple[str, LinearAttachment]:
    waiver = Waivers(ctx.session).get(key)
    decisions = [
        _decision(a.role, a.decision, a.approver.email, a.decided_at, round=a.round)
        for a in waiver.approvals
        if a.round == waiver.round
    ]
    title = f"changegate {key}: {waiver.status} (round {waiver.round})"
    metadata = {
        "changegate": key,
        "status": waiver.status,
        "round": waiver.round,
        "expiresAt": _stamp(waiver.expires_at) if waiver.expires_at else None,
        "approvals": decisions,
    }
    return waiver.status, LinearAttachment(
        f"{base}/waivers/{key}", title, _subtitle(waiver.status, decisions), metadata
    )


def _decision(role: str, decision: str, by: str, at: datetime, **extra: int) -> dict[str, Any]:
    return {"role": role, "decision": decision, "by": by, "at": _stamp(at), **extra}


def _subtitle(status: str, decisions: Sequence[Mapping[str, Any]]) -> str:
    said = "; ".join(
        f"{d['role'].upper()} {d['decision']} {d['at']} by {d['by']}" for d in decisions
    )
    return f"{status}: {said}" if said else f"{status}: no decision yet"


def comment_for(record: LedgerRecord, key: str, url: str) -> str:
    payload = json.loads(record.payload)
    words = _WORDS.get(record.action) or record.action.replace("_", " ").replace(".", ": ", 1)
    lines = [f"**changegate {key}: {words}**", ""]
    lines.append(f"- by {record.actor} at {_stamp(record.at)}")
    lines += [f"- {name}: {payload[name]}" for name in _DETAILS if payload.get(name) is not None]
    for reason in payload.get("reasons") or []:
        if isinstance(reason, Mapping):
            mark = "ok" if reason.get("ok") else "NO"
            lines.append(f"- {mark} {reason.get('control')}: {reason.get('message')}")
    lines.append(f"- ledger record {record.seq}, hash `{record.hash[:16]}`; {url}")
    return "\n".join(lines)


def _stamp(at: datetime) -> str:
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
