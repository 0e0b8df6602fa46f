"""Every table, in one place. The schema changes only through Alembic migrations.

`core` holds people, change requests, the ledger and the pipeline's records; `detective` the
detective half (waivers, audit runs, findings, disciplinary actions, the notification outbox,
leases); `configuration` baselines, observations and drift. The rest of `db/` are repositories:
one module per aggregate, named after what it queries, holding every query the code makes.
"""

from changegate.db.models.configuration import Baseline, BaselineResource, Drift, Observation
from changegate.db.models.core import (
    Approval,
    Base,
    Change,
    ChangeVersion,
    Checkpoint,
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

__all__ = [
    "Approval",
    "AuditRun",
    "Base",
    "Baseline",
    "BaselineResource",
    "Change",
    "ChangeVersion",
    "Checkpoint",
    "Counter",
    "Deployment",
    "DisciplinaryAction",
    "Drift",
    "Finding",
    "GateDecisionRecord",
    "InstallationFact",
    "Lease",
    "LedgerHead",
    "LedgerRecord",
    "Notification",
    "Observation",
    "Review",
    "TestRun",
    "Token",
    "User",
    "UserRole",
    "Waiver",
    "WaiverApproval",
    "WebhookDelivery",
]
