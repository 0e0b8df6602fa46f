"""The ISO's signed annual reviews: the policy (POL-1, "The Information Security Officer shall
review this policy annually") and configuration-management reports (CFG-5).

A year is signed only once it has ended (UTC, as quarters are): the policy asks for a review of
a year's records, and a report signed mid-year would attest a population that is still growing.
A running year may be previewed. Signing names the SHA-256 of the previewed report and is
refused if the report computed at signing hashes differently.

The stored review is `{"year", "report", "report_sha256", "notes"}`: `report` exactly as
previewed, so anyone can re-hash it; the ledger record carries `report_sha256`, the digest of
the stored document (`sha256`) and each population's row count and digest.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from changegate.db.models import Review
from changegate.domain.audit.rules_annual import (
    CONFIG_ANNUAL,
    CONFIG_REVIEW,
    POLICY_ANNUAL,
    POLICY_REVIEW,
)
from changegate.domain.errors import Refused
from changegate.domain.periods import year_bounds
from changegate.domain.users import Role
from changegate.services import annual_reports, reviews
from changegate.services.context import Context
from changegate.services.views.reviews import ReviewPreviewOut


class AnnualKind(StrEnum):
    POLICY = POLICY_ANNUAL
    CONFIG = CONFIG_ANNUAL


CONTROL: Final[dict[AnnualKind, str]] = {
    AnnualKind.POLICY: POLICY_REVIEW,
    AnnualKind.CONFIG: CONFIG_REVIEW,
}
ACTION: Final[dict[AnnualKind, str]] = {
    AnnualKind.POLICY: "review.policy_annual",
    AnnualKind.CONFIG: "review.config_annual",
}
Builder = Callable[[Context, str, datetime, datetime, datetime], dict[str, Any]]


def _policy(ctx: Context, year: str, start: datetime, end: datetime, _: datetime) -> dict[str, Any]:
    return annual_reports.policy_report(ctx, year, start, end)


BUILD: Final[dict[AnnualKind, Builder]] = {
    AnnualKind.POLICY: _policy,
    AnnualKind.CONFIG: annual_reports.config_report,
}


def _year(ctx: Context, year: str) -> tuple[str, datetime, datetime, str | None]:
    """(name, start, end, why it cannot be signed yet or None); BadInput for a bad year."""
    start, end = year_bounds(year)
    name = str(start.year)
    why = None if ctx.now >= end else f"{name} has not ended yet; review it after {end.date()}"
    return name, start, end, why


def _report(ctx: Context, kind: AnnualKind, name: str, start: datetime, end: datetime) -> Any:
    return BUILD[kind](ctx, name, start, end, min(ctx.now, end))


def preview(ctx: Context, kind: AnnualKind, year: str) -> ReviewPreviewOut:
    """The report the ISO would sign for `year` now and its SHA-256 (hex); a running year is
    previewed with `signable` false. BadInput for a year that is not 4 digits."""
    name, start, end, why = _year(ctx, year)
    report = _report(ctx, kind, name, start, end)
    return ReviewPreviewOut(
        kind=kind.value,
        period=name,
        sha256=reviews.digest(report),
        signable=why is None,
        why_not=why,
        report=report,
    )


def sign(ctx: Context, kind: AnnualKind, year: str, sha256: str, notes: str = "") -> Review:
    """The ISO signs the year's report previewed with digest `sha256`.

    BadInput: a bad year or digest; Forbidden: the actor is not an ISO; Refused: the year has
    not ended, or the report now hashes differently from `sha256`."""
    wanted = reviews.pinned(sha256)
    iso = ctx.user_with(Role.ISO)
    control = CONTROL[kind]
    name, start, end, why = _year(ctx, year)
    if why is not None:
        raise Refused(control, why)
    report = _report(ctx, kind, name, start, end)
    signed = reviews.check_pinned(control, report, wanted)
    document = {"year": name, "report": report, "report_sha256": signed, "notes": notes.strip()}
    recorded = {
        "year": name,
        "kind": kind.value,
        "control": control,
        "report_sha256": signed,
        "populations": _counts(report),
    }
    return reviews.sign(
        ctx, kind.value, iso, name, document, ACTION[kind], recorded, subject=f"year:{name}"
    )


def _counts(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each population's row count and digest, for the ledger record (not the rows)."""
    found = dict(report.get("populations", {}))
    if "policy_digests_seen" in report:
        found["policy_digests_seen"] = report["policy_digests_seen"]
    return {k: {"rows": v["rows"], "sha256": v["sha256"]} for k, v in sorted(found.items())}
