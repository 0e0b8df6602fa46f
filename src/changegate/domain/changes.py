"""The change request: its statuses, the one transition table, material fields and versions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final

from changegate.domain.errors import Refused
from changegate.domain.states import step


class ChangeStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    IMPLEMENTED = "implemented"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class ChangeType(StrEnum):
    NORMAL = "normal"
    EMERGENCY = "emergency"


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Action(StrEnum):
    SUBMIT = "submit"
    EDIT = "edit"
    APPROVE = "approve"
    REJECT = "reject"
    IMPLEMENT = "implement"
    IMPLEMENT_EMERGENCY = "implement_emergency"
    CLOSE = "close"
    CANCEL = "cancel"


S, A = ChangeStatus, Action

# Editing a material field after submission starts a new version and sends the change back for
# approval (CM-2: approvals bind to the version approved). A rejected change is revised in draft.
TRANSITIONS: Final[Mapping[tuple[ChangeStatus, Action], ChangeStatus]] = {
    (S.DRAFT, A.EDIT): S.DRAFT,
    (S.DRAFT, A.SUBMIT): S.SUBMITTED,
    (S.DRAFT, A.CANCEL): S.CANCELLED,
    (S.SUBMITTED, A.EDIT): S.SUBMITTED,
    (S.SUBMITTED, A.APPROVE): S.APPROVED,
    (S.SUBMITTED, A.REJECT): S.REJECTED,
    (S.SUBMITTED, A.IMPLEMENT_EMERGENCY): S.IMPLEMENTED,
    (S.SUBMITTED, A.CANCEL): S.CANCELLED,
    (S.APPROVED, A.EDIT): S.SUBMITTED,
    (S.APPROVED, A.IMPLEMENT): S.IMPLEMENTED,
    (S.APPROVED, A.IMPLEMENT_EMERGENCY): S.IMPLEMENTED,
    (S.APPROVED, A.CANCEL): S.CANCELLED,
    (S.REJECTED, A.EDIT): S.DRAFT,
    (S.REJECTED, A.CANCEL): S.CANCELLED,
    (S.IMPLEMENTED, A.CLOSE): S.CLOSED,
}

HINTS: Final[Mapping[tuple[ChangeStatus, Action], str]] = {
    (S.SUBMITTED, A.IMPLEMENT): "CM-2: a normal change may be implemented only once approved",
    (S.DRAFT, A.IMPLEMENT): "submit it and have it approved first (CM-2)",
    (S.DRAFT, A.IMPLEMENT_EMERGENCY): "even an emergency change is submitted first (CM-1)",
}


def transition(current: ChangeStatus, action: Action) -> ChangeStatus:
    return step(TRANSITIONS, current, action, HINTS.get((current, action), ""))


def implement_action(change_type: ChangeType, status: ChangeStatus) -> Action:
    """An emergency may run before approval (CM-3); anything else only once approved (CM-2)."""
    if change_type is ChangeType.EMERGENCY and status in (
        ChangeStatus.DRAFT,
        ChangeStatus.SUBMITTED,
    ):
        return Action.IMPLEMENT_EMERGENCY
    return Action.IMPLEMENT


@dataclass(frozen=True)
class Window:
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class ChangeFields:
    """The material fields: what approvers approve. Any edit to one makes a new version."""

    title: str
    scope: str = ""
    impact: str = ""
    rollback_plan: str = ""
    risk: Risk = Risk.MEDIUM
    change_type: ChangeType = ChangeType.NORMAL
    justification: str = ""
    affected_services: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()
    customer_impact: str = ""
    expected_downtime_minutes: int = 0
    window: Window = field(default_factory=Window)
    ticket: str = ""
    commit_authors: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data["window"] = {k: v.isoformat() if v else None for k, v in data["window"].items()}
        return data


def version_hash(fields: ChangeFields) -> str:
    text = json.dumps(fields.as_json(), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def changed_fields(old: ChangeFields, new: ChangeFields) -> list[str]:
    before, after = old.as_json(), new.as_json()
    return sorted(k for k in after if before[k] != after[k])


def missing_for_submit(fields: ChangeFields, require_ticket: bool) -> list[str]:
    """CM-1: scope, impact and rollback plan stated; tracked in the ticket system."""
    required = {
        "title": fields.title,
        "scope": fields.scope,
        "impact": fields.impact,
        "rollback_plan": fields.rollback_plan,
    }
    if require_ticket:
        required["ticket"] = fields.ticket
    if fields.change_type is ChangeType.EMERGENCY:
        required["justification"] = fields.justification
    return [name for name, value in required.items() if not value.strip()]


def check_submittable(fields: ChangeFields, require_ticket: bool) -> None:
    missing = missing_for_submit(fields, require_ticket)
    if missing:
        raise Refused("CM-1", f"the request is incomplete: missing {', '.join(missing)}")


def check_emergency_justified(fields: ChangeFields) -> None:
    if fields.change_type is ChangeType.EMERGENCY and not fields.justification.strip():
        raise Refused("CM-3", "an emergency change needs a justification")


def check_window(window: Window) -> None:
    if window.start and window.end and window.end <= window.start:
        raise Refused("CM-1", "the planned window ends before it starts")
