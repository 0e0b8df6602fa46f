"""The ISO's annual reviews (POL-1, CFG-5) and the pinned quarterly metrics review, through the
services on a real database (SQLite and PostgreSQL). Expected reports are written by hand."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import rfc8785
from sqlalchemy import select

from changegate.bootstrap import App
from changegate.db.models import LedgerRecord, Review
from changegate.domain.errors import BadInput, Forbidden, NotFound, Refused
from changegate.services import annual_reviews, audits, baselines, gate, reviews, users, waivers
from changegate.services.annual_reviews import AnnualKind
from tests.builders import T0, add_people
from tests.services.test_configuration import approved_baseline, ingest, item, scan

IVY, BOB, SAM, ALICE, CI = (
    "ivy@example.com",
    "bob@example.com",
    "sam@example.com",
    "alice@example.com",
    "ci@example.com",
)
JAN_10 = datetime(2027, 1, 10, 12, tzinfo=UTC)  # 2026 has ended
EMPTY_ROWS = "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"  # SHA-256 of []
CONFIG, POLICY = AnnualKind.CONFIG, AnnualKind.POLICY


@pytest.fixture
def org(app: App) -> App:
    add_people(app)
    app.run(
        lambda ctx: users.add_user(
            ctx, "sec2@example.com", "Second Security", ["security_engineer"]
        ),
        actor="local-admin",
    )
    return app


@pytest.fixture
def year_2026(org: App) -> App:
    """One approved baseline; one drift remediated in 7 hours, one left open; a waiver of CFG-4
    for the bucket and one of CM-4 for production; 2026-Q4 verified by the security engineer."""
    approved_baseline(org)
    ingest(org, item(1))
    scan(org, 2)
    ingest(org, item(3, "Suspended"))
    scan(org, 4)
    ingest(org, item(10))
    scan(org, 11)
    ingest(org, item(20, "Suspended"))
    scan(org, 21)
    for controls, kind, value in (
        (["CFG-4"], "resource", "logs-prod"),
        (["CM-4"], "environment", "production"),
    ):
        org.run(
            lambda ctx, c=controls, k=kind, v=value: waivers.request(
                ctx, "t", "j", "c", c, k, v, 30
            ),
            actor=ALICE,
            at=T0,
        )
    org.run(lambda ctx: baselines.verify_quarter(ctx, "2026-Q4"), actor=SAM, at=JAN_10)
    return org


def preview(app: App, kind: AnnualKind, year: str, at: datetime = JAN_10) -> Any:
    return app.run(lambda ctx: annual_reviews.preview(ctx, kind, year), at=at)


def sign(app: App, kind: AnnualKind, year: str, sha: str, who: str = IVY, **kw: Any) -> int:
    at = kw.pop("at", JAN_10)
    return app.run(lambda ctx: annual_reviews.sign(ctx, kind, year, sha, **kw).id, actor=who, at=at)


def stored(app: App, review_id: int) -> dict[str, Any]:
    return app.read(lambda ctx: json.loads(ctx.session.get(Review, review_id).summary))


def ledger_payload(app: App, subject: str) -> tuple[str, dict[str, Any]]:
    [row] = app.read(
        lambda ctx: ctx.session.execute(
            select(LedgerRecord.action, LedgerRecord.payload).where(LedgerRecord.subject == subject)
        ).all()
    )
    return row[0], json.loads(row[1])


def test_the_config_report_counts_each_population(year_2026: App) -> None:
    report = preview(year_2026, CONFIG, "2026").report
    assert (report["kind"], report["control"], report["year"]) == ("config_annual", "CFG-5", "2026")
    assert report["as_of"] == "2027-01-01T00:00:00.000000+00:00"
    assert report["drift_counts"] == {
        "by_status": {"open": 1, "remediated": 1},
        "by_resource_type": {"AWS::S3::Bucket": 2},
        "remediation": {"open_past_due": 1, "within_48h": 1},
    }
    assert report["quarters_verified"] == ["2026-Q4"]
    pops = report["populations"]
    assert {k: v["rows"] for k, v in pops.items()} == {
        "baselines": 1,
        "baseline_verifications": 1,
        "drift": 2,
        "resources_without_baseline": 0,
        "configuration_waivers": 1,
    }
    [baseline] = pops["baselines"]["items"]
    assert (baseline["name"], baseline["version"], baseline["status"]) == ("logs", 1, "approved")
    assert (baseline["approved_by"], baseline["resources"]) == ("sec2@example.com", 1)
    assert pops["baseline_verifications"]["items"][0]["signed_by"] == SAM
    assert [w["key"] for w in pops["configuration_waivers"]["items"]] == ["WVR-1"]
    assert pops["configuration_waivers"]["items"][0]["scope"] == "resource:logs-prod"
    assert pops["resources_without_baseline"]["sha256"] == EMPTY_ROWS
    # No production AWS account in the default policy: CFG-1 could check nothing, and says so.
    assert report["not_checked"] and report["not_checked"][0].startswith("CFG-1:")
    for pop in pops.values():
        expected = hashlib.sha256(rfc8785.dumps(pop["items"])).hexdigest()
        assert pop["sha256"] == expected


def test_the_previewed_digest_is_the_signed_one(year_2026: App) -> None:
    seen = preview(year_2026, CONFIG, "2026")
    assert seen.signable and seen.why_not is None
    assert seen.sha256 == hashlib.sha256(rfc8785.dumps(seen.report)).hexdigest()
    review_id = sign(year_2026, CONFIG, "2026", seen.sha256.upper(), notes=" all complete ")
    document = stored(year_2026, review_id)
    assert document == {
        "year": "2026",
        "report": seen.report,
        "report_sha256": seen.sha256,
        "notes": "all complete",
    }
    action, payload = ledger_payload(year_2026, "year:2026")
    assert action == "review.config_annual"
    assert payload["report_sha256"] == seen.sha256
    summary = year_2026.read(lambda ctx: ctx.session.get(Review, review_id).summary)
    assert payload["sha256"] == hashlib.sha256(summary.encode()).hexdigest()
    assert payload["populations"]["drift"] == {
        "rows": 2,
        "sha256": seen.report["populations"]["drift"]["sha256"],
    }


def test_data_that_moved_since_the_preview_is_refused(year_2026: App) -> None:
    seen = preview(year_2026, CONFIG, "2026")
    # The drift left open in 2026 is fixed in January: the year's drift population changed.
    ingest(year_2026, item(24 * 70, "Enabled"))
    scan(year_2026, 24 * 70 + 1)
    with pytest.raises(Refused, match="changed since it was previewed"):
        sign(year_2026, CONFIG, "2026", seen.sha256)
    assert year_2026.read(lambda ctx: ctx.session.scalars(select(Review.id)).all()) == [1]
    again = preview(year_2026, CONFIG, "2026")
    assert again.sha256 != seen.sha256
    assert again.report["drift_counts"]["remediation"] == {"late": 1, "within_48h": 1}
    assert sign(year_2026, CONFIG, "2026", again.sha256) == 2


def test_only_the_iso_signs_and_only_a_year_that_has_ended(year_2026: App) -> None:
    seen = preview(year_2026, POLICY, "2026")
    for who in (BOB, SAM, "aud@example.com"):
        with pytest.raises(Forbidden, match="needs the iso role"):
            sign(year_2026, POLICY, "2026", seen.sha256, who=who)
    december = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
    running = preview(year_2026, POLICY, "2026", at=december)
    assert not running.signable
    assert running.why_not == "2026 has not ended yet; review it after 2027-01-01"
    with pytest.raises(Refused, match="2026 has not ended yet"):
        sign(year_2026, POLICY, "2026", running.sha256, at=december)


@pytest.mark.parametrize(
    ("year", "sha", "message"),
    [
        ("20x6", "a" * 64, "not a year: '20x6'"),
        ("26", "a" * 64, "not a year: '26'"),
        ("1969", "a" * 64, "expected 1970 to 9998"),
        ("2026", "a" * 63, "not a SHA-256"),
        ("2026", "g" * 64, "not a SHA-256"),
    ],
)
def test_bad_input_writes_nothing(org: App, year: str, sha: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        sign(org, POLICY, year, sha)
    assert org.read(lambda ctx: ctx.session.scalars(select(Review.id)).all()) == []


def test_the_policy_report(org: App) -> None:
    at = T0 + timedelta(hours=1)
    org.run(lambda ctx: gate.check(ctx, None, "production", "a" * 40), actor=CI, at=at)
    report = preview(org, POLICY, "2026").report
    digest = org.read(lambda ctx: ctx.policy.digest())
    assert report["policy"]["sha256"] == digest
    assert report["policy"]["document"] == "Change Management Policy"
    assert report["policy_digests_seen"]["items"] == [
        {
            "sha256": digest,
            "gate_decisions": 1,
            "first": "2026-11-02T10:00:00.000000+00:00",
            "last": "2026-11-02T10:00:00.000000+00:00",
            "in_force": True,
        }
    ]
    assert report["applicability_and_scope"]["text"].endswith(
        "The Information Security Officer shall review this policy annually to ensure ongoing "
        "SOC 2 compliance."
    )
    assert [c["id"] for c in report["controls"]][:2] == ["CM-1", "CM-2"]
    assert len(report["controls"]) == 14  # the policy's 13 and AUTH-1 (DESIGN.md section 2)
    none = {"open": 0, "closed": 0, "suppressed": 0, "by_status": {}}
    assert report["findings_by_control"]["CM-6"] == none


def test_an_audit_after_the_preview_moves_the_policy_report(org: App) -> None:
    seen = preview(org, POLICY, "2026")
    org.run(lambda ctx: audits.run_requested(ctx, "2026"), actor=IVY, at=JAN_10)
    with pytest.raises(Refused, match="POL-1"):
        sign(org, POLICY, "2026", seen.sha256)
    moved = preview(org, POLICY, "2026").report["findings_by_control"]
    # The quarters whose metrics review fell due in 2026 went unreviewed (CM-6): 2025-Q4 (due
    # in January 2026), 2026-Q1, Q2 and Q3 (Q4's falls due in 2027).
    assert moved["CM-6"]["open"] == 4


def test_the_quarterly_metrics_review_is_pinned_too(org: App) -> None:
    oct_5 = datetime(2026, 10, 5, 9, tzinfo=UTC)
    seen = org.run(lambda ctx: reviews.preview_quarter(ctx, "2026-q3"), at=oct_5)
    assert (seen.kind, seen.period, seen.signable) == ("quarterly_metrics", "2026-Q3", True)
    # A gate decision after the quarter changes nothing in it ...
    org.run(lambda ctx: gate.check(ctx, None, "production", "a" * 40), actor=CI, at=oct_5)
    same = org.run(lambda ctx: reviews.preview_quarter(ctx, "2026-Q3"), at=oct_5)
    assert same.sha256 == seen.sha256
    # ... one recorded late inside it does.
    late = datetime(2026, 9, 30, 23, tzinfo=UTC)
    org.run(lambda ctx: gate.check(ctx, None, "production", "b" * 40), actor=CI, at=late)
    with pytest.raises(Refused, match="CM-6"):
        org.run(
            lambda ctx: reviews.review_quarter(ctx, "2026-Q3", "", seen.sha256),
            actor=IVY,
            at=oct_5,
        )
    fresh = org.run(lambda ctx: reviews.preview_quarter(ctx, "2026-Q3"), at=oct_5)
    assert fresh.report["gate"] == {"allowed": 0, "denied": 1}
    review_id = org.run(
        lambda ctx: reviews.review_quarter(ctx, "2026-Q3", "fine", fresh.sha256).id,
        actor=IVY,
        at=oct_5,
    )
    assert stored(org, review_id) == fresh.report | {"notes": "fine"}
    action, payload = ledger_payload(org, "quarter:2026-Q3")
    assert (action, payload["report_sha256"]) == ("review.quarterly_metrics", fresh.sha256)
    # The call without a digest keeps working, unpinned.
    unpinned = org.run(lambda ctx: reviews.review_quarter(ctx, "2026-Q3").id, actor=IVY, at=oct_5)
    assert unpinned == review_id + 1


def test_documents_and_the_reviews_of_a_period(year_2026: App) -> None:
    seen = preview(year_2026, CONFIG, "2026")
    review_id = sign(year_2026, CONFIG, "2026", seen.sha256, notes="<script>alert(1)</script>")
    html, pdf = year_2026.read(lambda ctx: reviews.report_document(ctx.session, review_id))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert seen.sha256 in html and IVY in html and "2027-01-10 12:00:00 UTC" in html
    assert "population: drift (2 rows)" in html
    assert "<td>by_status</td><td>open: 1, remediated: 1</td>" in html
    assert pdf.startswith(b"%PDF")
    with pytest.raises(NotFound):
        year_2026.read(lambda ctx: reviews.report_document(ctx.session, 999))
    listed = year_2026.read(
        lambda ctx: reviews.recorded_between(
            ctx.session, datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC)
        )
    )
    assert [(r.kind, r.period) for r in listed] == [
        ("baseline_verification", "2026-Q4"),
        ("config_annual", "2026"),
    ]
    before = year_2026.read(
        lambda ctx: reviews.recorded_between(
            ctx.session, datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 10, 12, tzinfo=UTC)
        )
    )
    assert before == []
