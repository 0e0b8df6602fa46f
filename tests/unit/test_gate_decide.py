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
    GateDecision,
    GateFacts,
    GateRequest,
    Reason,
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


# Whole reasons, word for word: they are stored in the ledger and returned by the API, so the
# control, the verdict (a bool, never null) and the message are all part of the contract.
SHORT = "9fceb02d0ae5"  # the commit as the reasons name it
WINDOW_TEXT = "2026-12-01T09:00:00+00:00 to 2026-12-01T11:00:00+00:00"
NO_RUN = f"no regression run in an isolated environment for {SHORT} recorded before now"


def decide_with(
    change: dict[str, Any] | None = None,
    request: dict[str, Any] | None = None,
    **facts: Any,
) -> GateDecision:
    base = GateFacts(REQUEST, CHANGE, evidence=(PASSING,))
    return decide(
        replace(
            base,
            request=replace(REQUEST, **(request or {})),
            change=replace(CHANGE, **(change or {})),
            **facts,
        )
    )


def test_an_allowed_deployment_gives_every_reason_in_full() -> None:
    decision = decide_with()
    assert decision == GateDecision(
        True,
        (
            Reason("CM-5", True, "ci@example.com is a pipeline principal"),
            Reason("CM-1", True, "CHG-7 states scope, impact and rollback plan"),
            Reason("scope", True, "CHG-7 declares production"),
            Reason("state", True, "CHG-7 is approved: open to deployment"),
            Reason("CM-2", True, "CAB and ISO approved version 2"),
            Reason("window", True, f"within CHG-7's planned window {WINDOW_TEXT}"),
            Reason("CM-4", True, f"passing run #7 in staging (isolated) for {SHORT}"),
        ),
        (),
        7,
    )


def test_a_denial_on_every_count_gives_every_reason_in_full() -> None:
    decision = decide_with(
        change={
            "status": ChangeStatus.DRAFT,
            "missing_fields": ("impact", "rollback_plan"),
            "environments": ("staging", "qa"),
            "approvals_complete": False,
            "awaiting": ("the CAB's approval", "the ISO's approval"),
        }
        | NO_WINDOW,
        request={"principal_is_pipeline": False, "principal": "ops@example.com"},
        evidence=(),
        freezes=(YEAR_END, replace(YEAR_END, name="release-train")),
        window_rule=WindowRule(unplanned_ok=False),
    )
    assert decision == GateDecision(
        False,
        (
            Reason(
                "CM-5",
                False,
                "ops@example.com is not a pipeline principal; deployments go through CI/CD",
            ),
            Reason("CM-1", False, "CHG-7 is incomplete: missing impact, rollback_plan"),
            Reason("scope", False, "CHG-7 declares staging, qa; production is not among them"),
            Reason("state", False, "CHG-7 is draft: closed to deployment"),
            Reason(
                "CM-2", False, "version 2 still needs the CAB's approval and the ISO's approval"
            ),
            Reason("window", False, "CHG-7 plans no window; the policy requires one to deploy"),
            Reason("CM-4", False, NO_RUN),
            Reason("freeze", False, "production is frozen: year-end, release-train"),
        ),
    )


def test_an_unapproved_change_awaiting_nothing_named_still_needs_approval() -> None:
    decision = decide_with(change={"approvals_complete": False, "awaiting": ()})
    assert decision.failures() == [Reason("CM-2", False, "version 2 still needs approval")]
    assert decision.allowed is False


def test_an_emergency_before_approval_gives_its_own_reasons_in_full() -> None:
    decision = decide_with(
        change=UNAPPROVED | EMERGENCY | IN_2030 | {"justification": "  checkout down \n"},
        request={"artifact": "sha256:abc"},
        evidence=(),
        freezes=(YEAR_END,),
    )
    assert decision.reasons[4:] == (
        Reason("CM-3", True, "emergency: deploying before approval, justified: checkout down"),
        Reason("window", True, "emergency: not bound to a planned window"),
        Reason(
            "CM-4",
            True,
            "emergency: no staging evidence for sha256:abc; the post-implementation review "
            "must cover testing",
        ),
        Reason("freeze", True, "emergency change allowed during freeze: year-end"),
    )
    assert decision.allowed is True
    assert decision.evidence_id is None


def test_an_emergency_without_justification_says_it_needs_one() -> None:
    decision = decide_with(change=UNAPPROVED | EMERGENCY | {"justification": " "})
    assert decision.failures() == [
        Reason("CM-3", False, "an emergency change needs a recorded justification")
    ]


def test_staging_undeclared_by_a_request_that_declares_nothing_is_in_scope() -> None:
    decision = decide_with(change={"environments": ()}, request=STAGING)
    assert decision.reasons[2] == Reason(
        "scope", True, "CHG-7 declares no environments; staging is not production"
    )


def test_production_undeclared_by_a_request_that_declares_nothing_is_out_of_scope() -> None:
    decision = decide_with(change={"environments": ()})
    assert decision.failures() == [
        Reason(
            "scope",
            False,
            "CHG-7 declares no environments; production is a production environment and must "
            "be declared",
        )
    ]


HALF_WINDOWS = [NO_WINDOW, {"window_end": None}, {"window_start": None}]


@pytest.mark.parametrize("window", HALF_WINDOWS, ids=["none", "start-only", "end-only"])
def test_half_a_window_is_no_window(window: dict[str, Any]) -> None:
    allowed = decide_with(change=window)
    refused = decide_with(change=window, window_rule=WindowRule(unplanned_ok=False))
    assert allowed.reasons[5] == Reason(
        "window", True, "CHG-7 plans no window; the policy allows that"
    )
    assert refused.reasons[5] == Reason(
        "window", False, "CHG-7 plans no window; the policy requires one to deploy"
    )


def test_exactly_the_early_tolerance_before_the_window_is_allowed() -> None:
    opens = NOW + timedelta(minutes=30)
    decision = decide_with(change={"window_start": opens, "window_end": opens + HOUR})
    assert decision.reasons[5] == Reason(
        "window",
        True,
        "within CHG-7's planned window 2026-12-01T10:30:00+00:00 to 2026-12-01T11:30:00+00:00",
    )


def test_exactly_the_late_tolerance_after_the_window_is_allowed() -> None:
    closed = NOW - timedelta(minutes=60)
    decision = decide_with(change={"window_start": closed - HOUR, "window_end": closed})
    assert decision.reasons[5] == Reason(
        "window",
        True,
        "within CHG-7's planned window 2026-12-01T08:00:00+00:00 to 2026-12-01T09:00:00+00:00",
    )


def test_too_early_and_too_late_are_false_not_merely_falsy() -> None:
    early = decide_with(change={"window_start": NOW + timedelta(minutes=31)})
    late = decide_with(change={"window_end": NOW - timedelta(minutes=61)})
    assert [r.ok for r in early.failures() + late.failures()] == [False, False]


def test_a_freeze_starting_exactly_now_blocks() -> None:
    decision = decide_with(freezes=(replace(YEAR_END, start=NOW),))
    assert decision.failures() == [Reason("freeze", False, "production is frozen: year-end")]


def test_the_newest_passing_run_is_the_evidence() -> None:
    newer = replace(PASSING, id=9, environment="qa", recorded_at=NOW - timedelta(minutes=5))
    decision = decide_with(evidence=(PASSING, newer))
    assert decision.reasons[6] == Reason(
        "CM-4", True, f"passing run #9 in qa (isolated) for {SHORT}"
    )
    assert decision.evidence_id == 9


FAILED = replace(PASSING, passed=False)
NO_TEST = "no test executed (3 skipped, 0 not run)"
OTHER = "0" * 40


CLOSEST_RUNS = [
    (
        {},
        (
            FAILED,
            replace(FAILED, id=9, recorded_at=NOW - timedelta(minutes=5), verdict=NO_TEST),
        ),
        f"run #9 in staging for {SHORT} is not passing evidence: {NO_TEST}",
    ),
    (
        {},
        (FAILED,),
        f"run #7 in staging for {SHORT} is not passing evidence: it did not pass",
    ),
    (
        {},
        (replace(FAILED, recorded_at=NOW),),
        f"run #7 in staging for {SHORT} is not passing evidence: it did not pass",
    ),
    (
        {"artifact": "sha256:abc"},
        (replace(FAILED, id=8, commit=OTHER, artifact="sha256:abc"),),
        "run #8 in staging for sha256:abc is not passing evidence: it did not pass",
    ),
    ({}, (replace(FAILED, commit=OTHER),), NO_RUN),
    ({}, (replace(FAILED, recorded_at=NOW + timedelta(seconds=1)),), NO_RUN),
    (
        {},
        (
            replace(PASSING, environment="dev", isolated=False),
            replace(PASSING, id=8, environment="ci", isolated=False),
            replace(PASSING, id=9, environment="dev", isolated=False),
        ),
        f"runs for {SHORT} were recorded only in ci, dev, which is not isolated",
    ),
]


@pytest.mark.parametrize(
    ("request_", "evidence", "message"),
    CLOSEST_RUNS,
    ids=[
        "newest-failing-run",
        "no-verdict",
        "failing-run-recorded-exactly-now",
        "same-artifact",
        "another-commit",
        "recorded-after-now",
        "not-isolated",
    ],
)
def test_cm4_names_the_run_that_came_closest(
    request_: dict[str, Any], evidence: tuple[Evidence, ...], message: str
) -> None:
    decision = decide_with(request=request_, evidence=evidence)
    assert decision.failures() == [Reason("CM-4", False, message)]
    assert decision.evidence_id is None


def test_a_waived_reason_keeps_its_control_and_names_the_waiver() -> None:
    waiver = cover("CM-4", ScopeKind.CHANGE, "CHG-7", NOW - HOUR, NOW + HOUR)
    decision = decide_with(evidence=(), covers=(waiver,))
    assert decision.reasons[6] == Reason("CM-4", True, f"waived by WVR-3: {NO_RUN}", "WVR-3")
    assert decision.allowed is True


def test_an_unknown_environment_is_denied_with_nothing_else_weighed() -> None:
    decision = decide_with(request={"environment": "prod-eu", "known_environment": False})
    assert decision == GateDecision(
        False,
        (
            Reason("CM-5", True, "ci@example.com is a pipeline principal"),
            Reason("policy", False, "'prod-eu' is not an environment the policy defines"),
        ),
    )


def test_no_change_request_is_denied() -> None:
    decision = decide(GateFacts(REQUEST, None, evidence=(PASSING,)))
    assert decision == GateDecision(
        False,
        (
            Reason("CM-5", True, "ci@example.com is a pipeline principal"),
            Reason("CM-1", False, "no such change request"),
        ),
    )


def test_the_parameter_lists_are_not_empty() -> None:
    assert len(HALF_WINDOWS) == 3
    assert len(CLOSEST_RUNS) == 7
