"""Waivers (the policy's exceptions): statuses, joint approval, and what an active one covers.

A waiver is effective only inside a window granted by a complete round of approvals: one CAB
member and the ISO, two different people, neither the requester (EXC-1). A renewal is a new
round; the windows of earlier rounds stay on record, so an old period re-audits the same way.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.errors import BadInput, Forbidden, Refused
from changegate.domain.states import step


class WaiverStatus(StrEnum):
    REQUESTED = "requested"
    ACTIVE = "active"
    REJECTED = "rejected"
    EXPIRED = "expired"
    RENEWAL = "renewal"
    CLOSED = "closed"


class WaiverAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    EXPIRE = "expire"
    RENEW = "renew"
    CLOSE = "close"


class ScopeKind(StrEnum):
    CHANGE = "change"
    ENVIRONMENT = "environment"
    RESOURCE = "resource"
    PRINCIPAL = "principal"


S, A = WaiverStatus, WaiverAction

# APPROVE here is the round becoming complete; a single approval leaves the status alone.
TRANSITIONS: Final[Mapping[tuple[WaiverStatus, WaiverAction], WaiverStatus]] = {
    (S.REQUESTED, A.APPROVE): S.ACTIVE,
    (S.REQUESTED, A.REJECT): S.REJECTED,
    (S.ACTIVE, A.EXPIRE): S.EXPIRED,
    (S.ACTIVE, A.RENEW): S.RENEWAL,
    (S.ACTIVE, A.CLOSE): S.CLOSED,
    (S.EXPIRED, A.RENEW): S.RENEWAL,
    (S.EXPIRED, A.CLOSE): S.CLOSED,
    (S.RENEWAL, A.APPROVE): S.ACTIVE,
    (S.RENEWAL, A.REJECT): S.CLOSED,
}
DECIDABLE: Final = frozenset({S.REQUESTED, S.RENEWAL})


def transition(current: WaiverStatus, action: WaiverAction) -> WaiverStatus:
    return step(TRANSITIONS, current, action, subject="waiver")


@dataclass(frozen=True)
class WaiverVote:
    approver: str
    role: ApprovalRole
    decision: Decision
    round: int


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def holds(self, at: datetime) -> bool:
        return self.start <= at < self.end


def check_may_decide(
    approver: str,
    approver_roles: Collection[str],
    role: ApprovalRole,
    requester: str,
    votes: Sequence[WaiverVote],
    round_: int,
) -> None:
    """Two people, neither the requester: one CAB member and the ISO (EXC-1, "jointly")."""
    if role.value not in approver_roles:
        raise Forbidden(f"{approver} does not hold the {role.value} role")
    if approver == requester:
        raise Refused("EXC-1", f"{approver} requested this waiver and may not decide on it")
    for vote in votes:
        if vote.round == round_ and vote.approver == approver:
            raise Refused(
                "EXC-1",
                f"{approver} already decided this waiver as "
                f"{vote.role.value}; a waiver needs two different people",
            )


def round_complete(votes: Sequence[WaiverVote], round_: int) -> bool:
    current = [v for v in votes if v.round == round_ and v.decision is Decision.APPROVED]
    cab = {v.approver for v in current if v.role is ApprovalRole.CAB}
    iso = {v.approver for v in current if v.role is ApprovalRole.ISO}
    return any(c != i for c in cab for i in iso)


def missing(votes: Sequence[WaiverVote], round_: int) -> list[str]:
    current = [v for v in votes if v.round == round_ and v.decision is Decision.APPROVED]
    roles = {v.role for v in current}
    return [
        f"the {r.value.upper()}'s approval" if r is ApprovalRole.ISO else "a CAB approval"
        for r in (ApprovalRole.CAB, ApprovalRole.ISO)
        if r not in roles
    ]


def check_duration(days: int, max_days: int) -> None:
    if days < 1:
        raise BadInput(f"a waiver lasts at least 1 day, not {days}")
    if days > max_days:
        raise Refused(
            "EXC-1",
            f"{days} days is longer than the policy allows for one "
            f"approval ({max_days} days, waivers.max_days)",
        )


@dataclass(frozen=True)
class Cover:
    """What an approved waiver covers, as the audit engine sees it."""

    key: str
    controls: frozenset[str]
    scope_kind: ScopeKind
    scope_value: str
    windows: tuple[Window, ...]

    def covers(self, control: str, attributes: Mapping[str, str], at: datetime) -> bool:
        if control not in self.controls:
            return False
        value = attributes.get(self.scope_kind.value)
        if value is None or value.casefold() != self.scope_value.casefold():
            return False
        return any(w.holds(at) for w in self.windows)


def covering(
    covers: Sequence[Cover], control: str, attributes: Mapping[str, str], at: datetime
) -> str | None:
    """The first (lowest key order) waiver covering a finding, so the answer is deterministic."""
    keys = sorted((c.key for c in covers if c.covers(control, attributes, at)), key=_key_order)
    return keys[0] if keys else None


def _key_order(key: str) -> tuple[int, str]:
    number = key.rpartition("-")[2]
    return (int(number), key) if number.isdigit() else (0, key)
