"""The gate's decision, reason by reason, each way. Every expected outcome below is written by
hand from the policy (CM-1 to CM-5, freezes, waivers, scope and window), not computed by the
code under test: a case is (what differs from an allowed production deployment, which
controls must fail, and whether it is allowed)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from changegate.domain.changes import ChangeStatus, ChangeType
from changegate.domain.gate import (
    ChangeFacts,
    Evidence,
    Freeze,
    GateFacts,
    GateRequest,
    WindowRule,
    decide,
)
from changegate.domain.waivers import Cover, ScopeKind, Window

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
SHA = "9fceb02d0ae598e95dc970b74767f19372d61af8"
HOUR = timedelta(hours=1)

CHANGE = ChangeFacts(
    key="CHG-7",
    status=ChangeStatus.APPROVED,
    change_type=ChangeType.NORMAL,
    version=2,
    missing_fields=(),
    approvals_complete=True,
    awaiting=(),
    justification="",
    environments=("staging", "production"),
    window_start=NOW - HOUR,
    window_end=NOW + HOUR,
)
REQUEST = GateRequest(
    environment="production",
    production=True,
    commit=SHA,
    artifact=None,
    principal="ci@example.com",
    principal_is_pipeline=True,
    now=NOW,
)
PASSING = Evidence(7, "staging", True, SHA, None, True, NOW - HOUR)


@dataclass(frozen=True)
class Case:
    id: str
    change: dict[str, Any] = field(default_factory=dict)
    request: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    failing: tuple[str, ...] = ()
    # The controls the decision gives a reason for, when the case is about which apply.
    controls: tuple[str, ...] | None = None
    waived_by: str | None = None
    obligations: tuple[str, ...] = ()


def cover(control: str, kind: ScopeKind, value: str, start: datetime, end: datetime) -> Cover:
    return Cover("WVR-3", frozenset({control}), kind, value, (Window(start, end),))


EMERGENCY = {"change_type": ChangeType.EMERGENCY, "justification": "checkout down"}
UNAPPROVED = {"status": ChangeStatus.SUBMITTED, "approvals_complete": False}
UNAPPROVED |= {"awaiting": ("the ISO's approval",)}
NO_WINDOW = {"window_start": None, "window_end": None}
STAGING = {"environment": "staging", "production": False}
IN_2030 = {"window_start": NOW.replace(year=2030), "window_end": NOW.replace(year=2030) + HOUR}
ALL_PRODUCTION = ("CM-5", "CM-1", "scope", "state", "CM-2", "window", "CM-4")
YEAR_END = Freeze("year-end", NOW - HOUR, NOW + HOUR, ("production",))

CASES = [
    Case("allowed", controls=ALL_PRODUCTION),
    # CM-5: only a pipeline principal deploys.
    Case("person-not-pipeline", request={"principal_is_pipeline": False}, failing=("CM-5",)),
    # CM-1: the request is complete.
    Case("incomplete-request", change={"missing_fields": ("rollback_plan",)}, failing=("CM-1",)),
    # scope: the request declares the environment (GitHub's rule: names are case-insensitive).
    Case("declared-staging-only", change={"environments": ("staging",)}, failing=("scope",)),
    Case("declared-case-insensitively", change={"environments": ("Production",)}),
    Case("declares-nothing-production", change={"environments": ()}, failing=("scope",)),
    Case(
        "declares-nothing-staging",
        change={"environments": ()},
        request=STAGING,
        controls=("CM-5", "CM-1", "scope", "state"),
    ),
    # state, production: only submitted (CM-2 decides) or approved.
    Case("draft", change={"status": ChangeStatus.DRAFT}, failing=("state",)),
    Case("submitted-and-approved-quorum", change={"status": ChangeStatus.SUBMITTED}),
    Case("implemented", change={"status": ChangeStatus.IMPLEMENTED}, failing=("state",)),
    Case("closed", change={"status": ChangeStatus.CLOSED}, failing=("state",)),
    Case("cancelled", change={"status": ChangeStatus.CANCELLED}, failing=("state",)),
    Case("rejected", change={"status": ChangeStatus.REJECTED}, failing=("state",)),
    # state, elsewhere: anything not closed to deployment.
    Case("draft-to-staging", change={"status": ChangeStatus.DRAFT}, request=STAGING),
    Case("implemented-to-staging", change={"status": ChangeStatus.IMPLEMENTED}, request=STAGING),
    Case(
        "cancelled-to-staging",
        change={"status": ChangeStatus.CANCELLED},
        request=STAGING,
        failing=("state",),
    ),
    # CM-2 / CM-3: approval, or an emergency's justification.
    Case("unapproved", change=UNAPPROVED, failing=("CM-2",)),
    Case(
        "emergency-before-approval",
        change=UNAPPROVED | EMERGENCY,
        controls=("CM-5", "CM-1", "scope", "state", "CM-3", "window", "CM-4"),
        obligations=("retroactive approval", "post-implementation review"),
    ),
    Case(
        "emergency-without-justification",
        change=UNAPPROVED | EMERGENCY | {"justification": "  "},
        failing=("CM-3",),
    ),
    Case(
        "emergency-approved-first",
        change=EMERGENCY,
        obligations=("post-implementation review",),
    ),
    # window: the planned window, with the policy's tolerance; emergencies are not bound.
    Case("no-window-allowed", change=NO_WINDOW),
    Case(
        "no-window-denied-by-policy",
        change=NO_WINDOW,
        facts={"window_rule": WindowRule(unplanned_ok=False)},
        failing=("window",),
    ),
    Case("planned-for-2030", change=IN_2030, failing=("window",)),
    Case("window-opens-in-20-min", change={"window_start": NOW + timedelta(minutes=20)}),
    Case(
        "window-opens-in-40-min",
        change={"window_start": NOW + timedelta(minutes=40)},
        failing=("window",),
    ),
    Case("window-closed-50-min-ago", change={"window_end": NOW - timedelta(minutes=50)}),
    Case(
        "window-closed-70-min-ago",
        change={"window_end": NOW - timedelta(minutes=70)},
        failing=("window",),
    ),
    Case(
        "emergency-outside-window",
        change=EMERGENCY | IN_2030,
        obligations=("post-implementation review",),
    ),
    # CM-4: passing, isolated evidence of this commit (or artifact), recorded before now.
    Case("no-evidence", facts={"evidence": ()}, failing=("CM-4",)),
    Case(
        "failing-evidence",
        facts={"evidence": (replace(PASSING, passed=False),)},
        failing=("CM-4",),
    ),
    Case(
        "evidence-not-isolated",
        facts={"evidence": (replace(PASSING, environment="development", isolated=False),)},
        failing=("CM-4",),
    ),
    Case(
        "evidence-of-another-commit",
        facts={"evidence": (replace(PASSING, commit="0" * 40),)},
        failing=("CM-4",),
    ),
    Case(
        "evidence-recorded-after-now",
        facts={"evidence": (replace(PASSING, recorded_at=NOW + HOUR),)},
        failing=("CM-4",),
    ),
    Case(
        "evidence-of-the-same-artifact",
        request={"artifact": "sha256:abc"},
        facts={"evidence": (replace(PASSING, commit="0" * 40, artifact="sha256:abc"),)},
    ),
    Case(
        "emergency-without-evidence",
        change=EMERGENCY,
        facts={"evidence": ()},
        obligations=("post-implementation review",),
    ),
    Case(
        "emergency-without-evidence-when-policy-requires-tests",
        change=EMERGENCY,
        facts={"evidence": (), "emergency_requires_tests": True},
        failing=("CM-4",),
    ),
    # freeze: a normal change waits; an emergency goes through.
    Case(
        "frozen",
        facts={"freezes": (YEAR_END,)},
        failing=("freeze",),
        controls=(*ALL_PRODUCTION, "freeze"),
    ),
    Case(
        "frozen-emergency",
        change=EMERGENCY,
        facts={"freezes": (YEAR_END,)},
        controls=(*ALL_PRODUCTION, "freeze"),
        obligations=("post-implementation review",),
    ),
    Case(
        "freeze-on-another-environment",
        facts={"freezes": (replace(YEAR_END, environments=("staging",)),)},
        controls=ALL_PRODUCTION,
    ),
    Case("freeze-already-over", facts={"freezes": (replace(YEAR_END, end=NOW),)}),
    # Waivers: an approved exception passes the control it names, in its scope and window.
    Case(
        "waived-by-change",
        facts={
            "evidence": (),
            "covers": (cover("CM-4", ScopeKind.CHANGE, "chg-7", NOW - HOUR, NOW + HOUR),),
        },
        waived_by="WVR-3",
    ),
    Case(
        "waived-by-environment",
        facts={
            "evidence": (),
            "covers": (cover("CM-4", ScopeKind.ENVIRONMENT, "production", NOW, NOW + HOUR),),
        },
        waived_by="WVR-3",
    ),
    Case(
        "waived-by-principal",
        request={"principal_is_pipeline": False, "principal": "ops@example.com"},
        facts={
            "covers": (cover("CM-5", ScopeKind.PRINCIPAL, "ops@example.com", NOW, NOW + HOUR),),
        },
        waived_by="WVR-3",
    ),
    Case(
        "waiver-for-another-principal",
        request={"principal_is_pipeline": False, "principal": "ops@example.com"},
        facts={
            "covers": (cover("CM-5", ScopeKind.PRINCIPAL, "eve@example.com", NOW, NOW + HOUR),),
        },
        failing=("CM-5",),
    ),
    Case(
        "waiver-for-another-control",
        facts={
            "evidence": (),
            "covers": (cover("CM-2", ScopeKind.CHANGE, "CHG-7", NOW - HOUR, NOW + HOUR),),
        },
        failing=("CM-4",),
    ),
    Case(
        "waiver-expired",
        facts={
            "evidence": (),
            "covers": (cover("CM-4", ScopeKind.CHANGE, "CHG-7", NOW - 2 * HOUR, NOW),),
        },
        failing=("CM-4",),
    ),
    # Per-environment policy: what each environment asks for.
    Case(
        "staging-needs-only-the-request",
        change=UNAPPROVED | IN_2030,
        request=STAGING,
        facts={"evidence": ()},
        controls=("CM-5", "CM-1", "scope", "state"),
    ),
    Case(
        "staging-that-requires-approval",
        change=UNAPPROVED,
        request=STAGING | {"requires_approval": True},
        controls=("CM-5", "CM-1", "scope", "state", "CM-2", "window"),
        failing=("CM-2",),
    ),
    Case(
        "production-without-tests-by-policy",
        request={"requires_tests": False},
        facts={"evidence": ()},
        controls=("CM-5", "CM-1", "scope", "state", "CM-2", "window"),
    ),
    # An environment the policy does not define: answered, denied, nothing else weighed.
    Case(
        "unknown-environment",
        request={"environment": "prod-eu", "known_environment": False},
        controls=("CM-5", "policy"),
        failing=("policy",),
    ),
]


def facts_for(case: Case) -> GateFacts:
    base = GateFacts(REQUEST, CHANGE, evidence=(PASSING,))
    return replace(
        base,
        request=replace(REQUEST, **case.request),
        change=replace(CHANGE, **case.change),
        **case.facts,
    )


def test_the_table_is_not_empty() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_reason_each_way(case: Case) -> None:
    decision = decide(facts_for(case))
    assert tuple(r.control for r in decision.failures()) == case.failing, decision.reasons
    assert decision.allowed is (not case.failing)
    if case.controls is not None:
        assert tuple(r.control for r in decision.reasons) == case.controls
    waived = {r.waiver for r in decision.reasons} - {None}
    assert waived == ({case.waived_by} if case.waived_by else set())
    assert decision.obligations == case.obligations


def test_no_change_request_is_a_cm1_denial() -> None:
    decision = decide(GateFacts(REQUEST, None))
    assert [(r.control, r.ok) for r in decision.reasons] == [("CM-5", True), ("CM-1", False)]
    assert decision.reasons[1].message == "no such change request"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"environments": ("staging",)},
            "CHG-7 declares staging; production is not among them",
        ),
        (
            {"environments": ()},
            "CHG-7 declares no environments; production is a production environment and must "
            "be declared",
        ),
        (
            IN_2030,
            "CHG-7 is planned for 2030-12-01T10:00:00+00:00 to 2030-12-01T11:00:00+00:00; too "
            "early (deployments may start 30 min before the window)",
        ),
        (
            {"window_start": NOW - 3 * HOUR, "window_end": NOW - 2 * HOUR},
            "CHG-7 was planned for 2026-12-01T07:00:00+00:00 to 2026-12-01T08:00:00+00:00; the "
            "window has passed (tolerance 60 min after it)",
        ),
    ],
)
def test_the_reason_says_which(change: dict[str, Any], message: str) -> None:
    decision = decide(
        replace(GateFacts(REQUEST, CHANGE, (PASSING,)), change=replace(CHANGE, **change))
    )
    assert [r.message for r in decision.failures()] == [message]
