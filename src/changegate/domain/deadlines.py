"""What an emergency change owes after it runs (CM-3), and what is overdue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from changegate.domain.calendar import BusinessCalendar
from changegate.domain.changes import ChangeType
from changegate.domain.errors import Refused

RETRO_APPROVAL = "retroactive approval"
PIR = "post-implementation review"


@dataclass(frozen=True)
class Obligations:
    retro_due_at: datetime | None
    pir_due_at: datetime | None


def emergency_obligations(
    change_type: ChangeType,
    approved_before: bool,
    implemented_at: datetime,
    calendar: BusinessCalendar,
    retro_days: int,
    pir_days: int,
) -> Obligations:
    """Retro approval is owed only if it ran unapproved; every emergency owes a PIR."""
    if change_type is not ChangeType.EMERGENCY:
        return Obligations(None, None)
    retro = None if approved_before else calendar.add_business_days(implemented_at, retro_days)
    return Obligations(retro, calendar.add_business_days(implemented_at, pir_days))


@dataclass(frozen=True)
class Overdue:
    key: str
    obligation: str
    due_at: datetime


@dataclass(frozen=True)
class ObligationState:
    key: str
    retro_due_at: datetime | None
    retro_done: bool
    pir_due_at: datetime | None
    pir_done: bool


def overdue(state: ObligationState, now: datetime) -> list[Overdue]:
    out = []
    if state.retro_due_at and not state.retro_done and now >= state.retro_due_at:
        out.append(Overdue(state.key, RETRO_APPROVAL, state.retro_due_at))
    if state.pir_due_at and not state.pir_done and now >= state.pir_due_at:
        out.append(Overdue(state.key, PIR, state.pir_due_at))
    return out


def check_closable(state: ObligationState) -> None:
    if state.retro_due_at and not state.retro_done:
        raise Refused("CM-3", "an emergency change closes only after its retroactive approvals")
    if state.pir_due_at and not state.pir_done:
        raise Refused(
            "CM-3", "an emergency change closes only after its post-implementation review"
        )
