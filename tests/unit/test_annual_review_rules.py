"""CFG-5 and POL-1: a closed year without the ISO's signed annual review. Expected findings are
written out by hand, deadlines counted on a calendar."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from changegate.domain.audit import engine
from changegate.domain.audit import rules_annual as annual
from changegate.domain.audit.facts import AuditFacts, AuditSettings, Draft, Period, ReviewFact
from changegate.domain.calendar import BusinessCalendar

S, H = timedelta(seconds=1), timedelta(hours=1)
# 2026-12-31 is a Thursday; 10 business days later (weekends only): Fri 1, Mon 4 .. Fri 8,
# Mon 11 .. Thu 14 January 2027. The deadline is the end of Thursday 2027-01-14.
DEADLINE = datetime(2027, 1, 15, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
CFG5 = ("CFG-5", "CFG-5.annual-review-missing", "year:2026")
POL1 = ("POL-1", "POL-1.annual-review-missing", "year:2026")
Key = tuple[str, str, str, tuple[str, ...], datetime]
Rule = Callable[[AuditFacts], list[Draft]]


def settings(**overrides: object) -> AuditSettings:
    base = AuditSettings(
        calendar=BusinessCalendar(tz="UTC"),
        quarterly_review_business_days=10,
        report_hours=24,
        emergency_requires_tests=False,
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def facts(*reviews: ReviewFact, **overrides: object) -> AuditFacts:
    """The audit of 2027-Q1, run at the end of June 2027."""
    base = AuditFacts(
        period=Period(
            "2027-Q1",
            datetime(2027, 1, 1, tzinfo=UTC),
            datetime(2027, 4, 1, tzinfo=UTC),
            datetime(2027, 6, 30, tzinfo=UTC),
        ),
        settings=settings(),
        reviews=reviews,
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def review(
    kind: str, roles: tuple[str, ...], at: datetime, period: str = "2026", id_: int = 4
) -> ReviewFact:
    return ReviewFact(id_, kind, period, "someone", roles, at)


def found(rule: Rule, f: AuditFacts) -> list[Key]:
    return [
        (d.control, d.rule, d.subject, d.evidence, d.occurred_at)
        for d in rule(f)
        if f.period.contains(d.occurred_at)
    ]


CASES = [
    pytest.param(annual.config_review_missing, facts(), [(*CFG5, ("year:2026",), DEADLINE)]),
    pytest.param(annual.policy_review_missing, facts(), [(*POL1, ("year:2026",), DEADLINE)]),
    pytest.param(
        annual.config_review_missing,
        facts(review("config_annual", ("iso",), DEADLINE + S)),
        [(*CFG5, ("year:2026", "review:4"), DEADLINE)],
        id="late",
    ),
    pytest.param(
        annual.config_review_missing,
        facts(review("config_annual", ("security_engineer",), DEADLINE - H)),
        [(*CFG5, ("year:2026", "review:4"), DEADLINE)],
        id="signed by a non-ISO",
    ),
    pytest.param(
        annual.config_review_missing,
        facts(review("policy_annual", ("iso",), DEADLINE - H)),
        [(*CFG5, ("year:2026",), DEADLINE)],
        id="the other annual review",
    ),
    pytest.param(
        annual.policy_review_missing,
        facts(review("policy_annual", ("iso",), DEADLINE - H, period="2025")),
        [(*POL1, ("year:2026",), DEADLINE)],
        id="the year before's review",
    ),
    pytest.param(
        annual.policy_review_missing,
        facts(review("quarterly_metrics", ("iso",), DEADLINE - H, period="2026")),
        [(*POL1, ("year:2026",), DEADLINE)],
        id="a quarterly review",
    ),
    pytest.param(
        annual.policy_review_missing,
        facts(
            review("policy_annual", ("iso",), DEADLINE + H, id_=9),
            review("policy_annual", ("cab",), DEADLINE - H, id_=3),
        ),
        [(*POL1, ("year:2026", "review:3", "review:9"), DEADLINE)],
        id="evidence in id order",
    ),
    pytest.param(
        annual.config_review_missing,
        facts(settings=settings(effective_from=datetime(2026, 12, 31, tzinfo=UTC))),
        [(*CFG5, ("year:2026",), DEADLINE)],
        id="controls took effect in the year's last day",
    ),
    pytest.param(
        annual.config_review_missing,
        facts(settings=settings(calendar=BusinessCalendar(tz="Europe/Berlin"))),
        [(*CFG5, ("year:2026",), datetime(2027, 1, 15, tzinfo=BERLIN))],
        id="the year ends on the policy's local midnight",
    ),
]


@pytest.mark.parametrize(("rule", "f", "expected"), CASES)
def test_a_closed_year_without_a_signed_review_is_a_finding(
    rule: Rule, f: AuditFacts, expected: list[Key]
) -> None:
    assert CASES
    assert found(rule, f) == expected


NEAR_MISSES = [
    pytest.param(
        annual.config_review_missing,
        facts(review("config_annual", ("iso",), DEADLINE)),
        id="CFG-5 signed at the deadline",
    ),
    pytest.param(
        annual.policy_review_missing,
        facts(review("policy_annual", ("cab", "iso"), DEADLINE - H)),
        id="POL-1 signed by an ISO who is also CAB",
    ),
    pytest.param(
        annual.config_review_missing,
        facts(
            period=Period(
                "2026",
                datetime(2026, 1, 1, tzinfo=UTC),
                datetime(2027, 1, 1, tzinfo=UTC),
                datetime(2026, 11, 30, tzinfo=UTC),
            )
        ),
        id="a year that has not ended",
    ),
    pytest.param(
        annual.policy_review_missing,
        facts(
            period=dataclasses.replace(facts().period, as_of=DEADLINE - S),
        ),
        id="the deadline has not passed",
    ),
    pytest.param(
        annual.policy_review_missing,
        facts(settings=settings(effective_from=datetime(2027, 1, 1, tzinfo=UTC))),
        id="the year ended when the controls took effect",
    ),
]


@pytest.mark.parametrize(("rule", "f"), NEAR_MISSES)
def test_a_reviewed_or_open_year_is_not(rule: Rule, f: AuditFacts) -> None:
    assert NEAR_MISSES
    assert [k for k in found(rule, f) if k[2] == "year:2026"] == []


def test_the_deadline_at_as_of_has_passed() -> None:
    f = facts(period=dataclasses.replace(facts().period, as_of=DEADLINE))
    assert found(annual.config_review_missing, f) == [(*CFG5, ("year:2026",), DEADLINE)]


def test_the_summary_names_the_year_the_review_and_the_deadline() -> None:
    [cfg] = [d for d in annual.config_review_missing(facts()) if d.subject == "year:2026"]
    [pol] = [d for d in annual.policy_review_missing(facts()) if d.subject == "year:2026"]
    assert cfg.summary == (
        "2026: no annual review of configuration-management reports signed by a holder of "
        "the iso role by end of Thu 2027-01-14 (UTC)"
    )
    assert pol.summary == (
        "2026: no annual review of the policy signed by a holder of the iso role by "
        "end of Thu 2027-01-14 (UTC)"
    )


def test_the_engine_runs_both_and_a_signed_year_has_neither() -> None:
    missing = {r.draft.fingerprint for r in engine.evaluate(facts())}
    assert {
        "CFG-5.annual-review-missing|year:2026",
        "POL-1.annual-review-missing|year:2026",
    } <= missing
    signed = facts(
        review("config_annual", ("iso",), DEADLINE - H, id_=1),
        review("policy_annual", ("iso",), DEADLINE - H, id_=2),
    )
    fingerprints = {r.draft.fingerprint for r in engine.evaluate(signed)}
    assert not {f for f in fingerprints if f.endswith("|year:2026")}
    assert ("CFG-5", annual.config_review_missing) in engine.RULES
    assert ("POL-1", annual.policy_review_missing) in engine.RULES
