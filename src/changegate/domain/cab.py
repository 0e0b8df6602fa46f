"""CAB meetings: a meeting's status, what a member may do at one, and its agenda items' outcomes.

A meeting is open until it is closed; closing freezes its minutes, attendance and decisions, so
every write to a closed meeting is refused (the policy keeps "CAB meeting minutes and approval
records" as audit artefacts: an artefact that can still change is not evidence).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import StrEnum
from typing import Final

from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.errors import BadInput, Forbidden, Refused
from changegate.domain.states import step

# Minutes are free text; the ceiling keeps one ledger record and one document printable.
MINUTES_MAX: Final = 100_000
REASON_MAX: Final = 5_000
TITLE_MAX: Final = 300


class MeetingStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class MeetingAction(StrEnum):
    ATTEND = "attend"
    DECIDE = "decide"
    EDIT_MINUTES = "edit minutes of"
    CLOSE = "close"


class Outcome(StrEnum):
    """What the meeting decided on an agenda item: a member's approval or rejection of the
    change's current version, or a deferral that leaves the change awaiting."""

    APPROVED = "approved"
    REJECTED = "rejected"
    DEFERRED = "deferred"


class ItemKind(StrEnum):
    APPROVAL = "approval"  # a submitted change awaiting approval (CM-2)
    RETROACTIVE = "retroactive"  # an implemented emergency awaiting its retro approval (CM-3)


S, A = MeetingStatus, MeetingAction

TRANSITIONS: Final[Mapping[tuple[MeetingStatus, MeetingAction], MeetingStatus]] = {
    (S.OPEN, A.ATTEND): S.OPEN,
    (S.OPEN, A.DECIDE): S.OPEN,
    (S.OPEN, A.EDIT_MINUTES): S.OPEN,
    (S.OPEN, A.CLOSE): S.CLOSED,
}

MEMBERS: Final = frozenset({ApprovalRole.CAB.value, ApprovalRole.ISO.value})


def transition(current: MeetingStatus, action: MeetingAction) -> MeetingStatus:
    """Raises InvalidTransition (a Refused) for anything done to a closed meeting."""
    return step(TRANSITIONS, current, action, "its record is frozen", "CAB meeting")


def check_member(email: str, roles: Collection[str]) -> list[str]:
    """The CAB and ISO roles `email` holds (sorted), which they attend in; raises Forbidden if
    they hold neither."""
    held = sorted(MEMBERS & set(roles))
    if not held:
        raise Forbidden(f"{email} needs the cab or iso role to take part in a CAB meeting")
    return held


def decision_role(email: str, roles: Collection[str], asked: ApprovalRole | None) -> ApprovalRole:
    """The role a member decides in: the one asked for, else CAB if they hold it, else ISO.
    Raises Forbidden if they hold neither, or not the one asked for."""
    held = check_member(email, roles)
    if asked is not None and asked.value not in held:
        raise Forbidden(f"{email} does not hold the {asked.value} role")
    if asked is not None:
        return asked
    return ApprovalRole.CAB if ApprovalRole.CAB.value in held else ApprovalRole.ISO


def check_present(email: str, attendees: Collection[str], meeting: int) -> None:
    """Only a member marked present decides at a meeting (they mark themself present)."""
    if email not in attendees:
        raise Refused(
            "CAB",
            f"{email} is not marked present at CAB meeting {meeting}; "
            "attend it first (`cab meeting attend`)",
        )


def approval_decision(outcome: Outcome) -> Decision | None:
    """The approval an outcome is (None: a deferral is no decision on the change)."""
    return {Outcome.APPROVED: Decision.APPROVED, Outcome.REJECTED: Decision.REJECTED}.get(outcome)


def check_reason(outcome: Outcome, reason: str) -> str:
    """A deferral or a rejection says why; returns the reason trimmed."""
    cleaned = reason.strip()
    if outcome is not Outcome.APPROVED and not cleaned:
        raise BadInput(f"a {outcome.value} item needs a --reason saying why")
    if len(cleaned) > REASON_MAX:
        raise BadInput(f"reason: at most {REASON_MAX} characters, not {len(cleaned)}")
    return cleaned


def check_minutes(text: str) -> str:
    if len(text) > MINUTES_MAX:
        raise BadInput(f"minutes: at most {MINUTES_MAX} characters, not {len(text)}")
    if "\x00" in text:
        raise BadInput("minutes: text may not contain NUL characters")
    return text


def check_title(title: str) -> str:
    cleaned = title.strip()
    if len(cleaned) > TITLE_MAX:
        raise BadInput(f"title: at most {TITLE_MAX} characters, not {len(cleaned)}")
    return cleaned
