"""Audit rules for the ISO's annual reviews: the policy itself (POL-1) and configuration
management reports (CFG-5).

The policy says "The Information Security Officer shall review this policy annually"
(Applicability and Scope) and "shall perform an annual review of configuration management
reports" (Configuration Management Controls 5). A year's review falls due, like a quarter's,
`audits.quarterly_review_business_days` business days after the year's last local day.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from changegate.domain.audit.facts import AuditFacts, Draft, Period
from changegate.domain.audit.rules_governance import periods_without_review

POLICY_REVIEW = "POL-1"
CONFIG_REVIEW = "CFG-5"
POLICY_ANNUAL = "policy_annual"
CONFIG_ANNUAL = "config_annual"


def years(period: Period, tz: str) -> Iterator[tuple[str, datetime]]:
    """(name, exclusive local end) of each year overlapping [period.start - 1 year, end).

    One year back is enough: a year's review deadline trails it by a few business days only.
    """
    zone = ZoneInfo(tz)
    year = (period.start - timedelta(days=366)).astimezone(zone).year
    while datetime(year, 1, 1, tzinfo=zone) < period.end:
        yield str(year), datetime(year + 1, 1, 1, tzinfo=zone)
        year += 1


def years_without_review(
    facts: AuditFacts, control: str, kind: str, role: str, what: str
) -> list[Draft]:
    """Each year whose review deadline has passed with no `kind` review signed by `role` in
    time; a year that ended before `effective_from` is not audited."""
    spans = years(facts.period, facts.settings.calendar.tz)
    return periods_without_review(
        facts, spans, "year", control, "annual-review-missing", kind, role, what
    )


def policy_review_missing(facts: AuditFacts) -> list[Draft]:
    """POL-1: the ISO reviews the change-management policy annually."""
    return years_without_review(
        facts, POLICY_REVIEW, POLICY_ANNUAL, "iso", "annual review of the policy"
    )


def config_review_missing(facts: AuditFacts) -> list[Draft]:
    """CFG-5: the ISO reviews configuration-management reports annually."""
    return years_without_review(
        facts,
        CONFIG_REVIEW,
        CONFIG_ANNUAL,
        "iso",
        "annual review of configuration-management reports",
    )
