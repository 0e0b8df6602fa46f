"""Which ledger actions are decisions (DESIGN.md section 2), and who may sign in."""

from __future__ import annotations

import pytest

from changegate.domain.errors import Unauthenticated
from changegate.domain.identity import Claims, IdentityRules, Principal, admit, is_decision


@pytest.mark.parametrize(
    "action",
    [
        "change.approved_by_cab",
        "change.rejected_by_iso",
        "waiver.approved",
        "waiver.rejected",
        "waiver.reviewed",
        "waiver.quarterly_reviewed",
        "cab.item_decided",
        "finding.confirmed",
        "finding.dismissed",
        "finding.disciplinary_action",
        "review.quarterly_metrics",
        "review.policy_annual",
        "review.config_annual",
        "baseline.approved",
        "baseline.verified",
    ],
)
def test_decisions(action: str) -> None:
    assert is_decision(action)


@pytest.mark.parametrize(
    "action",
    [
        "change.created",
        "change.submitted",
        "change.implemented",
        "change.approved_by_someone",
        "pir.recorded",
        "waiver.requested",
        "finding.remediated",
        "session.started",
        "token.created",
    ],
)
def test_not_decisions(action: str) -> None:
    assert not is_decision(action)


def test_only_tokens_and_provider_sessions_are_authenticated() -> None:
    assert {p for p in Principal if p.authenticated} == {Principal.TOKEN, Principal.SESSION}


RULES = IdentityRules(allowed_domains=("example.com",))


@pytest.mark.parametrize(
    ("claims", "said"),
    [
        (Claims("s", None, None), "sent no email address"),
        (Claims("s", "a@example.com", False), "has not verified a@example.com"),
        (Claims("s", "a@evil.example", True), "the domain evil.example may not sign in"),
        (Claims("s", "a@example.com", True, "gmail.com"), "the hosted domain gmail.com"),
    ],
)
def test_who_may_not_sign_in(claims: Claims, said: str) -> None:
    with pytest.raises(Unauthenticated, match=said):
        admit(claims, RULES)


def test_an_email_is_compared_lower_cased() -> None:
    assert admit(Claims("s", " Ivy@Example.COM ", True, "example.com"), RULES) == "ivy@example.com"
