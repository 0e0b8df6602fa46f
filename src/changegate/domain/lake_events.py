"""Which ledger actions are sent to CloudTrail Lake, and under which event name (CM-1, EXC-1).

The policy wants change requests "automatically logged in AWS CloudTrail" and exception
approvals and denials "recorded in AWS CloudTrail". Every change-request and waiver action the
ledger records is listed here, by name: a test collects the actions the code can record and
fails on one missing from this table, so a new action is never left out of CloudTrail silently.
Event names are verb-first, as CloudTrail names API calls (`eventName`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from changegate.domain.approvals import ApprovalRole, Decision

# The outbox channel that carries these events (notifications.channel).
CLOUDTRAIL: Final = "cloudtrail"
# notifications.recipient for that channel: the events go to the configured channel ARN.
RECIPIENT: Final = "cloudtrail-lake"

_DECISION_VERB: Final = {Decision.APPROVED: "Approve", Decision.REJECTED: "Reject"}

EVENT_NAMES: Final[Mapping[str, str]] = {
    "change.created": "CreateChangeRequest",
    "change.edited": "EditChangeRequest",
    "change.submitted": "SubmitChangeRequest",
    "change.cancelled": "CancelChangeRequest",
    # One approver's decision, then the request's outcome once the quorum is met or one says no.
    **{
        f"change.{d.value}_by_{r.value}": f"{_DECISION_VERB[d]}ChangeRequestAs{r.name.title()}"
        for d in Decision
        for r in ApprovalRole
    },
    "change.approved": "ApproveChangeRequest",
    "change.rejected": "RejectChangeRequest",
    "change.retro_approved": "RetroApproveChangeRequest",
    "change.implemented": "ImplementChangeRequest",
    "change.pir_recorded": "RecordPostImplementationReview",
    "change.closed": "CloseChangeRequest",
    "waiver.requested": "RequestWaiver",
    # One approver's vote (CAB or ISO); the waiver takes effect when both approved (activated).
    "waiver.approved": "ApproveWaiver",
    "waiver.rejected": "DenyWaiver",
    "waiver.activated": "ActivateWaiver",
    "waiver.expired": "ExpireWaiver",
    "waiver.reviewed": "ReviewWaiver",
    "waiver.quarterly_reviewed": "ReviewWaiversQuarterly",
}


def event_name(action: str) -> str | None:
    """The CloudTrail `eventName` for a ledger action, or None: not a change or waiver event."""
    return EVENT_NAMES.get(action)
