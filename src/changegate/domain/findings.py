"""Findings (the policy's violations) and disciplinary actions: statuses and who may act."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from changegate.domain.states import step


class FindingStatus(StrEnum):
    OPEN = "open"
    SUPPRESSED = "suppressed"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"
    CLOSED = "closed"


class FindingAction(StrEnum):
    CONFIRM = "confirm"
    DISMISS = "dismiss"
    REMEDIATE = "remediate"
    SUPPRESS = "suppress"
    UNSUPPRESS = "unsuppress"


class RemediationKind(StrEnum):
    ROLLBACK = "rollback"
    FIX = "fix"


class DisciplinaryKind(StrEnum):
    WARNING = "warning"
    FINAL_WARNING = "final_warning"
    SUSPENSION = "suspension"
    TERMINATION = "termination"


S, A = FindingStatus, FindingAction

# A suppressed finding stays on record with its waiver; it returns to open if a re-run finds the
# waiver no longer covers it. Confirmed findings start the 3-business-day remediation clock.
TRANSITIONS: Final[Mapping[tuple[FindingStatus, FindingAction], FindingStatus]] = {
    (S.OPEN, A.CONFIRM): S.CONFIRMED,
    (S.OPEN, A.DISMISS): S.DISMISSED,
    (S.OPEN, A.SUPPRESS): S.SUPPRESSED,
    (S.SUPPRESSED, A.UNSUPPRESS): S.OPEN,
    (S.CONFIRMED, A.REMEDIATE): S.CLOSED,
}
# Statuses an audit re-run may still move between open and suppressed.
UNDECIDED: Final = frozenset({S.OPEN, S.SUPPRESSED})


def transition(current: FindingStatus, action: FindingAction) -> FindingStatus:
    return step(TRANSITIONS, current, action, subject="finding")
