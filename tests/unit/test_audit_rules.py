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
from changegate.domain.audit import rules_changes as changes
from changegate.domain.audit import rules_config as config
from changegate.domain.audit import rules_governance as governance
from changegate.domain.audit.facts import (
    ApprovalFact,
    AuditFacts,
    AuditSettings,
    ChangeFact,
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
        quarter=quarter,
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
