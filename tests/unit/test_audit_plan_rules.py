"""The audit re-performs the gate's scope (CM-1) and window (CM-2) checks over recorded
deployments; expected findings and summaries are written out by hand."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from changegate.domain.audit import engine
from changegate.domain.audit import rules_plan as plan
from changegate.domain.audit.facts import AuditFacts, Draft
from changegate.domain.gate import WindowRule
from tests.unit.test_audit_rules import T, change, deployment, period, settings

H = timedelta(hours=1)
WINDOW = (T - 2 * H, T + 2 * H)  # 07:00 to 11:00 UTC; the deployment starts at 09:00


def facts(*deployments: Any, rule: WindowRule | None = None, **fields: Any) -> AuditFacts:
    ruled = settings(window_rule=rule) if rule else settings()
    return AuditFacts(
        period=period(),
        settings=ruled,
        changes={"CHG-1": change(**fields)},
        deployments=deployments,
    )


def summaries(drafts: list[Draft]) -> list[tuple[str, str, str]]:
    return [(d.rule, d.subject, d.summary) for d in drafts]


SCOPE = [
    # (declared, environment, production, expected finding summary or None)
    (("staging", "production"), "production", True, None),
    (("Production",), "production", True, None),  # case does not matter, as at the gate
    (
        ("staging",),
        "production",
        True,
        "deployment #45 went to production: CHG-1 declares staging; production is not among them",
    ),
    (
        (),
        "production",
        True,
        "deployment #45 went to production: CHG-1 declares no environments; production is a "
        "production environment and must be declared",
    ),
    ((), "development", False, None),
    (
        ("development",),
        "staging",
        False,
        "deployment #45 went to staging: CHG-1 declares development; staging is not among them",
    ),
]


@pytest.mark.parametrize(("declared", "env", "production", "expected"), SCOPE)
def test_a_deployment_outside_the_declared_environments_is_a_cm1_finding(
    declared: tuple[str, ...], env: str, production: bool, expected: str | None
) -> None:
    d = deployment(environment=env, production=production)
    found = summaries(plan.outside_declared_scope(facts(d, environments=declared)))
    assert found == ([] if expected is None else [
        ("CM-1.outside-declared-scope", "deployment:45", expected)
    ])  # fmt: skip


def test_the_scope_table_is_not_empty() -> None:
    assert len(SCOPE) >= 6


WINDOWED = [
    # (planned window, minutes after T the deployment starts, expected or None)
    (WINDOW, 0, None),
    (WINDOW, -150, None),  # 06:30: exactly the 30 minutes early the policy allows
    (WINDOW, 180, None),  # 12:00: exactly the 60 minutes late the policy allows
    (
        WINDOW,
        -151,
        "deployment #45 to production started 2026-08-03T06:29:00+00:00: CHG-1 is planned for "
        "2026-08-03T07:00:00+00:00 to 2026-08-03T11:00:00+00:00; too early (deployments may "
        "start 30 min before the window)",
    ),
    (
        WINDOW,
        181,
        "deployment #45 to production started 2026-08-03T12:01:00+00:00: CHG-1 was planned for "
        "2026-08-03T07:00:00+00:00 to 2026-08-03T11:00:00+00:00; the window has passed "
        "(tolerance 60 min after it)",
    ),
    ((None, None), 0, None),  # no window planned: the default policy allows that
]


@pytest.mark.parametrize(("window", "minutes", "expected"), WINDOWED)
def test_a_deployment_outside_the_planned_window_is_a_cm2_finding(
    window: Any, minutes: int, expected: str | None
) -> None:
    d = deployment(started_at=T + timedelta(minutes=minutes), needs_approval=True)
    found = summaries(plan.outside_window(facts(d, window=window)))
    assert found == (
        [] if expected is None else [("CM-2.outside-window", "deployment:45", expected)]
    )


def test_the_window_table_is_not_empty() -> None:
    assert len(WINDOWED) >= 6


def test_a_policy_requiring_a_window_finds_an_unplanned_deployment() -> None:
    d = deployment(needs_approval=True)
    strict = WindowRule(unplanned_ok=False)
    [draft] = plan.outside_window(facts(d, rule=strict))
    assert draft.summary == (
        "deployment #45 to production started 2026-08-03T09:00:00+00:00: CHG-1 plans no window; "
        "the policy requires one to deploy"
    )


@pytest.mark.parametrize(
    ("what", "deployment_fields", "change_fields"),
    [
        ("an emergency", {"needs_approval": True}, {"change_type": "emergency"}),
        ("a rollback", {"needs_approval": True, "kind": "rollback"}, {}),
        ("an environment without approval", {"needs_approval": False}, {}),
    ],
)
def test_the_window_binds_only_deploys_the_policy_puts_under_approval(
    what: str, deployment_fields: dict[str, Any], change_fields: dict[str, Any]
) -> None:
    late = deployment(started_at=T + 10 * H, **deployment_fields)
    assert plan.outside_window(facts(late, window=WINDOW, **change_fields)) == [], what


def test_both_rules_run_in_the_audit() -> None:
    late = deployment(started_at=T + 10 * H, needs_approval=True)
    f = facts(late, window=WINDOW, environments=("staging",))
    assert {r.draft.rule for r in engine.evaluate(f)} >= {
        "CM-1.outside-declared-scope",
        "CM-2.outside-window",
    }


def test_a_deployment_that_does_not_qualify_does_not_hide_the_next() -> None:
    """The unknown change, the rollback: skipped, and the deployment after each still judged."""
    unknown = deployment(id=44, change_key="CHG-9")
    rollback = deployment(id=44, kind="rollback", needs_approval=True)
    late = deployment(started_at=T + 10 * H, needs_approval=True)
    scoped = facts(unknown, deployment(), environments=("staging",))
    assert [d.subject for d in plan.outside_declared_scope(scoped)] == ["deployment:45"]
    windowed = facts(unknown, rollback, late, window=WINDOW)
    assert [d.subject for d in plan.outside_window(windowed)] == ["deployment:45"]
