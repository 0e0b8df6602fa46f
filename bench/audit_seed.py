"""The audit benchmark's year of records: 2026's changes, versions, approvals, test runs,
deployments, baselines, observations, drifts, waivers and reviews, bulk-inserted with Core, with a
low single-digit per cent of planted violations (see `RATE`)."""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text, update

from changegate.bootstrap import App
from changegate.db import models as m
from changegate.domain.changes import ChangeFields, ChangeType, Risk, version_hash

START = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
SPAN = timedelta(days=350)  # activity stops mid-December: every release lands inside 2026
AUDIT_AT = datetime(2027, 1, 20, 9, 0, tzinfo=UTC)  # the whole year and its deadlines are past
PEOPLE: dict[str, list[str]] = {
    "alice@example.com": ["requester"],
    "rob@example.com": ["requester"],
    "dana@example.com": ["requester"],
    "olga.ops@example.com": ["requester", "admin"],
    "bob@example.com": ["cab"],
    "carol@example.com": ["cab"],
    "cody@example.com": ["cab"],
    "ivy@example.com": ["iso"],
    "max@example.com": ["cab", "iso"],
    "sam@example.com": ["security_engineer"],
    "hana@example.com": ["hr"],
    "aud@example.com": ["auditor"],
    "ci@example.com": ["pipeline"],
}
REQUESTERS = ("alice@example.com", "rob@example.com", "dana@example.com", "olga.ops@example.com")
CABS = ("bob@example.com", "carol@example.com", "cody@example.com", "max@example.com")
IVY, MAX, SAM = "ivy@example.com", "max@example.com", "sam@example.com"
SANDBOX = "res-000042"  # a team's playground: drifts there in May to July are under a waiver
CI, HUMAN, AUDITOR = "ci@example.com", "olga.ops@example.com", "aud@example.com"
SERVICES = ("orders", "payments", "search", "auth", "billing", "gateway", "catalog", "notify")
TYPES = ("AWS::S3::Bucket", "AWS::EC2::SecurityGroup", "AWS::IAM::Role")
# Chances per change, release, drift or emergency. The violations are low single-digit per
# cent; rejected, second_version, failed_then_passed and rollback are ordinary events.
RATE = {
    "emergency": 0.05,
    "rejected": 0.03,
    "incomplete": 0.003,
    "late_iso": 0.01,
    "edited_after_approval": 0.003,
    "author_approves": 0.003,
    "one_person_two_roles": 0.001,
    "second_version": 0.08,
    "retro_late": 0.06,
    "pir_missing": 0.03,
    "untested": 0.008,
    "failed_then_passed": 0.03,
    "human_deploy": 0.002,
    "rollback": 0.01,
    "drift_unauthorised": 0.02,
    "drift_late": 0.004,
    "drift_open": 0.001,
}
ORDER = (
    "changes",
    "change_versions",
    "approvals",
    "test_runs",
    "deployments",
    "reviews",
    "baselines",
    "baseline_resources",
    "observations",
    "drifts",
    "waivers",
    "waiver_approvals",
)


def sha(*parts: object) -> str:
    return hashlib.sha1("-".join(map(str, parts)).encode()).hexdigest()


class Seed:
    """Rows for the year, written table by table in chunks; `planted` counts the violations."""

    def __init__(self, app: App, ids: dict[str, int], args: argparse.Namespace) -> None:
        self.ids, self.rng, self.args = ids, random.Random(args.seed), args
        self.calendar = app.policy.calendar(START)
        self.next_id = {t: itertools.count(1) for t in ORDER}
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.planted: Counter[str] = Counter()

    def add(self, table: str, **row: Any) -> int:
        row["id"] = next(self.next_id[table])
        self.rows[table].append(row)
        return int(row["id"])

    def flaw(self, name: str) -> bool:
        hit = self.rng.random() < RATE[name]
        self.planted[name] += hit
        return hit

    def write(self, conn: Connection) -> None:
        for table in ORDER:
            rows = self.rows.pop(table, [])
            for i in range(0, len(rows), self.args.chunk):
                conn.execute(
                    m.everything().metadata.tables[table].insert(), rows[i : i + self.args.chunk]
                )

    # --- changes ------------------------------------------------------------------------------

    def change(self, i: int, releases: int) -> None:
        t = START + SPAN * (i - 1) / self.args.changes
        emergency = releases > 0 and self.flaw("emergency")
        f = self.fields(i, emergency)
        key, who = f"CHG-{i}", self.rng.choice(REQUESTERS)
        data = f.as_json()
        row = self.change_row(i, key, who, t, f, data)
        self.add(
            "change_versions",
            change_id=i,
            version=1,
            hash=row["version_hash"],
            fields=data,
            created_at=t,
            created_by_id=self.ids[who],
        )
        if releases == 0:
            self.reject(row, t)
        elif emergency:
            self.emergency(row, t, releases)
        else:
            self.normal(row, t, releases)
        self.rows["changes"].append(row)

    def fields(self, i: int, emergency: bool) -> ChangeFields:
        svc, rng = self.rng.choice(SERVICES), self.rng
        return ChangeFields(
            title=f"{rng.choice(('Upgrade', 'Patch', 'Reconfigure', 'Scale'))} {svc} ({i})",
            scope=f"{svc} service: primary, replicas and workers",
            impact=f"{rng.randint(0, 60)} s of retries on {svc}; no data loss expected",
            # A request imported half-filled, then deployed anyway: CM-1's finding.
            rollback_plan="" if self.flaw("incomplete") else f"redeploy the previous {svc}",
            risk=rng.choice((Risk.LOW, Risk.LOW, Risk.MEDIUM, Risk.HIGH)),
            change_type=ChangeType.EMERGENCY if emergency else ChangeType.NORMAL,
            justification="customer-facing outage" if emergency else "",
            affected_services=(svc,),
            environments=("staging", "production"),
            ticket=f"ENG-{10_000 + i}",
            commit_authors=(f"dev{i % 40}@example.com",),
        )

    def change_row(
        self, i: int, key: str, who: str, t: datetime, f: ChangeFields, data: dict[str, Any]
    ) -> dict[str, Any]:
        columns = {
            k: list(v) if isinstance(v, list | tuple) else v
            for k, v in data.items()
            if k != "window"
        }
        return {
            "id": i,
            "number": i,
            "key": key,
            "requester_id": self.ids[who],
            "status": "closed",
            "version": 1,
            "version_hash": version_hash(f),
            "lock_version": 6,
            **columns,
            "window_start": None,
            "window_end": None,
            "created_at": t,
            "updated_at": t,
            "submitted_at": t + timedelta(hours=1),
            "approved_at": None,
            "implemented_at": None,
            "closed_at": None,
            "approved_before_implementation": None,
            "retro_due_at": None,
            "pir_due_at": None,
            "due_calendar": None,
            "retro_approved_at": None,
            "pir_recorded_at": None,
        }

    def approve(
        self, row: dict[str, Any], version: int, at: datetime, iso_at: datetime, retro: bool = False
    ) -> None:
        quorum = 2 if row["risk"] == Risk.HIGH.value else 1
        cabs = self.rng.sample(CABS, quorum)
        iso = IVY if MAX in cabs or self.rng.random() < 0.8 else MAX
        if self.flaw("author_approves"):
            row["commit_authors"] = [*row["commit_authors"], cabs[0]]
        if self.flaw("one_person_two_roles"):
            cabs, iso = [MAX, *cabs[1:]] if MAX not in cabs else cabs, MAX
        votes = [(c, "cab", at + timedelta(minutes=30 * n)) for n, c in enumerate(cabs)]
        for who, role, when in [*votes, (iso, "iso", iso_at)]:
            self.add(
                "approvals",
                change_id=row["id"],
                version=version,
                role=role,
                decision="approved",
                approver_id=self.ids[who],
                comment="reviewed",
                decided_at=when,
                retroactive=retro,
            )

    def reject(self, row: dict[str, Any], t: datetime) -> None:
        row.update(status="rejected", lock_version=3)
        self.add(
            "approvals",
            change_id=row["id"],
            version=1,
            role="cab",
            decision="rejected",
            approver_id=self.ids[self.rng.choice(CABS)],
            comment="rollback plan untested",
            decided_at=t + timedelta(hours=3),
            retroactive=False,
        )

    def new_version(self, row: dict[str, Any], at: datetime) -> int:
        row["version"] += 1
        self.add(
            "change_versions",
            change_id=row["id"],
            version=row["version"],
            hash=sha(row["key"], row["version"]),
            fields={"note": "edited"},
            created_at=at,
            created_by_id=row["requester_id"],
        )
        return int(row["version"])

    def normal(self, row: dict[str, Any], t: datetime, releases: int) -> None:
        version = (
            self.new_version(row, t + timedelta(hours=2)) if self.flaw("second_version") else 1
        )
        first = t + timedelta(hours=24)
        # Late ISO approval: the first production deploy went out before the quorum (CM-2).
        iso_at = first + timedelta(hours=5) if self.flaw("late_iso") else t + timedelta(hours=5)
        self.approve(row, version, t + timedelta(hours=3), iso_at)
        row["approved_at"] = iso_at
        if releases > 1 and self.flaw("edited_after_approval"):
            self.new_version(row, first + timedelta(hours=12))  # never re-approved (CM-2)
        self.release_all(row, first, releases)

    def emergency(self, row: dict[str, Any], t: datetime, releases: int) -> None:
        self.release_all(row, t + timedelta(minutes=30), releases)
        done = row["implemented_at"]
        retro_due = self.calendar.add_business_days(done, 5)
        retro_at = (
            retro_due + timedelta(days=2) if self.flaw("retro_late") else done + timedelta(days=1)
        )
        self.approve(row, 1, retro_at - timedelta(hours=2), retro_at, retro=True)
        pir_at = None if self.flaw("pir_missing") else done + timedelta(days=3)
        row.update(
            approved_at=retro_at,
            retro_due_at=retro_due,
            pir_due_at=retro_due,
            retro_approved_at=retro_at,
            pir_recorded_at=pir_at,
            due_calendar=self.calendar.describe(),
        )
        if pir_at is not None:
            self.add(
                "reviews",
                kind="pir",
                change_id=row["id"],
                author_id=row["requester_id"],
                summary=f"PIR for {row['key']}: root cause fixed, tests added",
                recorded_at=pir_at,
            )

    def release_all(self, row: dict[str, Any], first: datetime, releases: int) -> None:
        previous: tuple[int, str] | None = None
        for r in range(releases):
            previous = self.release(row, r, first + timedelta(hours=26 * r), previous)
        last = row["implemented_at"] + timedelta(hours=26 * (releases - 1))
        row.update(
            approved_before_implementation=row["approved_at"] is not None
            and row["approved_at"] <= row["implemented_at"],
            updated_at=last,
            closed_at=last + timedelta(days=1),
        )

    def release(
        self, row: dict[str, Any], r: int, at: datetime, previous: tuple[int, str] | None
    ) -> tuple[int, str]:
        """Staging deploy, its regression run, then production, usually three hours later."""
        commit, cid = sha(row["key"], r), row["id"]
        self.deploy(cid, "staging", commit, at, CI)
        prod_at = at + timedelta(hours=3)
        if previous is not None and self.flaw("rollback"):  # staging broke: back to the last
            return self.deploy(cid, "production", previous[1], prod_at, CI, previous[0]), previous[
                1
            ]
        if self.flaw("failed_then_passed"):
            self.test_run(cid, commit, at + timedelta(minutes=20), ok=False)
        if self.flaw("untested"):  # no passing run before production (CM-4)
            self.test_run(cid, commit, prod_at + timedelta(hours=1), ok=True)
        else:
            self.test_run(cid, commit, at + timedelta(minutes=40), ok=True)
        who = HUMAN if self.flaw("human_deploy") else CI  # by hand, not the pipeline (CM-5)
        if row["implemented_at"] is None:
            row["implemented_at"] = prod_at
        return self.deploy(cid, "production", commit, prod_at, who), commit

    def deploy(
        self,
        change_id: int,
        env: str,
        commit: str,
        at: datetime,
        who: str,
        rollback_of: int | None = None,
    ) -> int:
        status = "failed" if self.rng.random() < 0.02 else "succeeded"
        svc = self.rng.choice(SERVICES)
        return self.add(
            "deployments",
            change_id=change_id,
            environment=env,
            kind="rollback" if rollback_of else "deploy",
            commit=commit,
            artifact=None,
            status=status,
            run_url="https://ci.example.com/run/1",
            iac_path=f"infra/{svc}.yaml",
            iac_sha256=sha(svc),
            deployer_id=self.ids[who],
            gate_decision_id=None,
            rollback_of_id=rollback_of,
            reason="rollback" if rollback_of else "",
            started_at=at,
            finished_at=at + timedelta(minutes=8),
        )

    def test_run(self, change_id: int, commit: str, at: datetime, ok: bool) -> None:
        self.add(
            "test_runs",
            change_id=change_id,
            environment="staging",
            isolated=True,
            commit=commit,
            artifact=None,
            tests=412,
            passed=412 if ok else 409,
            failures=0 if ok else 3,
            errors=0,
            skipped=0,
            flaky=0,
            duration_seconds=181.5,
            report_sha256=sha(commit, at) + "0" * 24,
            report_format="junit",
            doc_url=None,
            ok=ok,
            recorded_by_id=self.ids[CI],
            recorded_at=at,
        )

    # --- configuration ------------------------------------------------------------------------

    def baseline(self, resources: int) -> None:
        self.add(
            "baselines",
            name="production",
            version=1,
            status="approved",
            source="cloudformation",
            source_ref="infra/production.yaml",
            source_sha256="0" * 64,
            change_key=None,
            author_id=self.ids[SAM],
            approver_id=self.ids["max@example.com"],
            created_at=START - timedelta(days=30),
            approved_at=START - timedelta(days=29),
            lock_version=2,
        )
        for n in range(resources):
            kind, rid = TYPES[n % 3], f"res-{n:06d}"
            self.add(
                "baseline_resources",
                baseline_id=1,
                resource_type=kind,
                resource_id=rid,
                logical_id=f"R{n:06d}",
                properties={"Tags": [{"Key": "env", "Value": "production"}]},
            )

    def drift(self, j: int, resources: int) -> None:
        """One drift and the AWS Config item that showed it: mostly explained by a change."""
        at = START + SPAN * j / self.args.drifts
        n = j % resources
        kind, rid = TYPES[n % 3], f"res-{n:06d}"
        seen = self.add(
            "observations",
            resource_type=kind,
            resource_id=rid,
            arn=f"arn:aws:config:eu-west-1:123456789012:{kind}/{rid}",
            account_id="123456789012",
            region="eu-west-1",
            captured_at=at - timedelta(minutes=5),
            status="OK",
            configuration={"tags": {"env": "production"}},
            source="aws-config",
            ingested_at=at - timedelta(minutes=4),
        )
        status, authorised, due, closed = self.drift_outcome(j, at, rid)
        self.add(
            "drifts",
            baseline_resource_id=n + 1,
            resource_type=kind,
            resource_id=rid,
            status=status,
            observation_id=seen,
            authorised_by=authorised,
            differences=[{"path": "/Tags/env", "expected": "production", "actual": "dev"}],
            detected_at=at,
            due_at=due,
            closed_at=closed,
            remediation_seconds=(closed - at).total_seconds() if closed else None,
            reopened=0,
            lock_version=2,
        )

    def drift_outcome(self, j: int, at: datetime, rid: str) -> tuple[str, str | None, Any, Any]:
        due = at + timedelta(hours=48)
        if rid == SANDBOX and 5 <= at.month <= 7:  # tinkering the CFG-2 waiver covers
            return "remediated", None, due, at + timedelta(hours=3)
        if self.flaw("drift_open"):
            return "open", None, due, None
        if self.flaw("drift_late"):
            return "remediated", None, due, due + timedelta(hours=self.rng.randint(1, 72))
        if self.flaw("drift_unauthorised"):
            return "remediated", None, due, at + timedelta(hours=self.rng.randint(1, 40))
        change = 1 + j * self.args.changes // self.args.drifts
        return "rebaselined", f"CHG-{change}", None, at + timedelta(hours=2)

    # --- waivers and signed reviews -----------------------------------------------------------

    def waiver(
        self,
        controls: list[str],
        scope: tuple[str, str],
        days: tuple[str, str],
        approvers: list[tuple[str, str]],
        reviewed: bool = True,
    ) -> None:
        start, end = (datetime.fromisoformat(d).replace(tzinfo=UTC) for d in days)
        number = next(self.next_id["waivers"])
        self.rows["waivers"].append(
            {
                "id": number,
                "number": number,
                "key": f"WVR-{number}",
                "status": "expired",
                "requester_id": self.ids[SAM],
                "title": f"{scope[1]} exception",
                "justification": "planned work the control cannot express",
                "compensating_controls": "ISO watches the change log daily",
                "controls": controls,
                "scope_kind": scope[0],
                "scope_value": scope[1],
                "requested_days": (end - start).days,
                "round": 1,
                "periods": [{"round": 1, "start": start.isoformat(), "end": end.isoformat()}],
                "created_at": start - timedelta(days=3),
                "active_from": start,
                "expires_at": end,
                "reviewed_at": end - timedelta(hours=2) if reviewed else None,
                "closed_at": None,
                "lock_version": 4,
            }
        )
        for who, role in approvers:
            self.add(
                "waiver_approvals",
                waiver_id=number,
                round=1,
                role=role,
                decision="approved",
                approver_id=self.ids[who],
                comment="agreed",
                decided_at=start - timedelta(days=1),
            )

    def waivers(self) -> None:
        both = [("bob@example.com", "cab"), (IVY, "iso")]
        self.waiver(["CM-5"], ("principal", HUMAN), ("2026-03-01", "2026-03-31"), both)
        self.waiver(["CFG-2"], ("resource", SANDBOX), ("2026-05-01", "2026-07-30"), both)
        self.waiver(["CM-4"], ("environment", "production"), ("2026-09-14", "2026-09-21"), both)
        # Planted EXC-1 findings: one never reviewed at expiry, one granted on a single approval.
        self.waiver(
            ["CFG-4"],
            ("resource", "res-000007"),
            ("2026-10-01", "2026-10-31"),
            both,
            reviewed=False,
        )
        self.waiver(
            ["CM-5"],
            ("change", "CHG-5000"),
            ("2026-06-01", "2026-06-15"),
            [("carol@example.com", "cab")],
        )

    def reviews(self) -> None:
        signers = {"quarterly_metrics": IVY, "baseline_verification": SAM, "waiver_quarterly": MAX}
        for quarter, ends in (
            ("2025-Q4", "2026-01-01"),
            ("2026-Q1", "2026-04-01"),
            ("2026-Q2", "2026-07-01"),
            ("2026-Q3", "2026-10-01"),
        ):
            for kind, who in signers.items():
                late = kind == "waiver_quarterly" and quarter == "2026-Q2"  # planted CM/EXC-1
                at = datetime.fromisoformat(ends).replace(tzinfo=UTC) + timedelta(
                    days=30 if late else 5
                )
                self.add(
                    "reviews",
                    kind=kind,
                    change_id=None,
                    author_id=self.ids[who],
                    summary=json.dumps({"quarter": quarter, "notes": "signed"}),
                    recorded_at=at,
                )


def release_plan(seed: Seed, args: argparse.Namespace) -> list[int]:
    """Releases per change (each one a staging and a production deployment); rejected get 0."""
    deployed = [i for i in range(args.changes) if not seed.flaw("rejected")]
    plan = [0] * args.changes
    total = args.deployments // 2
    for i in deployed:
        plan[i] = total // len(deployed)
    for i in seed.rng.sample(deployed, total % len(deployed)):
        plan[i] += 1
    return plan


def populate(app: App, args: argparse.Namespace) -> dict[str, Any]:
    with app.engine.begin() as conn:
        ids = {e: i for e, i in conn.execute(text("SELECT email, id FROM users")).all()}
        seed = Seed(app, ids, args)
        for i, releases in enumerate(release_plan(seed, args), start=1):
            seed.change(i, releases)
            if i % 1000 == 0:
                seed.write(conn)
        seed.baseline(args.resources)
        for j in range(args.drifts):
            seed.drift(j, args.resources)
            if (j + 1) % args.chunk == 0:
                seed.write(conn)
        seed.waivers()
        seed.reviews()
        seed.write(conn)
        finish(conn, args)
        counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in ORDER}
    return {"rows": counts, "planted": dict(sorted(seed.planted.items()))}


def finish(conn: Connection, args: argparse.Namespace) -> None:
    """Key counters and (PostgreSQL) id sequences, as if the services had written the rows."""
    for name, value in (("change", args.changes), ("waiver", 5)):
        conn.execute(update(m.Counter).where(m.Counter.name == name).values(value=value))
    if conn.dialect.name == "postgresql":
        for t in ORDER:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT max(id) FROM {t}))"
                )
            )
