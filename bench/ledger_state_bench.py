"""Ledger state benchmark: `ledger verify --state` on a large ledger, beside its floor.

The history is made through the real use cases, so every ledger record is one the services
write: each change created, submitted, approved by CAB and ISO, deployed to staging (started,
succeeded) and asked of the gate for production (denied: no test evidence); a baseline of
`--resources` buckets, half of them observed drifting and a quarter of those remediated, by
drift scans; a quarter's audit that raises findings; the signed quarterly reviews. Then, each in
a freshly spawned process so its peak RSS is its own: the floor (reading and parsing every
ledger record, replaying nothing, comparing nothing), `ledger verify` (the chain alone), the
state check, and the state check again after two rows were edited behind changegate's back
(it must name both). Run from the repository root, e.g.

    .venv/bin/python bench/ledger_state_bench.py --db both --changes 20000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text

import common  # type: ignore[import-not-found]  # bench/ is on sys.path when run as a script
from changegate import bootstrap, ledger
from changegate.bootstrap import App, init
from changegate.config import Settings
from changegate.db.engine import build_engine, session_factory
from changegate.db.models import LedgerRecord
from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.changes import ChangeFields
from changegate.domain.configuration import DeclaredResource, ObservedItem
from changegate.services import (
    approvals,
    audits,
    baselines,
    changes,
    deployments,
    drift,
    gate,
    ledger_state,
    reviews,
    users,
)
from changegate.services.context import Context
from common import check, log, rss_mb  # type: ignore[import-not-found]

SCRATCH_DB = "changegate_statebench"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
CONFIGURED = datetime(2026, 2, 16, 9, 0, tzinfo=UTC)
AUDIT_AT = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
PEOPLE = {
    "alice@example.com": ["requester"],
    "bob@example.com": ["cab"],
    "ivy@example.com": ["iso"],
    "sam@example.com": ["security_engineer"],
    "sec@example.com": ["security_engineer"],
    "ci@example.com": ["pipeline"],
}
ALICE, BOB, IVY, SAM, SEC, CI = PEOPLE
SHA = "c0ffee" + "0" * 34


def fields(i: int) -> ChangeFields:
    return ChangeFields(
        title=f"Release orders service build {i}",
        scope="orders service",
        impact="a rolling restart",
        rollback_plan="redeploy the previous build",
        ticket=f"ENG-{i}",
        environments=("staging", "production"),
        affected_services=("orders",),
    )


def one_change(ctx: Context, i: int) -> None:
    key = changes.create(ctx.acting_as(ALICE), fields(i)).key
    changes.submit(ctx.acting_as(ALICE), key)
    for who, role in ((BOB, ApprovalRole.CAB), (IVY, ApprovalRole.ISO)):
        approvals.decide(ctx.acting_as(who), key, role, Decision.APPROVED, 1, "")
    pipeline = ctx.acting_as(CI)
    started = deployments.start(pipeline, key, "staging", SHA, f"https://ci.example.com/{i}")
    deployments.finish(pipeline, started.id)
    gate.check(pipeline, key, "production", SHA)


def bucket(n: int) -> str:
    return f"orders-logs-{n:06d}"


def observed(n: int, at: datetime, status: str) -> ObservedItem:
    """A bucket as AWS Config records it: versioning is supplementary configuration."""
    return ObservedItem(
        "AWS::S3::Bucket",
        bucket(n),
        f"arn:aws:s3:::{bucket(n)}",
        "123456789012",
        "us-east-1",
        at,
        "OK",
        {"name": bucket(n), "owner": {"id": "0000"}},
        supplementary={"BucketVersioningConfiguration": {"status": status}},
        resource_name=bucket(n),
    )


def configure(app: App, resources: int) -> None:
    """A baseline approved; half its buckets drift, a quarter of those are put right."""
    vocabulary = bootstrap.vocabulary()
    declared = [
        DeclaredResource(
            f"Logs{n}",
            "AWS::S3::Bucket",
            {"BucketName": bucket(n), "VersioningConfiguration": {"Status": "Enabled"}},
            bucket(n),
        )
        for n in range(resources)
    ]
    at = CONFIGURED
    app.run(
        lambda ctx: baselines.import_baseline(
            ctx, "logs", declared, "s.yaml", "a" * 64, vocabulary
        ),
        actor=SAM,
        at=at,
    )
    app.run(lambda ctx: baselines.approve(ctx, "logs", None, None), actor=SEC, at=at)
    for hours, status, chosen in (
        (1, "Suspended", range(0, resources, 2)),
        (3, "Enabled", range(0, resources, 8)),
    ):
        items = [observed(n, at + timedelta(hours=hours - 0.5), status) for n in chosen]
        app.run(
            lambda ctx, i=items: drift.ingest(ctx, i, "bench", vocabulary),
            actor=SAM,
            at=at + timedelta(hours=hours),
        )
        app.run(lambda ctx: drift.scan(ctx, vocabulary), actor=SAM, at=at + timedelta(hours=hours))


def seed_child(url: str, args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    app = init(Settings(database_url=url, policy_path=common.POLICY))
    app.run(
        lambda ctx: [users.add_user(ctx, e, e.split("@")[0], r) for e, r in PEOPLE.items()],
        actor="local-admin",
        at=START,
    )
    for first in range(0, args.changes, args.batch):
        chunk = range(first, min(first + args.batch, args.changes))
        app.run(
            lambda ctx, c=chunk: [one_change(ctx, i) for i in c],
            at=START + timedelta(minutes=first),
        )
    configure(app, args.resources)
    app.run(lambda ctx: audits.run_requested(ctx, "2026-Q1"), actor=IVY, at=AUDIT_AT)
    app.run(lambda ctx: reviews.review_quarter(ctx, "2026-Q1", "bench"), actor=IVY, at=AUDIT_AT)
    app.run(lambda ctx: baselines.verify_quarter(ctx, "2026-Q1"), actor=SAM, at=AUDIT_AT)
    common_settle(app)
    app.engine.dispose()
    seconds = time.perf_counter() - started
    log(f"  seeded in {seconds:.1f} s")
    return {"seconds": round(seconds, 1)}


def common_settle(app: App) -> None:
    with app.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for statement in common.SETTLE[app.engine.dialect.name]:
            conn.execute(text(statement))


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = fn()
    return time.perf_counter() - began, result


def floor(session: Any) -> int:
    """Read and parse every ledger record: what any replay pays before it does anything."""
    cols = LedgerRecord.__table__.c
    stmt = select(cols.at, cols.actor, cols.action, cols.subject, cols.payload).order_by(cols.seq)
    count = 0
    for at, _, _, _, payload in session.execute(stmt.execution_options(yield_per=ledger.BATCH)):
        ledger.stamp(at)
        json.loads(payload)
        count += 1
    return count


def step_child(url: str, step: str) -> dict[str, Any]:
    """One measured step in a read-only session, as `changegate ledger verify` opens it."""
    engine = build_engine(url)
    with session_factory(engine, read_only=True)() as session:
        session.execute(text("SELECT 1"))
        baseline = rss_mb()
        if step == "floor":
            seconds, result = timed(lambda: floor(session))
        elif step == "verify":
            seconds, report = timed(lambda: ledger.verify(session))
            result = report.count if report.ok else -1
        else:
            seconds, found = timed(lambda: ledger_state.check(session))
            result = [(m.table, m.key, m.field) for m in found]
    engine.dispose()
    return {
        "seconds": seconds,
        "result": result,
        "rss_baseline_mb": baseline,
        "rss_peak_mb": rss_mb(),
    }


def in_child(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def tamper(url: str) -> None:
    """As someone with database access might: a drift closed, a finding's summary softened."""
    engine = build_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE drifts SET status = 'rebaselined' WHERE id = 1"))
        conn.execute(text("UPDATE findings SET summary = 'nothing' WHERE key = 'FND-1'"))
    engine.dispose()


def bench(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    log(f"{kind}: {args.changes:,} changes, {args.resources:,} baseline resources")
    with common.database(kind, SCRATCH_DB, args.pg_url) as url:
        seeded = in_child(seed_child, url, args)
        steps = {name: in_child(step_child, url, name) for name in ("floor", "verify", "state")}
        records = steps["floor"]["result"]
        check(steps["verify"]["result"] == records, "the chain does not verify")
        check(steps["state"]["result"] == [], f"mismatches: {steps['state']['result'][:5]}")
        tamper(url)
        steps["tampered"] = in_child(step_child, url, "state")
    named = steps["tampered"]["result"]
    check(
        named == [("drifts", "#1", "status"), ("findings", "FND-1", "sha256")],
        f"the edited rows were not named as expected: {named}",
    )
    return {"db": kind, "records": records, "seed": seeded, "steps": steps}


def fmt(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def table(results: list[dict[str, Any]]) -> str:
    def rate(r: dict[str, Any], step: str) -> str:
        return fmt(r["records"] / r["steps"][step]["seconds"])

    def rss(r: dict[str, Any], step: str) -> str:
        s = r["steps"][step]
        return f"{fmt(s['rss_baseline_mb'])} -> {fmt(s['rss_peak_mb'])}"

    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("ledger records", lambda r: fmt(r["records"])),
        ("seed through the use cases, s", lambda r: str(r["seed"]["seconds"])),
        (
            "**`ledger verify --state` (state check alone): s**",
            lambda r: fmt(r["steps"]["state"]["seconds"], 2),
        ),
        ("**state check: ledger records/s**", lambda r: rate(r, "state")),
        ("state check RSS: baseline -> peak MB", lambda r: rss(r, "state")),
        (
            "state check after 2 rows edited: s, rows named",
            lambda r: (
                f"{fmt(r['steps']['tampered']['seconds'], 2)}, "
                f"{len(r['steps']['tampered']['result'])}"
            ),
        ),
        ("floor: read and parse every record, records/s", lambda r: rate(r, "floor")),
        ("floor RSS: baseline -> peak MB", lambda r: rss(r, "floor")),
        ("`ledger verify` (chain alone): records/s", lambda r: rate(r, "verify")),
    ]
    lines = [
        "| metric | " + " | ".join(r["db"] for r in results) + " |",
        "|---|" + "---:|" * len(results),
    ]
    lines += [f"| {label} | {' | '.join(get(r) for r in results)} |" for label, get in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--changes", type=int, default=20_000)
    parser.add_argument("--resources", type=int, default=2_000, help="baseline resources")
    parser.add_argument("--batch", type=int, default=200, help="changes per transaction")
    parser.add_argument("--pg-url", default=common.PG_URL, help=f"creates and drops {SCRATCH_DB}")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args()
    if args.changes < 1 or args.resources < 8:
        parser.error("--changes must be at least 1 and --resources at least 8")
    results = [
        bench(kind, args)
        for kind in (("sqlite", "postgresql") if args.db == "both" else (args.db,))
    ]
    print(json.dumps(results, indent=2) if args.json else table(results))


if __name__ == "__main__":
    main()
