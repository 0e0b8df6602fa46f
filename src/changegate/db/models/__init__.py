"""Every table, in one place. The schema changes only through Alembic migrations.

`core` holds people, change requests, the ledger and the pipeline's records; `detective` the
detective half (waivers, audit runs, findings, disciplinary actions, the notification outbox,
leases); `configuration` baselines, observations and drift; `cab` CAB meetings (agenda,
attendance, decisions); `documents` the policy documents and uploaded files evidence cites;
`web` browser sessions and the one-time codes `changegate login` exchanges; `trail` CloudTrail
events and how far each trail bucket has been read; `linear` the Linear issues that asked for
changes and waivers, and how far `linear sync` has read; `workspace` the Google Drive files
that document test runs.
The rest of `db/` are repositories: one module per aggregate, named after what it queries,
holding every query the code makes.

Each module is imported when one of its tables is first named (PEP 562), so a command that
reads change requests does not define the mappings of drift and findings; `everything()`
loads them all (migrations, and whatever needs the whole `Base.metadata`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from changegate.db.models.cab import (
        CabAgendaItem,
        CabAttendance,
        CabDecision,
        CabMeeting,
    )
    from changegate.db.models.configuration import (
        Baseline,
        BaselineResource,
        Drift,
        Observation,
    )
    from changegate.db.models.core import (
        Approval,
        Base,
        Change,
        ChangeVersion,
        Checkpoint,
        CodeReview,
        Counter,
        Deployment,
        GateDecisionRecord,
        InstallationFact,
        LedgerHead,
        LedgerRecord,
        Review,
        TestRun,
        Token,
        User,
        UserRole,
        WebhookDelivery,
    )
    from changegate.db.models.detective import (
        AuditRun,
        DisciplinaryAction,
        Finding,
        Lease,
        Notification,
        Waiver,
        WaiverApproval,
    )
    from changegate.db.models.documents import EvidenceFile, PolicyDocument
    from changegate.db.models.linear import LinearCursor, LinearIssue
    from changegate.db.models.trail import TrailCursor, TrailEvent
    from changegate.db.models.web import LoginCode, WebSession
    from changegate.db.models.workspace import WorkspaceFile

_HOME: dict[str, str] = {
    "Approval": "core",
    "AuditRun": "detective",
    "Base": "core",
    "Baseline": "configuration",
    "BaselineResource": "configuration",
    "CabAgendaItem": "cab",
    "CabAttendance": "cab",
    "CabDecision": "cab",
    "CabMeeting": "cab",
    "Change": "core",
    "CodeReview": "core",
    "ChangeVersion": "core",
    "Checkpoint": "core",
    "Counter": "core",
    "Deployment": "core",
    "DisciplinaryAction": "detective",
    "Drift": "configuration",
    "EvidenceFile": "documents",
    "Finding": "detective",
    "GateDecisionRecord": "core",
    "InstallationFact": "core",
    "Lease": "detective",
    "LedgerHead": "core",
    "LedgerRecord": "core",
    "LinearCursor": "linear",
    "LinearIssue": "linear",
    "LoginCode": "web",
    "Notification": "detective",
    "Observation": "configuration",
    "PolicyDocument": "documents",
    "Review": "core",
    "TestRun": "core",
    "Token": "core",
    "TrailCursor": "trail",
    "TrailEvent": "trail",
    "User": "core",
    "UserRole": "core",
    "Waiver": "detective",
    "WaiverApproval": "detective",
    "WebSession": "web",
    "WebhookDelivery": "core",
    "WorkspaceFile": "workspace",
}

__all__ = [
    "Approval",
    "AuditRun",
    "Base",
    "Baseline",
    "BaselineResource",
    "CabAgendaItem",
    "CabAttendance",
    "CabDecision",
    "CabMeeting",
    "Change",
    "ChangeVersion",
    "Checkpoint",
    "CodeReview",
    "Counter",
    "Deployment",
    "DisciplinaryAction",
    "Drift",
    "EvidenceFile",
    "Finding",
    "GateDecisionRecord",
    "InstallationFact",
    "Lease",
    "LedgerHead",
    "LedgerRecord",
    "LinearCursor",
    "LinearIssue",
    "LoginCode",
    "Notification",
    "Observation",
    "PolicyDocument",
    "Review",
    "TestRun",
    "Token",
    "TrailCursor",
    "TrailEvent",
    "User",
    "UserRole",
    "Waiver",
    "WaiverApproval",
    "WebSession",
    "WebhookDelivery",
    "WorkspaceFile",
    "everything",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)


def everything() -> type[Base]:
    """Import every table module; returns the declarative base, whose metadata is complete."""
    for module in sorted(set(_HOME.values())):
        importlib.import_module(f"{__name__}.{module}")
    from changegate.db.models.core import Base  # noqa: PLC0415

    return Base
