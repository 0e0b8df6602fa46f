"""The audit facts' JSON codec: every kind of field the facts hold comes back equal, and the
encoded form is what docs/evidence.md says it is."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from changegate.domain.audit.facts import (
    ApprovalFact,
    AuditFacts,
    AuditSettings,
    ChangeFact,
    DeliveryFact,
    DeploymentFact,
    DriftFact,
    FindingFact,
    ObservedFact,
    Period,
    ReviewFact,
    WaiverApprovalFact,
    WaiverFact,
)
from changegate.domain.calendar import BusinessCalendar
from changegate.domain.gate import Evidence, WindowRule
from changegate.domain.waivers import Cover, ScopeKind, Window
from changegate.services.evidence import codec

T = datetime(2026, 7, 6, 9, 30, 0, 123456, tzinfo=UTC)
H = timedelta(hours=1)


def full_facts() -> AuditFacts:
    """One of every fact, every optional filled, every nesting used."""
    settings = AuditSettings(
        calendar=BusinessCalendar(
            "Europe/Berlin",
            frozenset({date(2026, 10, 3), date(2026, 12, 25)}),
            "DE holidays",
            frozenset({5, 6}),
            frozenset({date(2026, 7, 11)}),
        ),
        quarterly_review_business_days=10,
        report_hours=24,
        emergency_requires_tests=True,
        cab_quorum={"low": 1, "medium": 1, "high": 2},
        iso_required=False,
        effective_from=T - 30 * 24 * H,
        window_rule=WindowRule(timedelta(minutes=15), timedelta(minutes=45), False),
    )
    change = ChangeFact(
        key="CHG-7",
        requester="alice@example.com",
        status="implemented",
        change_type="emergency",
        risk="high",
        version=2,
        missing_fields=("ticket",),
        commit_authors=("dev@example.com",),
        approvals=(ApprovalFact(3, "bob@example.com", "cab", "approved", 2, T, True),),
        versions=((1, T - H), (2, T)),
        implemented_at=T + H,
        retro_due_at=T + 48 * H,
        retro_approved_at=None,
        pir_due_at=T + 96 * H,
        pir_recorded_at=T + 50 * H,
        production_environments=("production",),
        implemented_by="ci@example.com",
        implemented_by_pipeline=True,
        production_deployments=1,
        environments=("staging", "production"),
        window=(T, None),
    )
    return AuditFacts(
        period=Period("2026-Q3", T - 90 * 24 * H, T + 24 * H, T),
        settings=settings,
        changes={"CHG-7": change},
        deployments=(
            DeploymentFact(
                45, "CHG-7", "production", True, "rollback", "succeeded", "a" * 40, None,
                T, "ci@example.com", True, "infra/stack.yaml", True,
            ),
        ),
        test_runs={"CHG-7": (Evidence(9, "staging", True, "a" * 40, "img:1", True, T, "ok"),)},
        reviews=(ReviewFact(2, "quarterly_metrics", "2026-Q2", "ivy@example.com", ("iso",), T),),
        drifts=(DriftFact(5, "AWS::S3::Bucket", "logs", "open", None, T, T + 48 * H, None),),
        waivers=(
            WaiverFact(
                "WVR-1", "rob@example.com", "active", 1, T + 24 * H, None,
                ((1, T, T + 24 * H),),
                (WaiverApprovalFact(8, 1, "iso", "approved", "ivy@example.com", T),),
            ),
        ),
        covers=(
            Cover("WVR-1", frozenset({"CM-4", "CM-2"}), ScopeKind.CHANGE, "CHG-7",
                  (Window(T, T + 24 * H),)),
        ),
        findings=(
            FindingFact("FND-1", "CM-3", "CM-3.pir-overdue", "open", T,
                        (DeliveryFact(4, "iso", T), DeliveryFact(5, None, None)), T + H, None),
        ),
        observed=(ObservedFact(11, "AWS::S3::Bucket", "b1", None, "123456789012", None, T, True),),
        declared=frozenset({("AWS::S3::Bucket", "logs"), ("AWS::IAM::Role", "deploy")}),
    )  # fmt: skip


def test_every_fact_comes_back_equal_through_json() -> None:
    facts = full_facts()
    text = json.dumps(codec.encode(facts))
    assert codec.decode(AuditFacts, json.loads(text)) == facts


def test_the_encoded_form_is_plain_json_as_documented() -> None:
    encoded = codec.encode(full_facts())
    assert encoded["settings"]["window_rule"] == {
        "early": {"seconds": 900.0},
        "late": {"seconds": 2700.0},
        "unplanned_ok": False,
    }
    assert encoded["settings"]["calendar"]["holidays"] == ["2026-10-03", "2026-12-25"]
    assert encoded["settings"]["calendar"]["weekend"] == [5, 6]
    assert encoded["changes"]["CHG-7"]["versions"] == [
        [1, "2026-07-06T08:30:00.123456+00:00"],
        [2, "2026-07-06T09:30:00.123456+00:00"],
    ]
    assert encoded["changes"]["CHG-7"]["window"] == ["2026-07-06T09:30:00.123456+00:00", None]
    assert encoded["covers"][0]["scope_kind"] == "change"
    assert encoded["covers"][0]["controls"] == ["CM-2", "CM-4"]
    assert encoded["declared"] == [["AWS::IAM::Role", "deploy"], ["AWS::S3::Bucket", "logs"]]


MALFORMED = [
    ("a field the facts do not have", lambda d: d["period"].update(extra=1)),
    ("a naive instant", lambda d: d["period"].update(start="2026-07-01T00:00:00")),
    ("text for a number", lambda d: d["settings"].update(report_hours="24")),
    ("a boolean for a number", lambda d: d["settings"].update(report_hours=True)),
    ("a scope kind that does not exist", lambda d: d["covers"][0].update(scope_kind="team")),
    ("a pair with three items", lambda d: d["changes"]["CHG-7"].update(versions=[[1, 2, 3]])),
]


@pytest.mark.parametrize(("why", "spoil"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_facts_are_refused(why: str, spoil: object) -> None:
    assert MALFORMED
    data = codec.encode(full_facts())
    spoil(data)  # type: ignore[operator]
    with pytest.raises(codec.Malformed):
        codec.decode(AuditFacts, data)
