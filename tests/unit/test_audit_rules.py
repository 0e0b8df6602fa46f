"""The audit rules (DESIGN.md section 3): each raised, each near-missed, each waived or not.

Every case states the finding by value (control, rule, subject, evidence, occurred_at), because
that is what an auditor re-performing the control compares.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from changegate.domain.audit import engine
from changegate.domain.audit import rules_annual as annual
from changegate.domain.audit import rules_changes as changes
from changegate.domain.audit import rules_config as config
from changegate.domain.audit import rules_governance as governance
from changegate.domain.audit import rules_identity as identity
from changegate.domain.audit import rules_plan as plan
from changegate.domain.audit import rules_trail as trail
from changegate.domain.audit.facts import (
    ApprovalFact,
    AuditFacts,
    AuditSettings,
    ChangeFact,
    DecisionFact,
    DeliveryFact,
    DeploymentFact,
    Draft,
    DriftFact,
    FindingFact,
    ObservedFact,
    Period,
    Result,
    ReviewFact,
    WaiverApprovalFact,
    WaiverFact,
)
from changegate.domain.calendar import BusinessCalendar
from changegate.domain.gate import Evidence
from changegate.domain.waivers import Cover, ScopeKind, Window
from tests.unit.test_trail_coverage import aws_change, trail_facts

T = datetime(2026, 8, 3, 9, 0, tzinfo=UTC)  # a Monday inside 2026-Q3
S, H, D = timedelta(seconds=1), timedelta(hours=1), timedelta(days=1)
# 10 business days after Tuesday 2026-06-30 (weekends only): the end of Tuesday 2026-07-14.
Q2_DEADLINE = datetime(2026, 7, 15, tzinfo=UTC)

Rule = Callable[[AuditFacts], list[Draft]]
Key = tuple[str, str, str, tuple[str, ...], datetime]


# --- builders ----------------------------------------------------------------------------------


def settings(**overrides: Any) -> AuditSettings:
    base = AuditSettings(
        calendar=BusinessCalendar(tz="UTC"),
        quarterly_review_business_days=10,
        report_hours=24,
        emergency_requires_tests=False,
    )
    return dataclasses.replace(base, **overrides)


# A decision's ledger record that says it was made without signing in (AUTH-1).
UNSIGNED = DecisionFact(41, "change.approved_by_iso", "CHG-1", "ivy@x.io", T)


def period(**overrides: Any) -> Period:
    base = Period(
        name="2026-Q3",
        start=datetime(2026, 7, 1, tzinfo=UTC),
        end=datetime(2026, 10, 1, tzinfo=UTC),
        as_of=datetime(2026, 12, 31, tzinfo=UTC),
    )
    return dataclasses.replace(base, **overrides)


def approval(
    id_: int, approver: str, role: str, at: datetime, decision: str = "approved", version: int = 1
) -> ApprovalFact:
    return ApprovalFact(
        id=id_, approver=approver, role=role, decision=decision, version=version, decided_at=at
    )


APPROVED = (approval(1, "bob", "cab", T - H), approval(2, "ivy", "iso", T - H))


def change(**overrides: Any) -> ChangeFact:
    base = ChangeFact(
        key="CHG-1",
        requester="alice",
        status="approved",
        change_type="normal",
        risk="medium",
        version=1,
        missing_fields=(),
        commit_authors=("dev",),
        approvals=APPROVED,
        versions=((1, T - 2 * D),),
        environments=("staging", "production"),
    )
    return dataclasses.replace(base, **overrides)


def emergency(**overrides: Any) -> ChangeFact:
    return change(**{"key": "CHG-2", "change_type": "emergency", "approvals": (), **overrides})


def deployment(**overrides: Any) -> DeploymentFact:
    base = DeploymentFact(
        id=45,
        change_key="CHG-1",
        environment="production",
        production=True,
        kind="deploy",
        status="succeeded",
        commit="abc123",
        artifact=None,
        started_at=T,
        deployer="ci",
        deployer_is_pipeline=True,
    )
    return dataclasses.replace(base, **overrides)


def run(**overrides: Any) -> Evidence:
    base = Evidence(
        id=7,
        environment="staging",
        isolated=True,
        commit="abc123",
        artifact=None,
        passed=True,
        recorded_at=T - H,
    )
    return dataclasses.replace(base, **overrides)


def drift(**overrides: Any) -> DriftFact:
    base = DriftFact(
        id=9,
        resource_type="AWS::S3::Bucket",
        resource_id="logs",
        status="open",
        authorised_by=None,
        detected_at=T,
        due_at=T + 48 * H,
        closed_at=None,
    )
    return dataclasses.replace(base, **overrides)


def review(
    kind: str, author_roles: tuple[str, ...], at: datetime, quarter: str = "2026-Q2", id_: int = 4
) -> ReviewFact:
    return ReviewFact(
        id=id_,
        kind=kind,
        period=quarter,
        author="someone",
        author_roles=author_roles,
        recorded_at=at,
    )


def waiver_approval(
    id_: int, approver: str, role: str, at: datetime = T - H, round_: int = 1
) -> WaiverApprovalFact:
    return WaiverApprovalFact(
        id=id_, round=round_, role=role, decision="approved", approver=approver, decided_at=at
    )


def waiver(**overrides: Any) -> WaiverFact:
    base = WaiverFact(
        key="WVR-2",
        requester="alice",
        status="active",
        round=1,
        expires_at=T + 30 * D,
        reviewed_at=None,
        periods=((1, T, T + 30 * D),),
        approvals=(waiver_approval(1, "bob", "cab"), waiver_approval(2, "ivy", "iso")),
    )
    return dataclasses.replace(base, **overrides)


def delivered(role: str, at: datetime | None, id_: int = 1) -> DeliveryFact:
    return DeliveryFact(id=id_, recipient_role=role, delivered_at=at)


def stored_finding(**overrides: Any) -> FindingFact:
    base = FindingFact(
        key="FND-1",
        control="CM-4",
        rule="CM-4.no-staging-evidence",
        status="open",
        first_detected_at=T,
        deliveries=(delivered("iso", T + H, 1), delivered("hr", T + H, 2)),
        remediation_due_at=None,
        remediated_at=None,
    )
    return dataclasses.replace(base, **overrides)


def facts(*, change_list: Sequence[ChangeFact] = (change(),), **overrides: Any) -> AuditFacts:
    base = AuditFacts(
        period=period(),
        settings=settings(),
        changes={c.key: c for c in change_list},
        test_runs={"CHG-1": (run(),)},
    )
    return dataclasses.replace(base, **overrides)


def cover(
    control: str,
    kind: ScopeKind,
    value: str,
    start: datetime = T - 10 * D,
    end: datetime = T + 10 * D,
    key: str = "WVR-5",
) -> Cover:
    return Cover(
        key=key,
        controls=frozenset({control}),
        scope_kind=kind,
        scope_value=value,
        windows=(Window(start, end),),
    )


def key(d: Draft) -> Key:
    return (d.control, d.rule, d.subject, d.evidence, d.occurred_at)


def drafts(rule: Rule, f: AuditFacts) -> list[Key]:
    # As the engine keeps them: only what happened inside the period counts.
    return [key(d) for d in rule(f) if f.period.contains(d.occurred_at)]


DEPLOY = ("deployment:45", "change:CHG-1")
CM1 = ("CM-1", "CM-1.incomplete-request", "deployment:45")
CM2 = ("CM-2", "CM-2.deployed-before-approval", "deployment:45")
CM4 = ("CM-4", "CM-4.no-staging-evidence", "deployment:45")
CM5 = ("CM-5", "CM-5.non-pipeline-deployment", "deployment:45")
SELF = ("CM-2", "CM-2.self-approval")
RETRO = ("CM-3", "CM-3.retro-approval-overdue", "change:CHG-2", ("change:CHG-2",))
PIR = ("CM-3", "CM-3.pir-overdue", "change:CHG-2", ("change:CHG-2",))
CFG2 = ("CFG-2", "CFG-2.unauthorised-drift", "drift:9", ("drift:9",))
CFG4 = ("CFG-4", "CFG-4.drift-overdue", "drift:9", ("drift:9",))
CM6 = ("CM-6", "CM-6.quarterly-review-missing", "quarter:2026-Q2")
CFG3 = ("CFG-3", "CFG-3.quarterly-verification-missing", "quarter:2026-Q2")
EXCQ = ("EXC-1", "EXC-1.quarterly-review-missing", "quarter:2026-Q2")
EXPIRED = ("EXC-1", "EXC-1.expired-not-reviewed", "waiver:WVR-2", ("waiver:WVR-2",))
SINGLE = ("EXC-1", "EXC-1.single-party-approval", "waiver:WVR-2#1")
UNREPORTED = ("VIO-1", "VIO-1.not-reported", "finding:FND-1", ("finding:FND-1",))
OVERDUE = ("VIO-1", "VIO-1.remediation-overdue", "finding:FND-1", ("finding:FND-1",))
BERLIN = ZoneInfo("Europe/Berlin")

RAISED: list[Any] = [
    # CM-1
    pytest.param(
        changes.incomplete_request,
        facts(deployments=(deployment(change_key="CHG-9"),)),
        [(*CM1, ("deployment:45", "change:CHG-9"), T)],
        id="CM-1 unknown change",
    ),
    pytest.param(
        changes.incomplete_request,
        facts(change_list=[change(missing_fields=("rollback_plan",))], deployments=(deployment(),)),
        [(*CM1, DEPLOY, T)],
        id="CM-1 incomplete",
    ),
    pytest.param(
        changes.incomplete_request,
        facts(
            change_list=[change(status="draft")],
            deployments=(deployment(environment="staging", production=False),),
        ),
        [(*CM1, DEPLOY, T)],
        id="CM-1 draft, to staging",
    ),
    # CM-2 deployed before approval
    pytest.param(
        changes.deployed_before_approval,
        facts(
            change_list=[change(approvals=(APPROVED[0], approval(2, "ivy", "iso", T + S)))],
            deployments=(deployment(),),
        ),
        [(*CM2, (*DEPLOY, "approval:1"), T)],
        id="CM-2 ISO one second late",
    ),
    pytest.param(
        changes.deployed_before_approval,
        facts(
            change_list=[change(version=2, versions=((1, T - 2 * D), (2, T - S)))],
            deployments=(deployment(),),
        ),
        [(*CM2, DEPLOY, T)],
        id="CM-2 approvals of an older version",
    ),
    pytest.param(
        changes.deployed_before_approval,
        facts(
            change_list=[
                change(approvals=(*APPROVED, approval(3, "carol", "cab", T - S, "rejected")))
            ],
            deployments=(deployment(),),
        ),
        [(*CM2, (*DEPLOY, "approval:1", "approval:2", "approval:3"), T)],
        id="CM-2 rejected before start",
    ),
    pytest.param(
        changes.deployed_before_approval,
        facts(change_list=[change(risk="high")], deployments=(deployment(),)),
        [(*CM2, (*DEPLOY, "approval:1", "approval:2"), T)],
        id="CM-2 high risk needs two CAB",
    ),
    pytest.param(
        changes.deployed_before_approval,
        facts(settings=settings(cab_quorum={"medium": 2}), deployments=(deployment(),)),
        [(*CM2, (*DEPLOY, "approval:1", "approval:2"), T)],
        id="CM-2 quorum from settings",
    ),
    pytest.param(
        changes.deployed_before_approval,
        facts(
            change_list=[change(approvals=(approval(1, "alice", "cab", T - H), APPROVED[1]))],
            deployments=(deployment(),),
        ),
        [(*CM2, (*DEPLOY, "approval:1", "approval:2"), T)],
        id="CM-2 requester's approval does not count",
    ),
    pytest.param(
        changes.deployed_before_approval,
        facts(
            change_list=[
                change(
                    approvals=(approval(1, "max", "cab", T - H), approval(2, "max", "iso", T - H))
                )
            ],
            deployments=(deployment(),),
        ),
        [(*CM2, (*DEPLOY, "approval:1", "approval:2"), T)],
        id="CM-2 one person counts once",
    ),
    # CM-2 self-approval
    pytest.param(
        changes.self_approval,
        facts(change_list=[change(approvals=(approval(3, "alice", "cab", T - 2 * H),))]),
        [(*SELF, "approval:3", ("approval:3", "change:CHG-1"), T - 2 * H)],
        id="CM-2 requester approves",
    ),
    pytest.param(
        changes.self_approval,
        facts(change_list=[change(approvals=(approval(3, "dev", "iso", T - 2 * H),))]),
        [(*SELF, "approval:3", ("approval:3", "change:CHG-1"), T - 2 * H)],
        id="CM-2 author approves",
    ),
    pytest.param(
        changes.self_approval,
        facts(
            change_list=[
                change(
                    approvals=(
                        approval(6, "max", "iso", T - 2 * H),
                        approval(5, "max", "cab", T - 3 * H),
                    )
                )
            ]
        ),
        [(*SELF, "approval:6", ("approval:6", "change:CHG-1", "approval:5"), T - 2 * H)],
        id="CM-2 one person both CAB and ISO",
    ),
    # CM-3
    pytest.param(
        changes.emergency_overdue,
        facts(change_list=[emergency(retro_due_at=T)]),
        [(*RETRO, T)],
        id="CM-3 retro approval missing",
    ),
    pytest.param(
        changes.emergency_overdue,
        facts(change_list=[emergency(retro_due_at=T, retro_approved_at=T + S)]),
        [(*RETRO, T)],
        id="CM-3 retro approval late",
    ),
    pytest.param(
        changes.emergency_overdue,
        facts(change_list=[emergency(pir_due_at=T, pir_recorded_at=T + S)]),
        [(*PIR, T)],
        id="CM-3 PIR late",
    ),
    # CM-4
    pytest.param(
        changes.no_staging_evidence,
        facts(deployments=(deployment(),), test_runs={"CHG-1": (run(recorded_at=T + S),)}),
        [(*CM4, DEPLOY, T)],
        id="CM-4 run one second after start",
    ),
    pytest.param(
        changes.no_staging_evidence,
        facts(deployments=(deployment(),), test_runs={"CHG-1": (run(isolated=False),)}),
        [(*CM4, DEPLOY, T)],
        id="CM-4 run not isolated",
    ),
    pytest.param(
        changes.no_staging_evidence,
        facts(deployments=(deployment(),), test_runs={"CHG-1": (run(passed=False),)}),
        [(*CM4, DEPLOY, T)],
        id="CM-4 run failed",
    ),
    pytest.param(
        changes.no_staging_evidence,
        facts(deployments=(deployment(),), test_runs={"CHG-1": (run(commit="def456"),)}),
        [(*CM4, DEPLOY, T)],
        id="CM-4 run of another commit",
    ),
    pytest.param(
        changes.no_staging_evidence,
        facts(deployments=(deployment(),), test_runs={"CHG-7": (run(),)}),
        [(*CM4, DEPLOY, T)],
        id="CM-4 run of another change",
    ),
    pytest.param(
        changes.no_staging_evidence,
        facts(
            change_list=[emergency(key="CHG-1")],
            deployments=(deployment(),),
            test_runs={},
            settings=settings(emergency_requires_tests=True),
        ),
        [(*CM4, DEPLOY, T)],
        id="CM-4 emergency when the policy requires tests",
    ),
    pytest.param(
        changes.no_staging_evidence,
        facts(
            deployments=(deployment(),),
            test_runs={"CHG-1": (run(), run(id=8, documented_at=T + S))},
            settings=settings(documented_tests=True),
        ),
        [(*CM4, DEPLOY, T)],
        id="CM-4 run not documented in Workspace, or documented after the start",
    ),
    # CM-5
    pytest.param(
        changes.non_pipeline_deployment,
        facts(deployments=(deployment(deployer="bob", deployer_is_pipeline=False),)),
        [(*CM5, DEPLOY, T)],
        id="CM-5 human deploys",
    ),
    pytest.param(
        changes.non_pipeline_deployment,
        facts(
            deployments=(deployment(kind="rollback", deployer="bob", deployer_is_pipeline=False),)
        ),
        [(*CM5, DEPLOY, T)],
        id="CM-5 human rolls back",
    ),
    # CM-6, CFG-3, EXC-1: a quarter without its signed review
    pytest.param(
        governance.metrics_review_missing,
        facts(),
        [(*CM6, ("quarter:2026-Q2",), Q2_DEADLINE)],
        id="CM-6 no review",
    ),
    pytest.param(
        governance.metrics_review_missing,
        facts(reviews=(review("quarterly_metrics", ("iso",), Q2_DEADLINE + S),)),
        [(*CM6, ("quarter:2026-Q2", "review:4"), Q2_DEADLINE)],
        id="CM-6 review late",
    ),
    pytest.param(
        governance.metrics_review_missing,
        facts(reviews=(review("quarterly_metrics", ("cab",), Q2_DEADLINE - H),)),
        [(*CM6, ("quarter:2026-Q2", "review:4"), Q2_DEADLINE)],
        id="CM-6 signed by a non-ISO",
    ),
    pytest.param(
        governance.metrics_review_missing,
        facts(settings=settings(calendar=BusinessCalendar(tz="Europe/Berlin"))),
        [(*CM6, ("quarter:2026-Q2",), datetime(2026, 7, 15, tzinfo=BERLIN))],
        id="CM-6 quarter ends on the policy's local midnight",
    ),
    pytest.param(
        governance.metrics_review_missing,
        facts(
            settings=settings(
                calendar=BusinessCalendar(tz="UTC", holidays=frozenset({date(2026, 7, 3)}))
            )
        ),
        [(*CM6, ("quarter:2026-Q2",), Q2_DEADLINE + D)],
        id="CM-6 holiday shifts",
    ),
    pytest.param(
        config.baseline_verification_missing,
        facts(reviews=(review("baseline_verification", ("iso",), Q2_DEADLINE - H),)),
        [(*CFG3, ("quarter:2026-Q2", "review:4"), Q2_DEADLINE)],
        id="CFG-3 signed by the ISO, not the security engineer",
    ),
    pytest.param(
        governance.waiver_review_missing,
        facts(reviews=(review("quarterly_metrics", ("iso",), Q2_DEADLINE - H),)),
        [(*EXCQ, ("quarter:2026-Q2",), Q2_DEADLINE)],
        id="EXC-1 wrong kind of review",
    ),
    # CFG-2, CFG-4
    pytest.param(
        config.unauthorised_drift,
        facts(drifts=(drift(),)),
        [(*CFG2, T)],
        id="CFG-2 unauthorised drift",
    ),
    pytest.param(
        config.drift_overdue, facts(drifts=(drift(),)), [(*CFG4, T + 48 * H)], id="CFG-4 still open"
    ),
    pytest.param(
        config.drift_overdue,
        facts(drifts=(drift(status="remediated", closed_at=T + 48 * H + S),)),
        [(*CFG4, T + 48 * H)],
        id="CFG-4 closed late",
    ),
    # EXC-1
    pytest.param(
        governance.expired_not_reviewed,
        facts(waivers=(waiver(expires_at=T),)),
        [(*EXPIRED, T)],
        id="EXC-1 expired unreviewed",
    ),
    pytest.param(
        governance.expired_not_reviewed,
        facts(waivers=(waiver(expires_at=T, reviewed_at=T + S),)),
        [(*EXPIRED, T)],
        id="EXC-1 reviewed after expiry",
    ),
    pytest.param(
        governance.single_party_approval,
        facts(waivers=(waiver(approvals=(waiver_approval(1, "bob", "cab"),)),)),
        [(*SINGLE, ("waiver:WVR-2", "approval:1"), T)],
        id="EXC-1 CAB only",
    ),
    pytest.param(
        governance.single_party_approval,
        facts(
            waivers=(
                waiver(
                    approvals=(waiver_approval(1, "max", "cab"), waiver_approval(2, "max", "iso"))
                ),
            )
        ),
        [(*SINGLE, ("waiver:WVR-2", "approval:1", "approval:2"), T)],
        id="EXC-1 one person both roles",
    ),
    pytest.param(
        governance.single_party_approval,
        facts(
            waivers=(
                waiver(
                    approvals=(waiver_approval(1, "bob", "cab"), waiver_approval(2, "alice", "iso"))
                ),
            )
        ),
        [(*SINGLE, ("waiver:WVR-2", "approval:1", "approval:2"), T)],
        id="EXC-1 requester approves",
    ),
    pytest.param(
        governance.single_party_approval,
        facts(
            waivers=(
                waiver(
                    approvals=(
                        waiver_approval(1, "bob", "cab"),
                        waiver_approval(2, "ivy", "iso", T + S),
                    )
                ),
            )
        ),
        [(*SINGLE, ("waiver:WVR-2", "approval:1", "approval:2"), T)],
        id="EXC-1 ISO approved after the window opened",
    ),
    pytest.param(
        governance.single_party_approval,
        facts(waivers=(waiver(periods=((1, T - 40 * D, T - 10 * D), (2, T, T + 30 * D))),)),
        [("EXC-1", "EXC-1.single-party-approval", "waiver:WVR-2#2", ("waiver:WVR-2",), T)],
        id="EXC-1 renewal round without its own approvals",
    ),
    # VIO-1
    pytest.param(
        governance.not_reported,
        facts(
            findings=(
                stored_finding(
                    deliveries=(delivered("iso", T + H), delivered("hr", T + 24 * H + S))
                ),
            )
        ),
        [(*UNREPORTED, T + 24 * H)],
        id="VIO-1 HR one second late",
    ),
    pytest.param(
        governance.not_reported,
        facts(
            findings=(stored_finding(deliveries=(delivered("hr", T + H), delivered("iso", None))),)
        ),
        [(*UNREPORTED, T + 24 * H)],
        id="VIO-1 ISO delivery failed",
    ),
    pytest.param(
        governance.remediation_overdue,
        facts(findings=(stored_finding(remediation_due_at=T + 3 * D),)),
        [(*OVERDUE, T + 3 * D)],
        id="VIO-1 not remediated",
    ),
    pytest.param(
        governance.remediation_overdue,
        facts(
            findings=(stored_finding(remediation_due_at=T + 3 * D, remediated_at=T + 3 * D + S),)
        ),
        [(*OVERDUE, T + 3 * D)],
        id="VIO-1 remediated late",
    ),
]


def observed(**overrides: Any) -> ObservedFact:
    base: dict[str, Any] = {
        "observation_id": 7,
        "resource_type": "AWS::IAM::Role",
        "resource_id": "AROA0000000000EXAMPLE",
        "resource_name": "deploy-role",
        "account_id": "123456789012",
        "region": "global",
        "first_seen": T + D,
        "deleted": False,
    }
    return ObservedFact(**(base | overrides))


CFG1 = ("CFG-1", "CFG-1.no-baseline", "resource:AWS::IAM::Role:AROA0000000000EXAMPLE")
RAISED += [
    pytest.param(
        config.no_baseline,
        facts(observed=(observed(),), declared=frozenset({("AWS::IAM::Role", "other-role")})),
        [(*CFG1, ("observation:7",), T + D)],
        id="CFG-1 no baseline declares the role",
    ),
    pytest.param(
        config.no_baseline,
        facts(observed=(observed(),), declared=frozenset({("AWS::S3::Bucket", "deploy-role")})),
        [(*CFG1, ("observation:7",), T + D)],
        id="CFG-1 the same name of another type is not a declaration",
    ),
]


@pytest.mark.parametrize(("rule", "f", "expected"), RAISED)
def test_rule_raises(rule: Rule, f: AuditFacts, expected: list[Key]) -> None:
    assert drafts(rule, f) == expected


NOT_RAISED: list[Any] = [
    pytest.param(
        changes.incomplete_request,
        facts(change_list=[change(status="submitted")], deployments=(deployment(),)),
        id="CM-1 submitted and complete",
    ),
    pytest.param(
        changes.deployed_before_approval,
        facts(
            change_list=[change(approvals=(APPROVED[0], approval(2, "ivy", "iso", T - S)))],
            deployments=(deployment(),),
        ),
        id="CM-2 ISO one second early",
    ),
    pytest.param(
        changes.deployed_before_approval,
        facts(
            change_list=[change(approvals=(APPROVED[0], approval(2, "ivy", "iso", T)))],
            deployments=(deployment(),),
        ),
        id="CM-2 ISO at the start instant",
    ),
    pytest.param(
        changes.deployed_before_approval,
        facts(
            change_list=[change(version=2, versions=((1, T - 2 * D), (2, T + S)))],
            deployments=(deployment(),),
        ),
        id="CM-2 edited after the deploy started",
    ),
    pytest.param(
        changes.deployed_before_approval,
        facts(
            change_list=[
                change(approvals=(*APPROVED, approval(3, "carol", "cab", T + S, "rejected")))
            ],
            deployments=(deployment(),),
        ),
        id="CM-2 rejected after start",
    ),
    pytest.param(
        changes.deployed_before_approval,
        facts(
            change_list=[change(approvals=(), risk="high")],
            deployments=(
                deployment(kind="rollback"),
                deployment(id=46, environment="staging", production=False),
            ),
        ),
        id="CM-2 rollbacks and staging need no approval",
    ),
    pytest.param(
        changes.deployed_before_approval,
        facts(change_list=[emergency(key="CHG-1")], deployments=(deployment(),)),
        id="CM-2 emergencies are CM-3's",
    ),
    pytest.param(
        changes.self_approval,
        facts(
            change_list=[
                change(
                    approvals=(
                        approval(5, "max", "cab", T - 3 * H),
                        approval(6, "max", "iso", T, version=2),
                        approval(7, "alice", "cab", T, "rejected"),
                    )
                )
            ]
        ),
        id="CM-2 one person per version; a requester's rejection",
    ),
    pytest.param(
        changes.emergency_overdue,
        facts(
            change_list=[
                emergency(retro_due_at=T, retro_approved_at=T, pir_due_at=T, pir_recorded_at=T - S)
            ]
        ),
        id="CM-3 both done by the deadline",
    ),
    pytest.param(
        changes.emergency_overdue,
        facts(change_list=[emergency(retro_due_at=T, pir_due_at=T)], period=period(as_of=T - S)),
        id="CM-3 not yet due",
    ),
    pytest.param(
        changes.no_staging_evidence,
        facts(deployments=(deployment(),), test_runs={"CHG-1": (run(recorded_at=T),)}),
        id="CM-4 run at the start instant",
    ),
    pytest.param(
        changes.no_staging_evidence,
        facts(
            deployments=(deployment(artifact="img@sha256:aa"),),
            test_runs={"CHG-1": (run(commit="def456", artifact="img@sha256:aa"),)},
        ),
        id="CM-4 same artifact, rebuilt commit",
    ),
    pytest.param(
        changes.no_staging_evidence,
        facts(change_list=[emergency(key="CHG-1")], deployments=(deployment(),), test_runs={}),
        id="CM-4 emergency exempt by default",
    ),
    pytest.param(
        changes.no_staging_evidence,
        facts(
            deployments=(deployment(),),
            test_runs={"CHG-1": (run(documented_at=T),)},
            settings=settings(documented_tests=True),
        ),
        id="CM-4 run documented in Workspace at the start instant",
    ),
    pytest.param(
        changes.non_pipeline_deployment,
        facts(
            deployments=(
                deployment(
                    environment="staging",
                    production=False,
                    deployer="bob",
                    deployer_is_pipeline=False,
                ),
            )
        ),
        id="CM-5 a human may deploy to staging",
    ),
    pytest.param(
        governance.metrics_review_missing,
        facts(reviews=(review("quarterly_metrics", ("cab", "iso"), Q2_DEADLINE),)),
        id="CM-6 signed at the deadline",
    ),
    pytest.param(
        governance.metrics_review_missing,
        facts(period=period(as_of=Q2_DEADLINE - S)),
        id="CM-6 not yet due",
    ),
    pytest.param(
        config.baseline_verification_missing,
        facts(reviews=(review("baseline_verification", ("security_engineer",), Q2_DEADLINE - S),)),
        id="CFG-3 verified in time",
    ),
    pytest.param(
        governance.waiver_review_missing,
        facts(reviews=(review("waiver_quarterly", ("iso",), Q2_DEADLINE - S),)),
        id="EXC-1 quarterly review in time",
    ),
    pytest.param(
        config.unauthorised_drift,
        facts(drifts=(drift(authorised_by="CHG-1"), drift(id=10, status="authorised"))),
        id="CFG-2 authorised drift",
    ),
    pytest.param(
        config.drift_overdue,
        facts(
            drifts=(
                drift(status="remediated", closed_at=T + 48 * H),
                drift(id=10, authorised_by="CHG-1"),
            )
        ),
        id="CFG-4 closed at the deadline; authorised drift has no clock",
    ),
    pytest.param(
        governance.expired_not_reviewed,
        facts(waivers=(waiver(expires_at=T, reviewed_at=T), waiver(key="WVR-3", expires_at=None))),
        id="EXC-1 reviewed at expiry",
    ),
    pytest.param(
        governance.single_party_approval,
        facts(
            waivers=(
                waiver(
                    approvals=(
                        waiver_approval(1, "bob", "cab", T),
                        waiver_approval(2, "ivy", "iso", T),
                    )
                ),
            )
        ),
        id="EXC-1 joint approval at the window's start",
    ),
    pytest.param(
        governance.not_reported,
        facts(
            findings=(
                stored_finding(deliveries=(delivered("iso", T), delivered("hr", T + 24 * H))),
                stored_finding(key="FND-2", deliveries=(), status="suppressed"),
                stored_finding(
                    key="FND-3", control="VIO-1", rule="VIO-1.not-reported", deliveries=()
                ),
            )
        ),
        id="VIO-1 reported on time; suppressed and VIO-1 findings exempt",
    ),
    pytest.param(
        governance.not_reported,
        facts(findings=(stored_finding(deliveries=()),), period=period(as_of=T + 24 * H - S)),
        id="VIO-1 report not yet due",
    ),
    pytest.param(
        governance.remediation_overdue,
        facts(
            findings=(
                stored_finding(remediation_due_at=T + 3 * D, remediated_at=T + 3 * D),
                stored_finding(
                    key="FND-3", control="VIO-1", rule="VIO-1.not-reported", remediation_due_at=T
                ),
            )
        ),
        id="VIO-1 remediated at the deadline; VIO-1 findings exempt",
    ),
]


NOT_RAISED += [
    pytest.param(
        config.no_baseline,
        facts(observed=(observed(),), declared=frozenset({("AWS::IAM::Role", "deploy-role")})),
        id="CFG-1 declared by the name the template gives it",
    ),
    pytest.param(
        config.no_baseline,
        facts(
            observed=(observed(),),
            declared=frozenset({("AWS::IAM::Role", "AROA0000000000EXAMPLE")}),
        ),
        id="CFG-1 declared by its id",
    ),
    pytest.param(
        config.no_baseline,
        facts(observed=(observed(deleted=True),)),
        id="CFG-1 gone by the end of the period",
    ),
]


@pytest.mark.parametrize(("rule", "f"), NOT_RAISED)
def test_near_miss_raises_nothing(rule: Rule, f: AuditFacts) -> None:
    assert drafts(rule, f) == []


# --- waivers: suppressed (kept, marked) or not ---------------------------------------------------

HUMAN = deployment(deployer="bob", deployer_is_pipeline=False)
COVERABLE: list[Any] = [
    pytest.param(
        facts(deployments=(deployment(change_key="CHG-9"),)),
        "CM-1.incomplete-request",
        "CM-1",
        ScopeKind.CHANGE,
        "CHG-9",
        T,
        id="CM-1",
    ),
    pytest.param(
        facts(change_list=[change(approvals=())], deployments=(deployment(),)),
        "CM-2.deployed-before-approval",
        "CM-2",
        ScopeKind.CHANGE,
        "chg-1",
        T,
        id="CM-2 deploy",
    ),
    pytest.param(
        facts(change_list=[change(approvals=(approval(3, "alice", "cab", T),))]),
        "CM-2.self-approval",
        "CM-2",
        ScopeKind.PRINCIPAL,
        "alice",
        T,
        id="CM-2 self",
    ),
    pytest.param(
        facts(change_list=[emergency(retro_due_at=T)]),
        "CM-3.retro-approval-overdue",
        "CM-3",
        ScopeKind.CHANGE,
        "CHG-2",
        T,
        id="CM-3 retro",
    ),
    pytest.param(
        facts(change_list=[emergency(pir_due_at=T)]),
        "CM-3.pir-overdue",
        "CM-3",
        ScopeKind.CHANGE,
        "CHG-2",
        T,
        id="CM-3 PIR",
    ),
    pytest.param(
        facts(deployments=(deployment(),), test_runs={}),
        "CM-4.no-staging-evidence",
        "CM-4",
        ScopeKind.ENVIRONMENT,
        "production",
        T,
        id="CM-4",
    ),
    pytest.param(
        facts(deployments=(HUMAN,)),
        "CM-5.non-pipeline-deployment",
        "CM-5",
        ScopeKind.PRINCIPAL,
        "bob",
        T,
        id="CM-5",
    ),
    pytest.param(
        facts(drifts=(drift(),)),
        "CFG-2.unauthorised-drift",
        "CFG-2",
        ScopeKind.RESOURCE,
        "logs",
        T,
        id="CFG-2",
    ),
    pytest.param(
        facts(drifts=(drift(),)),
        "CFG-4.drift-overdue",
        "CFG-4",
        ScopeKind.RESOURCE,
        "logs",
        T + 48 * H,
        id="CFG-4",
    ),
]


def result(results: list[Result], rule: str, subject: str | None = None) -> Result:
    [found] = [r for r in results if r.draft.rule == rule and subject in (None, r.draft.subject)]
    return found


@pytest.mark.parametrize(("f", "rule", "control", "kind", "value", "at"), COVERABLE)
def test_an_active_waiver_suppresses_exactly_what_it_covers(
    f: AuditFacts, rule: str, control: str, kind: ScopeKind, value: str, at: datetime
) -> None:
    other = next(k for k in ScopeKind if k is not kind)
    misses = [
        cover(control, kind, "something-else", key="WVR-11"),
        cover("CM-99", kind, value, key="WVR-12"),
        cover(control, other, value, key="WVR-13"),
        cover(control, kind, value, start=at - 10 * D, end=at, key="WVR-14"),
        cover(control, kind, value, start=at + S, key="WVR-15"),
    ]
    assert (
        result(engine.evaluate(dataclasses.replace(f, covers=tuple(misses))), rule).waiver is None
    )
    hit = cover(control, kind, value, key="WVR-3")
    covered = engine.evaluate(dataclasses.replace(f, covers=(*misses, hit)))
    assert result(covered, rule).waiver == "WVR-3"  # suppressed, still on record


# Oversight findings carry no scope a waiver could name: an exception cannot excuse the ISO's
# own reviews, the exceptions process itself, or reporting a violation.
UNCOVERABLE: list[Any] = [
    pytest.param(facts(), "CM-6.quarterly-review-missing", id="CM-6"),
    pytest.param(facts(), "CFG-3.quarterly-verification-missing", id="CFG-3"),
    pytest.param(facts(), "EXC-1.quarterly-review-missing", id="EXC-1 quarterly"),
    pytest.param(
        facts(waivers=(waiver(expires_at=T),)), "EXC-1.expired-not-reviewed", id="EXC-1 expired"
    ),
    pytest.param(
        facts(waivers=(waiver(approvals=()),)),
        "EXC-1.single-party-approval",
        id="EXC-1 single party",
    ),
    pytest.param(
        facts(findings=(stored_finding(deliveries=()),)),
        "VIO-1.not-reported",
        id="VIO-1 not reported",
    ),
    pytest.param(
        facts(findings=(stored_finding(remediation_due_at=T),)),
        "VIO-1.remediation-overdue",
        id="VIO-1 overdue",
    ),
]


@pytest.mark.parametrize(("f", "rule"), UNCOVERABLE)
def test_oversight_findings_cannot_be_waived(f: AuditFacts, rule: str) -> None:
    control = rule.partition(".")[0]
    every_scope = tuple(
        cover(control, k, v, start=T - 400 * D, end=T + 400 * D, key=f"WVR-{i}")
        for i, k in enumerate(ScopeKind)
        for v in ("CHG-1", "WVR-2", "FND-1", "quarter:2026-Q2", "someone")
    )
    f = dataclasses.replace(f, covers=every_scope)
    evaluate = engine.evaluate_violations if control == "VIO-1" else engine.evaluate
    assert result(evaluate(f), rule).waiver is None


# --- the engine --------------------------------------------------------------------------------


def busy_facts() -> AuditFacts:
    """A period with a bit of everything, several findings per rule, some waived."""
    return facts(
        change_list=[
            change(
                approvals=(
                    approval(1, "bob", "cab", T + S),
                    approval(2, "alice", "iso", T - H),
                    approval(3, "max", "cab", T - H),
                    approval(4, "max", "iso", T - S),
                )
            ),
            change(key="CHG-3", missing_fields=("impact",)),
            emergency(retro_due_at=T + D, pir_due_at=T + 2 * D),
        ],
        deployments=(
            deployment(),
            dataclasses.replace(HUMAN, id=46),
            deployment(id=47, change_key="CHG-3", started_at=T + H),
            deployment(
                id=48, change_key="CHG-9", environment="staging", production=False, started_at=T - D
            ),
        ),
        test_runs={"CHG-1": (run(recorded_at=T + S), run(id=8, isolated=False))},
        drifts=(drift(), drift(id=10, resource_id="db", detected_at=T + D)),
        waivers=(waiver(expires_at=T + 2 * D), waiver(key="WVR-4", approvals=())),
        reviews=(review("quarterly_metrics", ("cab",), T - 30 * D),),
        covers=(
            cover("CM-4", ScopeKind.ENVIRONMENT, "production", key="WVR-7"),
            cover("CM-4", ScopeKind.CHANGE, "CHG-1", key="WVR-10"),
            cover("CFG-2", ScopeKind.RESOURCE, "db", key="WVR-8"),
        ),
        findings=(
            stored_finding(deliveries=(), remediation_due_at=T + 3 * D),
            stored_finding(key="FND-2", remediation_due_at=T),
        ),
    )


def shuffled(f: AuditFacts, seed: int) -> AuditFacts:
    rng = random.Random(seed)

    def mix(items: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(rng.sample(list(items), len(items)))

    changes_ = {
        c.key: dataclasses.replace(c, approvals=mix(c.approvals))
        for c in mix(list(f.changes.values()))
    }
    return dataclasses.replace(
        f,
        changes=changes_,
        deployments=mix(f.deployments),
        drifts=mix(f.drifts),
        waivers=mix(f.waivers),
        reviews=mix(f.reviews),
        covers=mix(f.covers),
        findings=mix(f.findings),
        test_runs={k: mix(v) for k, v in mix(list(f.test_runs.items()))},
    )


def test_the_engine_is_deterministic() -> None:
    f = busy_facts()
    first = engine.evaluate(f)
    violations = engine.evaluate_violations(f)
    assert len(first) > 10
    assert engine.evaluate(f) == first
    for seed in range(5):
        again = shuffled(f, seed)
        assert engine.evaluate(again) == first
        assert engine.evaluate_violations(again) == violations
        assert engine.digest(engine.evaluate(again)) == engine.digest(first)
    assert first == sorted(first, key=lambda r: (r.draft.occurred_at, r.draft.fingerprint))
    # The lowest-numbered covering waiver wins, whatever order the covers came in.
    assert result(first, "CM-4.no-staging-evidence", "deployment:45").waiver == "WVR-7"


def test_the_digest_is_over_fingerprints_and_waivers() -> None:
    results = engine.evaluate(busy_facts())
    assert engine.digest(list(reversed(results))) == engine.digest(results)
    unwaived = [Result(r.draft, None) for r in results]
    assert engine.digest(unwaived) != engine.digest(results)
    assert engine.digest([]) == engine.digest(())


def test_evaluate_leaves_vio1_to_evaluate_violations() -> None:
    f = busy_facts()
    assert {r.draft.control for r in engine.evaluate(f)} == {
        "CM-1",
        "CM-2",
        "CM-3",
        "CM-4",
        "CM-5",
        "CM-6",
        "CFG-2",
        "CFG-3",
        "CFG-4",
        "EXC-1",
    }
    assert {r.draft.rule for r in engine.evaluate_violations(f)} == {
        "VIO-1.not-reported",
        "VIO-1.remediation-overdue",
    }


def test_auth_1_names_the_record_the_person_and_the_change() -> None:
    waived = DecisionFact(42, "finding.confirmed", "FND-2", "ivy@x.io", T + timedelta(hours=1))
    [first, second] = identity.unauthenticated_decision(facts(unauthenticated=(UNSIGNED, waived)))
    assert (first.rule, first.subject, first.evidence) == (
        "AUTH-1.unauthenticated-decision",
        "ledger:41",
        ("ledger:41",),
    )
    assert first.attributes == {"principal": "ivy@x.io", "change": "CHG-1"}
    assert second.attributes == {"principal": "ivy@x.io"} and second.occurred_at == waived.at


def test_rules_are_registered_under_their_control() -> None:
    f = busy_facts()
    for control, rule in engine.RULES:
        assert all(d.rule.startswith(f"{control}.") for d in rule(f)), rule.__name__
    assert [c for c, _ in engine.RULES][-2:] == ["VIO-1", "VIO-1"]


@pytest.mark.parametrize(
    ("started_at", "kept"),
    [
        (datetime(2026, 7, 1, tzinfo=UTC) - S, False),
        (datetime(2026, 7, 1, tzinfo=UTC), True),
        (datetime(2026, 10, 1, tzinfo=UTC) - S, True),
        (datetime(2026, 10, 1, tzinfo=UTC), False),
    ],
)
def test_only_what_happened_inside_the_period_is_found(started_at: datetime, kept: bool) -> None:
    f = facts(
        deployments=(deployment(started_at=started_at, deployer="bob", deployer_is_pipeline=False),)
    )
    rules = {r.draft.rule for r in engine.evaluate(f)}
    assert ("CM-5.non-pipeline-deployment" in rules) is kept


def test_nothing_after_as_of_is_found() -> None:
    f = facts(deployments=(HUMAN,), period=period(as_of=T - S))
    assert [r for r in engine.evaluate(f) if r.draft.control == "CM-5"] == []


def test_a_record_loaded_twice_is_one_finding() -> None:
    f = facts(deployments=(HUMAN, HUMAN))
    assert [r.draft.subject for r in engine.evaluate(f) if r.draft.control == "CM-5"] == [
        "deployment:45"
    ]


def test_a_clean_period_has_no_findings() -> None:
    signed = tuple(
        review(kind, (role,), Q2_DEADLINE - H, id_=i)
        for i, (kind, role) in enumerate(
            [
                ("quarterly_metrics", "iso"),
                ("baseline_verification", "security_engineer"),
                ("waiver_quarterly", "iso"),
            ]
        )
    )
    f = facts(
        deployments=(deployment(),),
        reviews=signed,
        waivers=(waiver(reviewed_at=T),),
        findings=(stored_finding(),),
    )
    assert engine.evaluate(f) == []
    assert engine.evaluate_violations(f) == []


def test_nothing_before_the_controls_took_effect_is_a_finding() -> None:
    everything = engine.evaluate(busy_facts())
    assert any(r.draft.subject == "quarter:2026-Q2" for r in everything)
    since = T + 12 * H  # after the morning's deployments, before the next day's drift
    later = engine.evaluate(
        dataclasses.replace(busy_facts(), settings=settings(effective_from=since))
    )
    assert later and all(r.draft.occurred_at >= since for r in later)
    assert {r.draft.fingerprint for r in later} == {
        r.draft.fingerprint for r in everything if r.draft.occurred_at >= since
    }
    # A quarter that ended before the controls took effect needs no review.
    q3_start = dataclasses.replace(
        busy_facts(), settings=settings(effective_from=datetime(2026, 7, 1, tzinfo=UTC))
    )
    assert not [r for r in engine.evaluate(q3_start) if r.draft.subject == "quarter:2026-Q2"]


BY_HAND = dict(implemented_at=T, production_environments=("production",), implemented_by="alice")


def test_cm5_a_production_change_implemented_by_hand_is_found() -> None:
    f = facts(change_list=[change(**BY_HAND)])
    assert drafts(changes.implemented_by_hand, f) == [
        ("CM-5", "CM-5.implemented-without-pipeline", "change:CHG-1", ("change:CHG-1",), T)
    ]
    [found] = changes.implemented_by_hand(f)
    assert found.attributes == {
        "change": "CHG-1",
        "environment": "production",
        "principal": "alice",
    }


@pytest.mark.parametrize(
    "fix",
    [
        {"implemented_by_pipeline": True},  # a pipeline marked it implemented
        {"production_deployments": 1},  # a production deployment is on record
        {"production_environments": ()},  # it never targeted production
        {"implemented_at": None},  # not implemented
    ],
)
def test_cm5_implemented_through_a_pipeline_is_not(fix: dict[str, Any]) -> None:
    f = facts(change_list=[change(**(BY_HAND | fix))])
    assert changes.implemented_by_hand(f) == []


def test_cm5_by_hand_can_be_waived_for_that_person_only() -> None:
    f = dataclasses.replace(
        facts(change_list=[change(**BY_HAND)]),
        covers=(cover("CM-5", ScopeKind.PRINCIPAL, "alice", key="WVR-3"),),
    )
    assert [
        r.waiver for r in engine.evaluate(f) if r.draft.rule == "CM-5.implemented-without-pipeline"
    ] == ["WVR-3"]
    other = dataclasses.replace(f, covers=(cover("CM-5", ScopeKind.PRINCIPAL, "bob"),))
    assert [
        r.waiver
        for r in engine.evaluate(other)
        if r.draft.rule == "CM-5.implemented-without-pipeline"
    ] == [None]


# --- what the auditor reads: each finding's summary, word for word ------------------------------

MIDNIGHT_AUG_4 = datetime(2026, 8, 4, tzinfo=UTC)  # a business-day deadline: end of Mon 08-03
# The audit of 2027-Q1, run at the end of June 2027: year 2026's annual reviews fell due in it.
AFTER_2026 = period(
    name="2027-Q1",
    start=datetime(2027, 1, 1, tzinfo=UTC),
    end=datetime(2027, 4, 1, tzinfo=UTC),
    as_of=datetime(2027, 6, 30, tzinfo=UTC),
)
SUMMARIES: list[Any] = [
    pytest.param(
        plan.outside_declared_scope,
        facts(change_list=[change(environments=("staging",))], deployments=(deployment(),)),
        ["deployment #45 went to production: CHG-1 declares staging; production is not among them"],
        id="CM-1 outside the declared environments",
    ),
    pytest.param(
        plan.outside_window,
        facts(
            change_list=[change(window=(T - 6 * H, T - 4 * H))],
            deployments=(deployment(needs_approval=True),),
        ),
        [
            "deployment #45 to production started 2026-08-03T09:00:00+00:00: CHG-1 was planned "
            "for 2026-08-03T03:00:00+00:00 to 2026-08-03T05:00:00+00:00; the window has passed "
            "(tolerance 60 min after it)"
        ],
        id="CM-2 outside the planned window",
    ),
    pytest.param(
        changes.incomplete_request,
        facts(deployments=(deployment(change_key="CHG-9"),)),
        ["deployment #45 to production references an unknown change request: CHG-9"],
        id="CM-1 unknown",
    ),
    pytest.param(
        changes.incomplete_request,
        facts(
            change_list=[change(missing_fields=("rollback_plan", "impact"))],
            deployments=(deployment(),),
        ),
        [
            "deployment #45 to production references an incomplete request "
            "(missing rollback_plan, impact): CHG-1"
        ],
        id="CM-1 incomplete",
    ),
    pytest.param(
        changes.incomplete_request,
        facts(
            change_list=[change(status="draft")],
            deployments=(deployment(environment="staging", production=False),),
        ),
        ["deployment #45 to staging references a request that was never submitted: CHG-1"],
        id="CM-1 draft",
    ),
    pytest.param(
        changes.deployed_before_approval,
        facts(
            change_list=[change(approvals=(APPROVED[0], approval(2, "ivy", "iso", T + S)))],
            deployments=(deployment(),),
        ),
        ["deployment #45 of CHG-1 v1 started before approval: still needed the ISO's approval"],
        id="CM-2 ISO missing",
    ),
    pytest.param(
        changes.deployed_before_approval,
        facts(change_list=[change(approvals=(), risk="high")], deployments=(deployment(),)),
        [
            "deployment #45 of CHG-1 v1 started before approval: "
            "still needed 2 more CAB approvals and the ISO's approval"
        ],
        id="CM-2 nothing approved, high risk",
    ),
    pytest.param(
        changes.deployed_before_approval,
        facts(
            change_list=[
                change(approvals=(*APPROVED, approval(3, "carol", "cab", T - S, "rejected")))
            ],
            deployments=(deployment(),),
        ),
        ["deployment #45 of CHG-1 v1 started before approval: rejected by carol"],
        id="CM-2 rejected",
    ),
    pytest.param(
        changes.self_approval,
        facts(change_list=[change(approvals=(approval(3, "alice", "cab", T - 2 * H),))]),
        ["approval #3 of CHG-1 breaks segregation of duties: alice requested CHG-1"],
        id="CM-2 requester approves",
    ),
    pytest.param(
        changes.self_approval,
        facts(change_list=[change(approvals=(approval(3, "dev", "iso", T - 2 * H),))]),
        [
            "approval #3 of CHG-1 breaks segregation of duties: "
            "dev authored CHG-1 (its commits or pull requests)"
        ],
        id="CM-2 author approves",
    ),
    pytest.param(
        changes.self_approval,
        facts(
            change_list=[
                change(
                    approvals=(
                        approval(6, "max", "iso", T - 2 * H),
                        approval(5, "max", "cab", T - 3 * H),
                    )
                )
            ]
        ),
        ["approval #6 of CHG-1 breaks segregation of duties: max approved v1 as both cab and iso"],
        id="CM-2 one person both roles",
    ),
    pytest.param(
        changes.emergency_overdue,
        facts(change_list=[emergency(retro_due_at=T)]),
        ["emergency CHG-2: retroactive approval due 2026-08-03 09:00:00+00:00 is missing"],
        id="CM-3 retro missing",
    ),
    pytest.param(
        changes.emergency_overdue,
        facts(
            change_list=[emergency(pir_due_at=MIDNIGHT_AUG_4, pir_recorded_at=MIDNIGHT_AUG_4 + H)]
        ),
        [
            "emergency CHG-2: post-implementation review due end of Mon 2026-08-03 (UTC) is "
            "recorded late (2026-08-04 01:00:00+00:00)"
        ],
        id="CM-3 PIR late, business-day deadline",
    ),
    pytest.param(
        changes.no_staging_evidence,
        facts(deployments=(deployment(commit="0123456789abcdef"),), test_runs={}),
        [
            "deployment #45 of CHG-1 to production had no passing run in an isolated "
            "environment for 0123456789ab recorded before it started"
        ],
        id="CM-4 commit, cut to 12",
    ),
    pytest.param(
        changes.no_staging_evidence,
        facts(deployments=(deployment(artifact="img@sha256:aa"),), test_runs={}),
        [
            "deployment #45 of CHG-1 to production had no passing run in an isolated "
            "environment for img@sha256:aa recorded before it started"
        ],
        id="CM-4 artifact",
    ),
    pytest.param(
        changes.non_pipeline_deployment,
        facts(deployments=(HUMAN,)),
        ["deployment #45 to production was made by bob, not a pipeline principal"],
        id="CM-5 human deploys",
    ),
    pytest.param(
        changes.implemented_by_hand,
        facts(change_list=[change(**BY_HAND)]),
        [
            "CHG-1 targets production and was marked implemented by alice with no production "
            "deployment recorded through a pipeline"
        ],
        id="CM-5 by hand",
    ),
    pytest.param(
        changes.implemented_by_hand,
        facts(change_list=[change(**(BY_HAND | {"implemented_by": None}))]),
        [
            "CHG-1 targets production and was marked implemented by an unrecorded principal "
            "with no production deployment recorded through a pipeline"
        ],
        id="CM-5 by hand, nobody recorded",
    ),
    pytest.param(
        governance.metrics_review_missing,
        facts(),
        [
            "2026-Q2: no review of change metrics signed by a holder of the iso role by "
            "end of Tue 2026-07-14 (UTC)"
        ],
        id="CM-6",
    ),
    pytest.param(
        config.no_baseline,
        facts(observed=(observed(),)),
        [
            "AWS::IAM::Role AROA0000000000EXAMPLE runs in production account 123456789012 "
            "(global) and no approved baseline declares it"
        ],
        id="CFG-1 global",
    ),
    pytest.param(
        config.no_baseline,
        facts(observed=(observed(region="eu-west-1"),)),
        [
            "AWS::IAM::Role AROA0000000000EXAMPLE runs in production account 123456789012 "
            "(eu-west-1) and no approved baseline declares it"
        ],
        id="CFG-1 regional",
    ),
    pytest.param(
        config.no_baseline,
        facts(observed=(observed(region=None),)),
        [
            "AWS::IAM::Role AROA0000000000EXAMPLE runs in production account 123456789012 "
            "(global) and no approved baseline declares it"
        ],
        id="CFG-1 no region",
    ),
    pytest.param(
        config.unauthorised_drift,
        facts(drifts=(drift(),)),
        ["drift #9 on AWS::S3::Bucket logs is not linked to an approved change"],
        id="CFG-2",
    ),
    pytest.param(
        config.baseline_verification_missing,
        facts(),
        [
            "2026-Q2: no baseline verification signed by a holder of the security_engineer "
            "role by end of Tue 2026-07-14 (UTC)"
        ],
        id="CFG-3",
    ),
    pytest.param(
        config.drift_overdue,
        facts(drifts=(drift(),)),
        ["drift #9 on AWS::S3::Bucket logs was due 2026-08-05 09:00:00+00:00: still open"],
        id="CFG-4 open",
    ),
    pytest.param(
        config.drift_overdue,
        facts(drifts=(drift(status="remediated", closed_at=T + 48 * H + S),)),
        [
            "drift #9 on AWS::S3::Bucket logs was due 2026-08-05 09:00:00+00:00: "
            "closed late (2026-08-05 09:00:01+00:00)"
        ],
        id="CFG-4 closed late",
    ),
    pytest.param(
        governance.waiver_review_missing,
        facts(),
        [
            "2026-Q2: no review of waivers signed by a holder of the iso role by "
            "end of Tue 2026-07-14 (UTC)"
        ],
        id="EXC-1 quarterly",
    ),
    pytest.param(
        governance.expired_not_reviewed,
        facts(waivers=(waiver(expires_at=T),)),
        ["WVR-2 expired 2026-08-03 09:00:00+00:00 and was never reviewed"],
        id="EXC-1 never reviewed",
    ),
    pytest.param(
        governance.expired_not_reviewed,
        facts(waivers=(waiver(expires_at=T, reviewed_at=T + S),)),
        ["WVR-2 expired 2026-08-03 09:00:00+00:00 and was reviewed only after it expired"],
        id="EXC-1 reviewed late",
    ),
    pytest.param(
        governance.single_party_approval,
        facts(waivers=(waiver(approvals=()),)),
        [
            "WVR-2 round 1 took effect 2026-08-03 09:00:00+00:00 without joint approval by a "
            "CAB member and the ISO (two people, neither the requester)"
        ],
        id="EXC-1 single party",
    ),
    pytest.param(
        governance.not_reported,
        facts(findings=(stored_finding(deliveries=()),)),
        [
            "FND-1 (CM-4.no-staging-evidence) was not reported to iso and hr by "
            "2026-08-04 09:00:00+00:00"
        ],
        id="VIO-1 reported to nobody",
    ),
    pytest.param(
        governance.not_reported,
        facts(
            findings=(
                stored_finding(
                    deliveries=(delivered("iso", T + H), delivered("hr", T + 24 * H + S))
                ),
            )
        ),
        ["FND-1 (CM-4.no-staging-evidence) was not reported to hr by 2026-08-04 09:00:00+00:00"],
        id="VIO-1 HR late",
    ),
    pytest.param(
        governance.remediation_overdue,
        facts(findings=(stored_finding(remediation_due_at=T + 3 * D),)),
        [
            "FND-1 (CM-4.no-staging-evidence) was due for remediation "
            "2026-08-06 09:00:00+00:00: not remediated"
        ],
        id="VIO-1 not remediated",
    ),
    pytest.param(
        governance.remediation_overdue,
        facts(
            findings=(
                stored_finding(
                    remediation_due_at=datetime(2026, 8, 7, tzinfo=UTC),
                    remediated_at=datetime(2026, 8, 7, 8, tzinfo=UTC),
                ),
            )
        ),
        [
            "FND-1 (CM-4.no-staging-evidence) was due for remediation "
            "end of Thu 2026-08-06 (UTC): remediated late"
        ],
        id="VIO-1 remediated late, business-day deadline",
    ),
    pytest.param(
        annual.config_review_missing,
        facts(period=AFTER_2026),
        [
            "2026: no annual review of configuration-management reports signed by a holder of "
            "the iso role by end of Thu 2027-01-14 (UTC)"
        ],
        id="CFG-5 no annual review",
    ),
    pytest.param(
        annual.policy_review_missing,
        facts(period=AFTER_2026),
        [
            "2026: no annual review of the policy signed by a holder of the iso role by "
            "end of Thu 2027-01-14 (UTC)"
        ],
        id="POL-1 no annual review",
    ),
    pytest.param(
        identity.unauthenticated_decision,
        facts(
            unauthenticated=(DecisionFact(41, "change.approved_by_iso", "CHG-1", "ivy@x.io", T),)
        ),
        [
            "change.approved_by_iso on CHG-1 by ivy@x.io was made without signing in "
            "(in-process --as), so nothing proves who made it"
        ],
        id="AUTH-1 unauthenticated decision",
    ),
    pytest.param(
        trail.unauthorised_aws_change,
        trail_facts(aws_change()),
        [
            "AuthorizeSecurityGroupIngress (ec2.amazonaws.com) on "
            "arn:aws:ec2:us-east-1:123456789012:security-group/sg-0abc by person alice "
            "(arn:aws:iam::123456789012:user/alice) at 2026-08-03T09:00:00+00:00 in production "
            "account 123456789012: no approved deployment, emergency change or waiver covers it"
        ],
        id="CM-5 unauthorised AWS change",
    ),
]


def test_summaries_cover_every_rule() -> None:
    assert SUMMARIES
    assert {p.values[0] for p in SUMMARIES} == {rule for _, rule in engine.RULES}


@pytest.mark.parametrize(("rule", "f", "expected"), SUMMARIES)
def test_the_summary_says_what_was_found(rule: Rule, f: AuditFacts, expected: list[str]) -> None:
    assert SUMMARIES
    # As the engine keeps them: only what happened inside the period counts.
    assert [d.summary for d in rule(f) if f.period.contains(d.occurred_at)] == expected


# --- what a waiver's scope can match: each finding's attributes ---------------------------------


def test_deployment_findings_carry_change_environment_and_principal() -> None:
    f = facts(deployments=(deployment(deployer="bob", deployer_is_pipeline=False),))
    [found] = changes.non_pipeline_deployment(f)
    assert found.attributes == {"change": "CHG-1", "environment": "production", "principal": "bob"}


def test_a_self_approval_carries_its_change_and_approver() -> None:
    f = facts(change_list=[change(approvals=(approval(3, "alice", "cab", T - 2 * H),))])
    [found] = changes.self_approval(f)
    assert found.attributes == {"change": "CHG-1", "principal": "alice"}


def test_an_emergency_finding_carries_its_change() -> None:
    [found] = changes.emergency_overdue(facts(change_list=[emergency(retro_due_at=T)]))
    assert found.attributes == {"change": "CHG-2"}


def test_by_hand_with_no_implementer_recorded_names_no_principal() -> None:
    f = facts(change_list=[change(**(BY_HAND | {"implemented_by": None}))])
    [found] = changes.implemented_by_hand(f)
    assert found.attributes == {"change": "CHG-1", "environment": "production"}


def test_an_unbaselined_resource_carries_its_id_and_account() -> None:
    [found] = config.no_baseline(facts(observed=(observed(),)))
    assert found.attributes == {"resource": "AROA0000000000EXAMPLE", "account": "123456789012"}


def test_drift_findings_carry_the_resource() -> None:
    f = facts(drifts=(drift(),))
    assert [d.attributes for d in config.unauthorised_drift(f)] == [{"resource": "logs"}]
    assert [d.attributes for d in config.drift_overdue(f)] == [{"resource": "logs"}]


def test_an_unbaselined_resource_is_waived_by_its_resource_scope() -> None:
    f = facts(
        observed=(observed(),),
        covers=(cover("CFG-1", ScopeKind.RESOURCE, "AROA0000000000EXAMPLE", key="WVR-3"),),
    )
    assert [r.waiver for r in engine.evaluate(f) if r.draft.rule == "CFG-1.no-baseline"] == [
        "WVR-3"
    ]


# --- one record that does not qualify does not stop the scan of the next -------------------------

SECOND_IS_FOUND: list[Any] = [
    pytest.param(
        changes.deployed_before_approval,
        facts(
            change_list=[change(approvals=()), emergency()],
            deployments=(deployment(id=44, change_key="CHG-2"), deployment()),
        ),
        ["deployment:45"],
        id="CM-2 after an emergency's deployment",
    ),
    pytest.param(
        changes.deployed_before_approval,
        facts(
            change_list=[change(approvals=()), change(key="CHG-3")],
            deployments=(deployment(id=44, change_key="CHG-3"), deployment()),
        ),
        ["deployment:45"],
        id="CM-2 after an approved deployment",
    ),
    pytest.param(
        changes.self_approval,
        facts(
            change_list=[
                change(
                    approvals=(
                        approval(7, "carol", "cab", T - 3 * H, "rejected"),
                        approval(3, "alice", "cab", T - 2 * H),
                    )
                )
            ]
        ),
        ["approval:3"],
        id="CM-2 self-approval after a rejection",
    ),
    pytest.param(
        changes.emergency_overdue,
        facts(change_list=[change(), emergency(retro_due_at=T)]),
        ["change:CHG-2"],
        id="CM-3 after a normal change",
    ),
    pytest.param(
        changes.emergency_overdue,
        facts(change_list=[emergency(retro_due_at=T, retro_approved_at=T, pir_due_at=T)]),
        ["change:CHG-2"],
        id="CM-3 PIR after a retro approval in time",
    ),
    pytest.param(
        changes.no_staging_evidence,
        facts(
            change_list=[change(), emergency()],
            deployments=(deployment(id=44, change_key="CHG-2"), deployment()),
            test_runs={},
        ),
        ["deployment:45"],
        id="CM-4 after an exempt emergency",
    ),
    pytest.param(
        changes.no_staging_evidence,
        facts(deployments=(deployment(id=44), deployment(commit="def456"))),
        ["deployment:45"],
        id="CM-4 after a tested deployment",
    ),
    pytest.param(
        changes.implemented_by_hand,
        facts(change_list=[change(key="CHG-3"), change(**BY_HAND)]),
        ["change:CHG-1"],
        id="CM-5 after a change not implemented",
    ),
    pytest.param(
        config.no_baseline,
        facts(
            observed=(
                observed(observation_id=6, resource_id="declared-role", resource_name=None),
                observed(),
            ),
            declared=frozenset({("AWS::IAM::Role", "declared-role")}),
        ),
        ["resource:AWS::IAM::Role:AROA0000000000EXAMPLE"],
        id="CFG-1 after a declared resource",
    ),
    pytest.param(
        config.drift_overdue,
        facts(drifts=(drift(id=8, status="remediated", closed_at=T + H), drift())),
        ["drift:9"],
        id="CFG-4 after a drift closed in time",
    ),
    pytest.param(
        governance.expired_not_reviewed,
        facts(waivers=(waiver(key="WVR-1", reviewed_at=T), waiver(expires_at=T))),
        ["waiver:WVR-2"],
        id="EXC-1 after a reviewed waiver",
    ),
    pytest.param(
        governance.single_party_approval,
        facts(waivers=(waiver(periods=((1, T, T + 30 * D), (2, T + 30 * D, T + 60 * D))),)),
        ["waiver:WVR-2#2"],
        id="EXC-1 a renewal after a joint round",
    ),
    pytest.param(
        governance.not_reported,
        facts(
            findings=(
                stored_finding(first_detected_at=T + 2 * D, deliveries=()),
                stored_finding(key="FND-2", deliveries=()),
            ),
            period=period(as_of=T + 2 * D),
        ),
        ["finding:FND-2"],
        id="VIO-1 after a report not yet due",
    ),
    pytest.param(
        governance.remediation_overdue,
        facts(
            findings=(
                stored_finding(remediation_due_at=T, remediated_at=T),
                stored_finding(key="FND-2", remediation_due_at=T),
            )
        ),
        ["finding:FND-2"],
        id="VIO-1 after a remediation in time",
    ),
]


@pytest.mark.parametrize(("rule", "f", "subjects"), SECOND_IS_FOUND)
def test_a_record_that_does_not_qualify_does_not_end_the_scan(
    rule: Rule, f: AuditFacts, subjects: list[str]
) -> None:
    assert SECOND_IS_FOUND
    assert [d.subject for d in rule(f)] == subjects


# --- CM-2: which version, which quorum, which votes ---------------------------------------------

ONE_CAB = (approval(1, "bob", "cab", T - H), approval(2, "ivy", "iso", T - H))
TWO_CAB = (*ONE_CAB, approval(3, "carol", "cab", T - H))
QUORUM: list[Any] = [
    # The policy's defaults: low 1, medium 1, high 2 CAB approvals, and the ISO's.
    pytest.param({}, "low", ONE_CAB, [], id="low: one CAB"),
    pytest.param({}, "medium", ONE_CAB, [], id="medium: one CAB"),
    pytest.param({}, "high", ONE_CAB, ["still needed 1 more CAB approval"], id="high: one CAB"),
    pytest.param({}, "high", TWO_CAB, [], id="high: two CAB"),
    # A risk the policy does not name gets its strictest quorum.
    pytest.param({}, "critical", ONE_CAB, ["still needed 1 more CAB approval"], id="unknown risk"),
    pytest.param({}, "critical", TWO_CAB, [], id="unknown risk: two CAB"),
    pytest.param({"cab_quorum": {}}, "medium", ONE_CAB, [], id="no quorum: one CAB"),
    pytest.param(
        {"cab_quorum": {}},
        "medium",
        ONE_CAB[1:],
        ["still needed 1 more CAB approval"],
        id="no quorum: no CAB",
    ),
    pytest.param({"iso_required": False}, "medium", ONE_CAB[:1], [], id="no ISO required"),
    pytest.param(
        {"iso_required": True},
        "medium",
        ONE_CAB[:1],
        ["still needed the ISO's approval"],
        id="ISO required",
    ),
]


@pytest.mark.parametrize(("overrides", "risk", "approvals", "lacking"), QUORUM)
def test_cm2_re_performs_the_quorum_of_the_changes_risk(
    overrides: dict[str, Any], risk: str, approvals: tuple[ApprovalFact, ...], lacking: list[str]
) -> None:
    assert QUORUM
    # Settings built here, not at collection: the defaults are what is under test.
    f = facts(
        settings=settings(**overrides),
        change_list=[change(risk=risk, approvals=approvals)],
        deployments=(deployment(),),
    )
    assert [
        d.summary.removeprefix("deployment #45 of CHG-1 v1 started before approval: ")
        for d in changes.deployed_before_approval(f)
    ] == lacking


def test_cm2_a_version_created_at_the_start_instant_is_the_one_deployed() -> None:
    f = facts(
        change_list=[change(version=2, versions=((1, T - 2 * D), (2, T)))],
        deployments=(deployment(),),
    )
    assert [d.summary for d in changes.deployed_before_approval(f)] == [
        "deployment #45 of CHG-1 v2 started before approval: "
        "still needed 1 more CAB approval and the ISO's approval"
    ]


def test_cm2_with_no_version_history_the_current_version_counts() -> None:
    f = facts(change_list=[change(versions=())], deployments=(deployment(),))
    assert changes.deployed_before_approval(f) == []
    before_any = facts(change_list=[change(versions=((1, T + S),))], deployments=(deployment(),))
    assert changes.deployed_before_approval(before_any) == []


def test_cm2_votes_that_do_not_count_do_not_end_the_tally() -> None:
    other_version = change(
        version=2,
        versions=((1, T - 2 * D), (2, T - D)),
        approvals=(
            approval(1, "bob", "cab", T - 3 * D),
            approval(2, "carol", "cab", T - H, version=2),
            approval(3, "ivy", "iso", T - H, version=2),
        ),
    )
    by_the_requester = change(
        approvals=(approval(1, "alice", "cab", T - 2 * H), *APPROVED[::-1]),
    )
    twice = change(
        approvals=(
            approval(4, "bob", "cab", T - 2 * H),
            approval(1, "bob", "cab", T - H),
            approval(2, "ivy", "iso", T - H),
        ),
    )
    for c in (other_version, by_the_requester, twice):
        f = facts(change_list=[c], deployments=(deployment(),))
        assert changes.deployed_before_approval(f) == [], c.approvals


def test_cm2_evidence_includes_an_approval_decided_at_the_start_instant() -> None:
    f = facts(
        change_list=[change(risk="high", approvals=(APPROVED[0], approval(2, "ivy", "iso", T)))],
        deployments=(deployment(),),
    )
    assert drafts(changes.deployed_before_approval, f) == [
        (*CM2, (*DEPLOY, "approval:1", "approval:2"), T)
    ]


def test_cm2_one_person_approving_twice_in_one_role_is_no_self_approval() -> None:
    f = facts(
        change_list=[
            change(
                approvals=(approval(5, "max", "cab", T - 3 * H), approval(6, "max", "cab", T - H))
            )
        ]
    )
    assert changes.self_approval(f) == []


# --- boundaries: as_of, effective_from, a deadline at as_of -------------------------------------


def test_an_event_at_as_of_is_inside_the_period() -> None:
    f = facts(deployments=(HUMAN,), period=period(as_of=T))
    assert [r.draft.subject for r in engine.evaluate(f) if r.draft.control == "CM-5"] == [
        "deployment:45"
    ]


def test_a_finding_at_the_instant_the_controls_took_effect_is_kept() -> None:
    f = facts(deployments=(HUMAN,), settings=settings(effective_from=T))
    assert [r.draft.subject for r in engine.evaluate(f) if r.draft.control == "CM-5"] == [
        "deployment:45"
    ]
    later = facts(deployments=(HUMAN,), settings=settings(effective_from=T + S))
    assert [r for r in engine.evaluate(later) if r.draft.control == "CM-5"] == []


DUE_AT_AS_OF: list[Any] = [
    pytest.param(
        changes.emergency_overdue,
        facts(change_list=[emergency(retro_due_at=T)], period=period(as_of=T)),
        [(*RETRO, T)],
        id="CM-3",
    ),
    pytest.param(
        config.drift_overdue,
        facts(drifts=(drift(),), period=period(as_of=T + 48 * H)),
        [(*CFG4, T + 48 * H)],
        id="CFG-4",
    ),
    pytest.param(
        governance.metrics_review_missing,
        facts(period=period(as_of=Q2_DEADLINE)),
        [(*CM6, ("quarter:2026-Q2",), Q2_DEADLINE)],
        id="CM-6",
    ),
    pytest.param(
        governance.expired_not_reviewed,
        facts(waivers=(waiver(expires_at=T),), period=period(as_of=T)),
        [(*EXPIRED, T)],
        id="EXC-1 expiry",
    ),
    pytest.param(
        governance.not_reported,
        facts(findings=(stored_finding(deliveries=()),), period=period(as_of=T + 24 * H)),
        [(*UNREPORTED, T + 24 * H)],
        id="VIO-1 report",
    ),
    pytest.param(
        governance.remediation_overdue,
        facts(findings=(stored_finding(remediation_due_at=T),), period=period(as_of=T)),
        [(*OVERDUE, T)],
        id="VIO-1 remediation",
    ),
]


@pytest.mark.parametrize(("rule", "f", "expected"), DUE_AT_AS_OF)
def test_a_deadline_at_as_of_has_passed(rule: Rule, f: AuditFacts, expected: list[Key]) -> None:
    assert DUE_AT_AS_OF
    assert drafts(rule, f) == expected


# --- quarters: a year, a first quarter, a review that counts, controls taking effect ------------

YEAR_2026 = period(
    name="2026",
    start=datetime(2026, 1, 1, tzinfo=UTC),
    end=datetime(2027, 1, 1, tzinfo=UTC),
    as_of=datetime(2027, 1, 31, tzinfo=UTC),
)
# 10 business days (weekends only) after each quarter's last day: the next midnight, UTC.
DEADLINES_2026 = {
    "2025-Q4": datetime(2026, 1, 15, tzinfo=UTC),  # after Wed 2025-12-31: end of Wed 01-14
    "2026-Q1": datetime(2026, 4, 15, tzinfo=UTC),  # after Tue 2026-03-31: end of Tue 04-14
    "2026-Q2": Q2_DEADLINE,
    "2026-Q3": datetime(2026, 10, 15, tzinfo=UTC),  # after Wed 2026-09-30: end of Wed 10-14
}


def quarter_findings(f: AuditFacts) -> list[tuple[str, datetime]]:
    return [(d.subject, d.occurred_at) for d in governance.metrics_review_missing(f)]


def inside(f: AuditFacts) -> list[tuple[str, datetime]]:
    return [(s, at) for s, at in quarter_findings(f) if f.period.contains(at)]


def test_a_year_that_starts_on_1_january_has_the_reviews_of_its_quarters() -> None:
    f = facts(period=YEAR_2026)
    assert inside(f) == [(f"quarter:{q}", at) for q, at in DEADLINES_2026.items()]
    first = next(
        d for d in governance.metrics_review_missing(f) if f.period.contains(d.occurred_at)
    )
    assert first.summary == (
        "2025-Q4: no review of change metrics signed by a holder of the iso role by "
        "end of Wed 2026-01-14 (UTC)"
    )


def test_a_first_quarter_has_the_review_of_the_last_quarter_before_it() -> None:
    f = facts(
        period=period(
            name="2025-Q1",
            start=datetime(2025, 1, 1, tzinfo=UTC),
            end=datetime(2025, 4, 1, tzinfo=UTC),
            as_of=datetime(2025, 12, 31, tzinfo=UTC),
        )
    )
    # After Tue 2024-12-31, 10 business days end on Tue 2025-01-14.
    assert inside(f) == [("quarter:2024-Q4", datetime(2025, 1, 15, tzinfo=UTC))]


def test_a_reviewed_quarter_does_not_end_the_scan() -> None:
    signed = review("quarterly_metrics", ("iso",), datetime(2026, 1, 5, tzinfo=UTC), "2025-Q4")
    f = facts(period=YEAR_2026, reviews=(signed,))
    assert inside(f) == [(f"quarter:{q}", at) for q, at in DEADLINES_2026.items() if q != "2025-Q4"]


def test_quarters_that_ended_before_the_controls_took_effect_need_no_review() -> None:
    # 2026-Q1 ends at the very instant the controls took effect: it needs no review.
    f = facts(period=YEAR_2026, settings=settings(effective_from=datetime(2026, 4, 1, tzinfo=UTC)))
    assert inside(f) == [
        ("quarter:2026-Q2", DEADLINES_2026["2026-Q2"]),
        ("quarter:2026-Q3", DEADLINES_2026["2026-Q3"]),
    ]
    just_before = dataclasses.replace(
        f, settings=settings(effective_from=datetime(2026, 4, 1, tzinfo=UTC) - S)
    )
    assert [s for s, _ in inside(just_before)] == [
        "quarter:2026-Q1",
        "quarter:2026-Q2",
        "quarter:2026-Q3",
    ]


def test_late_reviews_are_evidence_in_id_order() -> None:
    late = (
        review("quarterly_metrics", ("iso",), Q2_DEADLINE + S, id_=9),
        review("quarterly_metrics", ("iso",), Q2_DEADLINE + H, id_=4),
    )
    assert drafts(governance.metrics_review_missing, facts(reviews=late)) == [
        (*CM6, ("quarter:2026-Q2", "review:4", "review:9"), Q2_DEADLINE)
    ]


# --- the digest, as docs/audits.md defines it ---------------------------------------------------

# SHA-256 over the sorted lines `fingerprint|waiver-key`, one per line, typed out by hand.
DIGEST_LINES = (
    "CM-4.no-staging-evidence|deployment:45|WVR-7\nCM-5.non-pipeline-deployment|deployment:45|"
)
DIGEST = "c7ac8d9d6c7009ae71cd2bf3f6a9a3cac2181f9985db9c85fd16ef990da2d52a"


def test_the_hand_written_digest_lines_hash_to_the_pinned_digest() -> None:
    import hashlib

    assert hashlib.sha256(DIGEST_LINES.encode()).hexdigest() == DIGEST


def test_the_digest_is_the_documented_one_and_names_the_waiver() -> None:
    f = facts(
        deployments=(HUMAN,),
        test_runs={},
        covers=(cover("CM-4", ScopeKind.ENVIRONMENT, "production", key="WVR-7"),),
    )
    results = [r for r in engine.evaluate(f) if r.draft.control in {"CM-4", "CM-5"}]
    assert engine.digest(results) == DIGEST
    rewaived = [Result(r.draft, r.waiver and "WVR-8") for r in results]
    assert engine.digest(rewaived) != DIGEST
