"""What the audit rules read and what they produce: plain values, no database.

The service loads a period's records into `AuditFacts`; each rule is a pure function from the
facts to `Draft` findings. Evidence names records as "<kind>:<id>" (e.g. "deployment:45",
"approval:12", "change:CHG-3") so an auditor can look each one up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from changegate.domain import wording
from changegate.domain.calendar import BusinessCalendar
from changegate.domain.gate import Evidence, WindowRule
from changegate.domain.trail.coverage import TrailFacts
from changegate.domain.waivers import Cover


@dataclass(frozen=True)
class Period:
    name: str  # "2026-Q3", "2026"
    start: datetime
    end: datetime  # exclusive
    as_of: datetime  # deadlines later than this have not passed yet

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end and at <= self.as_of


@dataclass(frozen=True)
class ApprovalFact:
    id: int
    approver: str
    role: str  # "cab" | "iso"
    decision: str  # "approved" | "rejected"
    version: int
    decided_at: datetime
    retroactive: bool = False


@dataclass(frozen=True)
class ChangeFact:
    key: str
    requester: str
    status: str
    change_type: str  # "normal" | "emergency"
    risk: str
    version: int
    missing_fields: tuple[str, ...]
    commit_authors: tuple[str, ...] = ()
    approvals: tuple[ApprovalFact, ...] = ()
    # (version, created_at): which version was current when a deployment started.
    versions: tuple[tuple[int, datetime], ...] = ()
    implemented_at: datetime | None = None
    retro_due_at: datetime | None = None
    retro_approved_at: datetime | None = None
    pir_due_at: datetime | None = None
    pir_recorded_at: datetime | None = None
    # CM-5: a change bound for production reaches it through a pipeline, not by a person's hand.
    production_environments: tuple[str, ...] = ()
    implemented_by: str | None = None
    implemented_by_pipeline: bool = False
    production_deployments: int = 0
    # What the request declares: where it may deploy and when (the gate's scope and window).
    environments: tuple[str, ...] = ()
    window: tuple[datetime | None, datetime | None] = (None, None)


@dataclass(frozen=True)
class DeploymentFact:
    id: int
    change_key: str
    environment: str
    production: bool
    kind: str  # "deploy" | "rollback"
    status: str
    commit: str
    artifact: str | None
    started_at: datetime
    deployer: str
    deployer_is_pipeline: bool
    iac_path: str | None = None
    # The policy asks CAB and ISO approval, in the planned window, of this environment.
    needs_approval: bool = False


@dataclass(frozen=True)
class ReviewFact:
    id: int
    # "quarterly_metrics" | "baseline_verification" | "waiver_quarterly" (a quarter's);
    # "policy_annual" | "config_annual" (a year's)
    kind: str
    period: str  # the quarter ("2026-Q3") or the year ("2026") the review signs for
    author: str
    author_roles: tuple[str, ...]
    recorded_at: datetime


@dataclass(frozen=True)
class DriftFact:
    id: int
    resource_type: str
    resource_id: str
    status: str
    authorised_by: str | None
    detected_at: datetime
    due_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True)
class ObservedFact:
    """A resource AWS Config observed in a production account during the period (CFG-1)."""

    observation_id: int  # its latest observation in the period
    resource_type: str
    resource_id: str
    resource_name: str | None
    account_id: str
    region: str | None
    first_seen: datetime  # its first observation in the period
    deleted: bool  # its latest observation in the period says it is gone


@dataclass(frozen=True)
class WaiverApprovalFact:
    id: int
    round: int
    role: str
    decision: str
    approver: str
    decided_at: datetime


@dataclass(frozen=True)
class WaiverFact:
    key: str
    requester: str
    status: str
    round: int
    expires_at: datetime | None
    reviewed_at: datetime | None
    # (round, start, end) for every window granted
    periods: tuple[tuple[int, datetime, datetime], ...]
    approvals: tuple[WaiverApprovalFact, ...]


@dataclass(frozen=True)
class DeliveryFact:
    id: int
    recipient_role: str | None
    delivered_at: datetime | None


@dataclass(frozen=True)
class FindingFact:
    """A stored finding, for VIO-1 (was it reported; was it remediated on time)."""

    key: str
    control: str
    rule: str
    status: str
    first_detected_at: datetime
    deliveries: tuple[DeliveryFact, ...]
    remediation_due_at: datetime | None
    remediated_at: datetime | None


@dataclass(frozen=True)
class DecisionFact:
    """A decision's ledger record that says it was not authenticated (the local `--as` path,
    allowed by `identity.local_decisions`): AUTH-1 reports each one."""

    seq: int  # the ledger record
    action: str  # e.g. "change.approved_by_iso", "finding.confirmed"
    subject: str  # the record's subject: "CHG-3", "WVR-1", "quarter:2026-Q3"
    actor: str
    at: datetime


def _default_cab_quorum() -> dict[str, int]:
    # The policy document's defaults (policy.ApprovalSettings); the service passes the file's own.
    return {"low": 1, "medium": 1, "high": 2}


@dataclass(frozen=True)
class AuditSettings:
    calendar: BusinessCalendar
    quarterly_review_business_days: int
    report_hours: int
    emergency_requires_tests: bool
    # CM-4 "documented in Google Workspace": a run counts once documented there, as the gate
    # counts it (`Policy.documented_tests`).
    documented_tests: bool = False
    # CM-2 re-performs the approval quorum as of each deployment: CAB approvals needed per risk.
    cab_quorum: Mapping[str, int] = field(default_factory=_default_cab_quorum)
    iso_required: bool = True
    # When the controls took effect (e.g. the start of the SOC 2 observation window): nothing
    # that happened, or fell due, before it is a finding.
    effective_from: datetime | None = None
    # The gate's window tolerances, re-performed by CM-2 over each deployment.
    window_rule: WindowRule = field(default_factory=WindowRule)


@dataclass(frozen=True)
class AuditFacts:
    period: Period
    settings: AuditSettings
    changes: Mapping[str, ChangeFact] = field(default_factory=dict)
    deployments: tuple[DeploymentFact, ...] = ()
    # Test runs per change key, as the gate sees them (CM-4 re-performs the gate's check).
    test_runs: Mapping[str, tuple[Evidence, ...]] = field(default_factory=dict)
    reviews: tuple[ReviewFact, ...] = ()
    drifts: tuple[DriftFact, ...] = ()
    waivers: tuple[WaiverFact, ...] = ()
    covers: tuple[Cover, ...] = ()
    findings: tuple[FindingFact, ...] = ()
    observed: tuple[ObservedFact, ...] = ()
    # (type, id or name) of every resource the baselines in force at `as_of` declare.
    declared: frozenset[tuple[str, str]] = frozenset()
    unauthenticated: tuple[DecisionFact, ...] = ()
    # CM-5 over CloudTrail: the period's production change events and what may cover them.
    trail: TrailFacts = field(default_factory=TrailFacts)

    def due(self, instant: datetime) -> str:
        """A deadline as summaries word it: `end of Tue 2026-09-29 (UTC)` for a business day."""
        return wording.deadline(instant, self.settings.calendar.tz) or ""


@dataclass(frozen=True)
class Draft:
    """A finding as a rule states it; the fingerprint makes re-runs idempotent."""

    control: str
    rule: str  # e.g. "CM-2.deployed-before-approval"
    subject: str  # e.g. "deployment:45", "CHG-3", "quarter:2026-Q3"
    summary: str
    evidence: tuple[str, ...]
    occurred_at: datetime
    # What a waiver's scope can match: change, environment, resource, principal.
    attributes: Mapping[str, str] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        return f"{self.rule}|{self.subject}"


@dataclass(frozen=True)
class Result:
    draft: Draft
    waiver: str | None  # the covering waiver's key: suppressed, never dropped


def overdue(due: datetime | None, done: datetime | None, as_of: datetime) -> bool:
    """A deadline that has passed (by `as_of`) with its duty not done by then, or done late."""
    return due is not None and due <= as_of and (done is None or done > due)
