"""CM-6 metrics: a hand-built quarter whose every figure was worked out by hand (the comments
say how), read through the quarterly review and the dashboard, which must agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from changegate.bootstrap import App
from changegate.db.models import (
    AuditRun,
    Baseline,
    BaselineResource,
    Change,
    Deployment,
    Drift,
    Finding,
    GateDecisionRecord,
    Observation,
    TestRun,
    User,
    Waiver,
)
from changegate.domain.errors import BadInput
from changegate.services import reviews
from changegate.services.views.dashboard import dashboard

H = timedelta(hours=1)
REPORTED = datetime(2026, 10, 5, 9, tzinfo=UTC)  # after Q3: as_of is its end


def at(month: int, day: int, hour: float = 0) -> datetime:
    return datetime(2026, month, day, tzinfo=UTC) + timedelta(hours=hour)


class World:
    def __init__(self, session: Session) -> None:
        self.s = session
        self.n = 0
        self.user = User(email="a@example.com", name="A", created_at=at(6, 1))
        session.add(self.user)
        session.flush()

    def add(self, row: Any) -> Any:
        self.s.add(row)
        self.s.flush()
        return row

    def change(self, kind: str, status: str, created: datetime, **kw: Any) -> Change:
        self.n += 1
        return self.add(
            Change(
                number=self.n,
                key=f"CHG-{self.n}",
                requester_id=self.user.id,
                status=status,
                version_hash="0" * 64,
                title="t",
                risk="low",
                change_type=kind,
                created_at=created,
                updated_at=created,
                **kw,
            )
        )

    def deploy(self, c: Change, commit: str, started: datetime, status: str, **kw: Any) -> Any:
        kw.setdefault("environment", "production")
        kw.setdefault("kind", "deploy")
        return self.add(
            Deployment(
                change_id=c.id,
                commit=commit,
                status=status,
                run_url="https://ci.example/1",
                deployer_id=self.user.id,
                started_at=started,
                **kw,
            )
        )

    def test_run(self, c: Change, commit: str, recorded: datetime, ok: bool) -> None:
        self.add(
            TestRun(
                change_id=c.id,
                environment="staging",
                isolated=True,
                commit=commit,
                tests=1,
                passed=int(ok),
                failures=int(not ok),
                errors=0,
                skipped=0,
                flaky=0,
                duration_seconds=1.0,
                report_sha256="0" * 64,
                report_format="junit",
                ok=ok,
                recorded_by_id=self.user.id,
                recorded_at=recorded,
            )
        )


def changes_and_deployments(w: World) -> None:
    c1 = w.change(
        "normal",
        "closed",
        at(7, 6),
        submitted_at=at(7, 6, 9),
        approved_at=at(7, 7, 9),
        implemented_at=at(7, 8, 10),
    )
    c2 = w.change(
        "normal",
        "implemented",
        at(7, 13),
        submitted_at=at(7, 13, 9),
        approved_at=at(7, 15, 12),
        implemented_at=at(7, 14, 10),
    )
    c3 = w.change(
        "emergency",
        "closed",
        at(8, 3),
        submitted_at=at(8, 3, 9),
        implemented_at=at(8, 3, 10),
        retro_due_at=at(8, 11),
        pir_due_at=at(8, 11),
        retro_approved_at=at(8, 5),
        pir_recorded_at=at(8, 12),
    )
    c4 = w.change(
        "emergency",
        "implemented",
        at(9, 1),
        submitted_at=at(9, 1, 9),
        implemented_at=at(9, 1, 11),
        retro_due_at=at(9, 9),
        pir_due_at=at(9, 9),
        pir_recorded_at=at(9, 2),
    )
    w.change("normal", "submitted", at(9, 20), submitted_at=at(9, 20, 9))
    c6 = w.change(
        "normal",
        "closed",
        at(6, 20),
        submitted_at=at(6, 25, 9),
        approved_at=at(6, 26),
        implemented_at=at(7, 2, 10),
    )
    w.deploy(c6, "f0", at(6, 28, 10), "failed", finished_at=at(6, 28, 11))  # Q2: C6's first
    w.test_run(c1, "a1", at(7, 7, 12), ok=True)
    w.deploy(c1, "a1", at(7, 8, 10), "succeeded", finished_at=at(7, 8, 10.5))
    w.deploy(c1, "a1", at(7, 7, 13), "succeeded", environment="staging")
    w.test_run(c2, "b1", at(7, 13, 12), ok=False)
    d2 = w.deploy(c2, "b1", at(7, 14, 10), "rolled_back", finished_at=at(7, 14, 10.1))
    w.deploy(
        c2,
        "b0",
        at(7, 14, 12),
        "succeeded",
        kind="rollback",
        rollback_of_id=d2.id,
        finished_at=at(7, 14, 12),
    )
    w.deploy(c3, "c1", at(8, 3, 10), "succeeded", finished_at=at(8, 3, 10.1))
    w.test_run(c4, "d1", at(9, 1, 12), ok=True)  # after the deployment it would vouch for
    w.deploy(c4, "d1", at(9, 1, 11), "failed", finished_at=at(9, 1, 11.05))
    w.test_run(c4, "d2", at(9, 1, 13), ok=True)
    w.deploy(c4, "d2", at(9, 1, 14), "succeeded", finished_at=at(9, 1, 14.5))
    w.test_run(c6, "f1", at(6, 30), ok=True)
    w.deploy(c6, "f1", at(7, 2, 10), "succeeded", finished_at=at(7, 2, 10.3))
    w.deploy(c1, "a2", at(9, 30, 23), "started")
    for allowed, decided in (
        (True, at(7, 8)),
        (True, at(9, 1)),
        (False, at(8, 1)),
        (True, at(10, 2)),
    ):
        w.add(
            GateDecisionRecord(
                change_key="CHG-1",
                environment="production",
                commit="a1",
                principal="ci",
                allowed=allowed,
                reasons=[],
                obligations=[],
                inputs={},
                policy_digest="0" * 64,
                decided_at=decided,
            )
        )


def drifts(w: World) -> None:
    b = w.add(
        Baseline(
            name="b",
            version=1,
            status="approved",
            source="cloudformation",
            source_ref="x",
            source_sha256="0" * 64,
            author_id=w.user.id,
            created_at=at(6, 1),
        )
    )
    r = w.add(
        BaselineResource(
            baseline_id=b.id, resource_type="AWS::S3::Bucket", resource_id="logs", properties={}
        )
    )
    o = w.add(
        Observation(
            resource_type="AWS::S3::Bucket",
            resource_id="logs",
            captured_at=at(6, 1),
            status="OK",
            source="test",
            ingested_at=at(6, 1),
        )
    )
    rows = [  # detected, hours to close (None: open), unauthorised
        (at(7, 10), 24, True),
        (at(8, 1), 72, True),
        (at(9, 10), None, True),
        (at(9, 30, 12), None, True),  # still inside its 48 hours at the quarter's end
        (at(8, 20), 24, False),
        (at(9, 29), 72, True),  # closed after the quarter ended
        (at(6, 15), 24, True),  # Q2
    ]
    for detected, hours, unauthorised in rows:
        closed = detected + hours * H if hours else None
        w.add(
            Drift(
                baseline_resource_id=r.id,
                resource_type="AWS::S3::Bucket",
                resource_id="logs",
                status="remediated" if closed else "open",
                observation_id=o.id,
                differences=[],
                authorised_by=None if unauthorised else "CHG-1",
                detected_at=detected,
                due_at=detected + 48 * H if unauthorised else None,
                closed_at=closed,
                remediation_seconds=hours * 3600.0 if hours else None,
            )
        )


def findings(w: World) -> None:
    run = w.add(
        AuditRun(
            period="2026-Q3",
            period_start=at(7, 1),
            period_end=at(10, 1),
            as_of=at(10, 1),
            actor="x",
            started_at=at(10, 1),
            rules=[],
            counts={},
            digest="0" * 64,
        )
    )
    rows = [  # control, occurred, first detected, status, resolved at
        ("CM-3", at(8, 15), at(8, 16), "open", None),
        ("CM-4", at(9, 1), at(9, 28), "confirmed", None),  # exactly 3 days old
        ("CM-2", at(9, 5), at(9, 30, 12), "closed", at(10, 3)),  # closed after the end
        ("CM-2", at(7, 20), at(7, 21), "dismissed", at(7, 25)),
        ("CM-4", at(7, 3), at(7, 4), "suppressed", None),
        ("CM-3", at(6, 10), at(6, 11), "open", None),  # Q2, still open
        ("CM-1", at(9, 30), at(10, 2), "open", None),  # detected after the end
    ]
    for n, (control, occurred, detected, status, resolved) in enumerate(rows, 1):
        w.add(
            Finding(
                number=n,
                key=f"FND-{n}",
                fingerprint=f"f{n}",
                control=control,
                rule="r",
                subject="s",
                summary="s",
                evidence=[],
                attributes={},
                status=status,
                occurred_at=occurred,
                first_detected_at=detected,
                last_detected_at=detected,
                first_run_id=run.id,
                decided_at=resolved if status == "dismissed" else None,
                remediated_at=resolved if status == "closed" else None,
            )
        )


def waivers(w: World) -> None:
    rows = [  # active from, expires, closed
        (at(9, 1), at(10, 10), None),  # active, expiring
        (at(9, 15), at(11, 30), None),  # active
        (at(8, 1), at(9, 1), None),  # expired
        (None, None, None),  # never approved
        (at(9, 1), at(12, 1), at(9, 20)),  # closed early
        (at(9, 20), at(10, 15), None),  # active, ends exactly 14 days after the end
    ]
    for n, (start, end, closed) in enumerate(rows, 1):
        w.add(
            Waiver(
                number=n,
                key=f"WVR-{n}",
                status="active",
                requester_id=w.user.id,
                title="t",
                justification="j",
                compensating_controls="c",
                controls=["CM-4"],
                scope_kind="change",
                scope_value="CHG-1",
                requested_days=30,
                created_at=at(8, 1),
                active_from=start,
                expires_at=end,
                closed_at=closed,
            )
        )


EXPECTED: dict[str, Any] = {
    "quarter": "2026-Q3",
    "as_of": "2026-10-01T00:00:00+00:00",
    # Created in Q3: C1-C5 (C6 was created in June).
    "changes_by_type": {"emergency": 2, "normal": 3},
    "changes_by_status": {"closed": 2, "implemented": 2, "submitted": 1},
    # Every kind started in Q3: 8 production (D1, D2, R2, D3, D4, D5, D6, D9), 1 staging.
    "deployments_by_environment": {"production": 8, "staging": 1},
    "gate": {"allowed": 2, "denied": 1},
    # Implemented in Q3: C1, C2, C3, C4, C6; emergencies C3 (retro on time, PIR late) and C4
    # (PIR on time, no retro approval).
    "emergencies": {
        "implemented": 2,
        "pir_on_time": 1,
        "retro_approval_on_time": 1,
        "changes_implemented": 5,
        "share_percent": 40.0,
        "pir_on_time_percent": 50.0,
        "retro_approval_on_time_percent": 50.0,
    },
    # Production deploys started in Q3: D1, D2, D3, D4, D5, D6, D9 = 7. Approved before: D1,
    # D6, D9 (C1 and C6 approved earlier) = 3/7. Tested before: D1, D5, D6 = 3/7 (C2's run
    # failed, C4's d1 run came after, D9's commit has none).
    "production_deployments": {
        "deployments": 7,
        "approved_before": 3,
        "approved_before_percent": 42.9,
        "tested_before": 3,
        "tested_before_percent": 42.9,
    },
    # Q3 drift: six; closed by Oct 1: the 24 h, the 72 h and the authorised one. Unauthorised
    # five, settled four (not the one inside its 48 h); within 48 h: one of four. Times to
    # remediate 24, 72: median (rank 1 of 2) 24, p90 (rank 2) 72.
    "drift": {
        "detected": 6,
        "open": 3,
        "closed": 3,
        "unauthorised": 5,
        "settled": 4,
        "target_hours": 48,
        "remediated": 2,
        "remediated_within_target": 1,
        "within_percent": 25.0,
        "remediation_hours_median": 24.0,
        "remediation_hours_p90": 72.0,
    },
    "findings_by_control": {"CM-1": 1, "CM-2": 2, "CM-3": 1, "CM-4": 1},
    # Open at Oct 1: FND-3 (12 h), FND-2 (3 days: not under 3), FND-1 (46 days), FND-6.
    "findings_open_by_age": {
        "under 1 day": 1,
        "1-3 days": 0,
        "3-7 days": 1,
        "7-30 days": 0,
        "30 days or more": 2,
    },
    "waivers": {"active": 3, "expiring": 2, "expiring_days": 14},
    # Reached production: D1, D2, D3, D5, D6 = 5 in 92 days = 0.38 a week. Finished 6 (all but
    # D9), failed D2 and D4: 33.3 %. Lead times (submission -> first production deploy): C1
    # 49 h, C2 25 h, C3 1 h, C4 2 h (C6 first deployed in June): median 2, p90 49. Restored:
    # D2 by its rollback 2 h later, D4 by D5 (14:30 - 11:00): median of 2 and 3.5 = 2.
    "dora": {
        "deployments": 5,
        "deployments_per_week": 0.38,
        "lead_time_from": "submission",
        "lead_time_changes": 4,
        "lead_time_hours_median": 2.0,
        "lead_time_hours_p90": 49.0,
        "change_failures": 2,
        "finished_deployments": 6,
        "change_failure_rate_percent": 33.3,
        "restored": 2,
        "unrestored": 0,
        "time_to_restore_hours_median": 2.0,
    },
}


@pytest.fixture
def quarter(app: App) -> App:
    def build(ctx: Any) -> None:
        w = World(ctx.session)
        changes_and_deployments(w)
        drifts(w)
        findings(w)
        waivers(w)

    app.run(build, at=REPORTED)
    return app


def test_the_review_signs_the_hand_computed_figures(quarter: App) -> None:
    assert quarter.run(lambda ctx: reviews.metrics(ctx, "2026-q3"), at=REPORTED) == EXPECTED


def test_the_dashboard_shows_the_figures_the_review_signs(quarter: App) -> None:
    board = quarter.run(lambda ctx: dashboard(ctx, "2026-Q3"), at=REPORTED)
    signed = quarter.run(lambda ctx: reviews.metrics(ctx, "2026-Q3"), at=REPORTED)
    assert board.metrics.model_dump(mode="json") == signed == EXPECTED
    weeks = {p.week: (p.deployments, p.failures) for p in board.deployments_by_week}
    assert len(weeks) == 14  # 2026-W27 (Wed 1 Jul) to 2026-W40 (Wed 30 Sep)
    assert {w: n for w, n in weeks.items() if n != (0, 0)} == {
        "2026-W27": (1, 0),  # D6, Thu 2 Jul
        "2026-W28": (1, 0),  # D1
        "2026-W29": (1, 1),  # D2, rolled back
        "2026-W32": (1, 0),  # D3
        "2026-W36": (1, 1),  # D4 failed, D5
    }
    assert [(p.label, p.count) for p in board.findings_by_control] == [
        ("CM-1", 1),
        ("CM-2", 2),
        ("CM-3", 1),
        ("CM-4", 1),
    ]
    tiles = {t.metric: t.value for t in board.tiles}
    assert tiles["dora.change_failure_rate_percent"] == 33.3
    assert tiles["drift.remediation_hours_p90"] == 72.0


def test_while_the_quarter_runs_open_things_are_counted_now(quarter: App) -> None:
    mid = at(9, 30, 13)  # FND-3 detected an hour ago; the drift of Sep 30 12:00 is open
    m = quarter.run(lambda ctx: reviews.metrics(ctx, "2026-Q3"), at=mid)
    assert m["as_of"] == mid.isoformat()
    assert m["findings_open_by_age"]["under 1 day"] == 1
    assert m["drift"]["settled"] == 3  # the Sep 29 drift is not due until Oct 1


def test_an_empty_quarter_has_no_rates(app: App) -> None:
    m = app.run(lambda ctx: dashboard(ctx, "2025-Q1"), at=REPORTED).metrics
    assert m.production_deployments.approved_before_percent is None
    assert m.dora.change_failure_rate_percent is None
    assert m.dora.deployments_per_week == 0.0
    assert m.drift.remediation_hours_median is None


def test_a_bad_quarter_is_bad_input(app: App) -> None:
    with pytest.raises(BadInput, match="not a quarter"):
        app.run(lambda ctx: dashboard(ctx, "2026-Q5"), at=REPORTED)
