"""Deployment-gate latency, in-process and over HTTP, beside a trivial endpoint in the same run.

The schema comes from the real migrations. The background population (changes, versions,
approvals, test runs, gate decisions and a valid hash chain) is bulk-inserted with SQLAlchemy
core; the changes the gate is asked about are made through the real services, so every measured
decision is a real `allowed`. Run from the repository root, e.g.

    .venv/bin/python bench/gate_bench.py --json
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import itertools
import json
import multiprocessing
import os
import platform
import random
import socket
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Connection, Engine, event, select, text, update

import common  # type: ignore[import-not-found]  # bench/ is on sys.path when run as a script
from changegate import ledger
from changegate.bootstrap import App, build, read_report
from changegate.config import Settings
from changegate.db import models as m
from changegate.db import schema
from changegate.db.engine import build_engine
from changegate.domain import changes as rules
from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.changes import ChangeFields, Risk
from changegate.services import approvals, changes, gate, testruns, tokens, users
from common import SETTLE, check, log  # type: ignore[import-not-found]

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCRATCH_DB = "changegate_gatebench"
START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
PIPELINE, ISO = "ci@example.com", "iso@example.com"
DEVS = [f"dev{i}@example.com" for i in range(20)]
CABS = [f"cab{i}@example.com" for i in range(4)]
PEOPLE = {
    PIPELINE: ["pipeline"],
    ISO: ["iso"],
    **{d: ["requester"] for d in DEVS},
    **{c: ["cab"] for c in CABS},
}
STATUSES = (
    ("closed",) * 70
    + ("approved",) * 8
    + ("implemented",) * 5
    + ("submitted",) * 6
    + ("draft",) * 5
    + ("cancelled",) * 3
    + ("rejected",) * 3
)
PATH = ("draft", "submitted", "approved", "implemented", "closed")
SERVICES = ("orders", "payments", "search", "auth", "billing", "gateway", "catalog", "notify")
TABLES = ("changes", "change_versions", "approvals", "test_runs", "gate_decisions")
JUNIT = (
    b'<?xml version="1.0"?><testsuite name="regression" tests="2" failures="0" time="1.5">'
    b'<testcase classname="checkout" name="test_pay" time="1.0"/>'
    b'<testcase classname="checkout" name="test_refund" time="0.5"/></testsuite>'
)
TARGETS, CHUNK = 20, 5_000


def fields(i: int, rng: random.Random) -> ChangeFields:
    svc = rng.choice(SERVICES)
    return ChangeFields(
        title=f"{rng.choice(('Upgrade', 'Patch', 'Reconfigure', 'Scale'))} {svc} (batch {i})",
        scope=f"{svc} service: primary, replicas and workers",
        impact=f"{rng.randint(0, 60)} s of retries on {svc}; no data loss expected",
        rollback_plan=f"redeploy the previous {svc} release and restore its config",
        risk=rng.choice((Risk.LOW, Risk.LOW, Risk.MEDIUM, Risk.HIGH)),
        affected_services=(svc,),
        environments=("staging", "production"),
        ticket=f"ENG-{10_000 + i}",
        commit_authors=(f"author{i % 50}@example.com",),
    )


class Fill:
    """Rows for one chunk of changes, and the ledger events they imply, in time order."""

    def __init__(self, ids: dict[str, int], rng: random.Random) -> None:
        self.ids, self.rng = ids, rng
        self.next_id = {t: itertools.count(1) for t in TABLES}
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.events: list[tuple[datetime, str, str, str, dict[str, Any]]] = []

    def add(self, table: str, **row: Any) -> int:
        row["id"] = row.get("id") or next(self.next_id[table])
        self.rows[table].append(row)
        return int(row["id"])

    def change(self, i: int) -> None:
        f, status = fields(i, self.rng), self.rng.choice(STATUSES)
        reached = PATH[: PATH.index(status) + 1] if status in PATH else (*PATH[:2], status)
        at = [START + timedelta(seconds=300 * i + 20 * k) for k in range(8)]
        who, key, vh, data = self.rng.choice(DEVS), f"CHG-{i}", rules.version_hash(f), f.as_json()
        stamps = {s: at[n] for n, s in enumerate(reached)}
        self.add(
            "changes",
            id=i,
            number=i,
            key=key,
            requester_id=self.ids[who],
            status=status,
            version=1,
            version_hash=vh,
            lock_version=len(reached),
            created_at=at[0],
            updated_at=at[-1],
            submitted_at=stamps.get("submitted"),
            approved_at=stamps.get("approved"),
            implemented_at=stamps.get("implemented"),
            closed_at=stamps.get("closed"),
            approved_before_implementation=True if "implemented" in stamps else None,
            **{k: list(v) if isinstance(v, tuple) else v for k, v in data.items() if k != "window"},
            window_start=None,
            window_end=None,
        )
        self.add(
            "change_versions",
            change_id=i,
            version=1,
            hash=vh,
            fields=data,
            created_at=at[0],
            created_by_id=self.ids[who],
        )
        self.event(at[0], who, "change.created", key, {"version": 1, "hash": vh, "fields": data})
        for n, step in enumerate(reached[1:], start=1):
            self.step(i, key, vh, step, at[n], who, f.risk)

    def step(
        self, i: int, key: str, vh: str, step: str, at: datetime, who: str, risk: Risk
    ) -> None:
        if step in ("approved", "rejected"):
            self.decide(i, key, vh, at, step, 2 if risk is Risk.HIGH else 1)
        if step in ("approved", "implemented"):
            self.pipeline(i, key, at, step)
        self.event(
            at,
            who if step != "implemented" else PIPELINE,
            f"change.{step}",
            key,
            {"version": 1, "hash": vh},
        )

    def decide(self, i: int, key: str, vh: str, at: datetime, outcome: str, cabs: int) -> None:
        voters = [(c, "cab") for c in self.rng.sample(CABS, cabs)] + [(ISO, "iso")]
        decision = "rejected" if outcome == "rejected" else "approved"
        for who, role in voters[:1] if outcome == "rejected" else voters:
            self.add(
                "approvals",
                change_id=i,
                version=1,
                role=role,
                decision=decision,
                approver_id=self.ids[who],
                comment="reviewed",
                decided_at=at,
                retroactive=False,
            )
            self.event(
                at,
                who,
                f"change.{decision}_by_{role}",
                key,
                {
                    "version": 1,
                    "hash": vh,
                    "role": role,
                    "decision": decision,
                    "comment": "reviewed",
                    "retroactive": False,
                },
            )

    def pipeline(self, i: int, key: str, at: datetime, step: str) -> None:
        """Approved: staging evidence is recorded. Implemented: the gate allowed it first."""
        sha = hashlib.sha1(f"bg-{i}".encode()).hexdigest()
        if step == "approved":
            run = self.add(
                "test_runs",
                change_id=i,
                environment="staging",
                isolated=True,
                commit=sha,
                artifact=None,
                tests=412,
                passed=409,
                failures=0,
                errors=0,
                skipped=3,
                flaky=0,
                duration_seconds=181.5,
                report_sha256=sha + sha[:24],
                report_format="junit",
                doc_url=None,
                ok=True,
                recorded_by_id=self.ids[PIPELINE],
                recorded_at=at,
            )
            self.event(
                at,
                PIPELINE,
                "test_run.recorded",
                key,
                {
                    "test_run_id": run,
                    "environment": "staging",
                    "isolated": True,
                    "commit": sha,
                    "ok": True,
                    "tests": 412,
                    "failures": 0,
                },
            )
            return
        reasons = [
            {"control": c, "ok": True, "message": f"{c} satisfied"}
            for c in ("CM-5", "CM-1", "state", "CM-2", "CM-4")
        ]
        decision = self.add(
            "gate_decisions",
            change_id=i,
            change_key=key,
            artifact=None,
            environment="production",
            commit=sha,
            principal=PIPELINE,
            allowed=True,
            reasons=reasons,
            obligations=[],
            source="api",
            inputs={"production": True},
            policy_digest="0" * 64,
            decided_at=at,
        )
        self.event(
            at,
            PIPELINE,
            "gate.allowed",
            key,
            {
                "decision_id": decision,
                "environment": "production",
                "commit": sha,
                "reasons": reasons,
                "source": "api",
            },
        )

    def event(self, *item: Any) -> None:
        self.events.append(item)  # (at, actor, action, subject, payload)


def write(conn: Connection, fill: Fill, head: tuple[int, str], total: int) -> tuple[int, str]:
    """Insert the chunk; chain its first events (up to `total`) after `head`, in seq order."""
    for table in TABLES:
        if fill.rows[table]:
            conn.execute(m.everything().metadata.tables[table].insert(), fill.rows[table])
    (seq, prev), rows = head, []
    for at, actor, action, subject, payload in fill.events[: max(total - seq, 0)]:
        body, seq = ledger.canonical(payload), seq + 1
        digest = ledger.record_hash(at, actor, action, subject, body, False, prev)
        rows.append(
            {
                "seq": seq,
                "at": at,
                "actor": actor,
                "action": action,
                "subject": subject,
                "payload": body,
                "clock_override": False,
                "prev_hash": prev,
                "hash": digest,
                "canon": ledger.CANON,
            }
        )
        prev = digest
    if rows:
        conn.execute(m.LedgerRecord.__table__.insert(), rows)
    fill.rows.clear()
    fill.events.clear()
    return seq, prev


def populate(engine: Engine, n_changes: int, n_ledger: int) -> dict[str, Any]:
    started, rng = time.perf_counter(), random.Random(7)
    with engine.begin() as conn:
        ids = {email: uid for email, uid in conn.execute(select(m.User.email, m.User.id))}
        head = tuple(conn.execute(select(m.LedgerHead.seq, m.LedgerHead.hash)).one())
        fill = Fill(ids, rng)
        for i in range(1, n_changes + 1):
            fill.change(i)
            if i % CHUNK == 0 or i == n_changes:
                head = write(conn, fill, head, n_ledger)
                log(f"  {i:,} changes, ledger at seq {head[0]:,}")
        while head[0] < n_ledger:  # pipelines asking about closed changes: denied
            for _ in range(min(50_000, n_ledger - head[0])):
                fill.event(
                    START + timedelta(days=400),
                    PIPELINE,
                    "gate.denied",
                    f"CHG-{rng.randint(1, n_changes)}",
                    {"reasons": ["state"]},
                )
            head = write(conn, fill, head, n_ledger)
        conn.execute(
            update(m.LedgerHead).where(m.LedgerHead.id == 1).values(seq=head[0], hash=head[1])
        )
        conn.execute(update(m.Counter).where(m.Counter.name == "change").values(value=n_changes))
        if conn.dialect.name == "postgresql":
            for t in TABLES:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "
                        f"(SELECT max(id) FROM {t}))"
                    )
                )
    return {"seconds": time.perf_counter() - started, "ledger_head": head[0]}


def seed(app: App) -> str:
    def people(ctx: Any) -> str:
        for email, roles in PEOPLE.items():
            users.add_user(ctx, email, email.split("@")[0], roles)
        return tokens.create_token(ctx, PIPELINE, "bench", 30)[1]

    return app.run(people, actor="local-admin")


def target(app: App, n: int) -> tuple[str, str]:
    sha, requester = hashlib.sha1(f"target-{n}".encode()).hexdigest(), DEVS[n % len(DEVS)]
    f = ChangeFields(
        title=f"Release checkout {n}",
        scope="checkout service",
        impact="rolling restart",
        rollback_plan="redeploy the previous release",
        risk=Risk.LOW,
        environments=("staging", "production"),
        ticket=f"REL-{n}",
    )
    key = app.run(lambda ctx: changes.create(ctx, f).key, actor=requester)
    app.run(lambda ctx: changes.submit(ctx, key), actor=requester)
    app.run(
        lambda ctx: approvals.decide(ctx, key, ApprovalRole.CAB, Decision.APPROVED, 1),
        actor=CABS[0],
    )
    app.run(
        lambda ctx: approvals.decide(ctx, key, ApprovalRole.ISO, Decision.APPROVED, 1), actor=ISO
    )
    report = read_report(JUNIT, "report.xml")
    app.run(lambda ctx: testruns.record(ctx, key, "staging", sha, report), actor=PIPELINE)
    return key, sha


Call = tuple[Callable[[int], Any], Callable[[Any], bool]]


def interleave(calls: dict[str, Call], n: int, warmup: int) -> dict[str, list[float]]:
    """Alternate the series call by call (order flipped each round) so they share conditions."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for i in range(warmup + n):
        for name in list(calls)[:: 1 if i % 2 == 0 else -1]:
            fn, ok = calls[name]
            started = time.perf_counter()
            result = fn(i)
            elapsed = time.perf_counter() - started
            check(ok(result), f"{name} call {i} failed: {str(result)[:300]}")
            if i >= warmup:
                samples[name].append(elapsed)
    return samples


def stats(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "n": len(samples),
        "p50": cuts[49] * 1e3,
        "p90": cuts[89] * 1e3,
        "p99": cuts[98] * 1e3,
        "max": max(samples) * 1e3,
    }


def in_process(
    app: App, targets: list[tuple[str, str]], args: argparse.Namespace
) -> dict[str, Any]:
    def gate_call(i: int) -> Any:
        key, sha = targets[i % len(targets)]
        return app.run(
            lambda ctx: gate.check(ctx, key, "production", sha, None, "bench"), actor=PIPELINE
        )

    def select_one(i: int) -> Any:
        return app.run(lambda ctx: ctx.session.execute(text("SELECT 1")).scalar_one())

    def durable_write(i: int) -> Any:
        # The floor under any decision: one INSERT and its COMMIT, through the same transaction
        # machinery (and, on SQLite, the same BEGIN IMMEDIATE) the gate's write uses.
        insert = text("INSERT INTO bench_floor (n) VALUES (:n)")
        return app.run(lambda ctx: ctx.session.execute(insert, {"n": i}).rowcount)

    calls: dict[str, Call] = {
        "gate": (gate_call, lambda d: d.allowed),
        "SELECT 1 transaction": (select_one, lambda r: r == 1),
        "INSERT + COMMIT": (durable_write, lambda r: r == 1),
    }
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [gate_call(i) for i in range(args.requests)])
        profiler.dump_stats(args.profile)
        log(f"  cProfile of {args.requests:,} in-process gate calls -> {args.profile}")
    out: dict[str, Any] = {
        k: stats(v) for k, v in interleave(calls, args.requests, args.warmup).items()
    }
    out["statements"] = statements(app, lambda: gate_call(0))
    return out


def statements(app: App, call: Callable[[], Any]) -> list[str]:
    """The SQL one allowed call sends, in order (first line of each statement), BEGIN and
    COMMIT included: each is a driver round trip."""
    sent: list[str] = []

    listeners: dict[str, Callable[..., None]] = {
        "before_cursor_execute": lambda *a: sent.append(" ".join(str(a[2]).split())[:160]),
        "begin": lambda *_: sent.append("BEGIN"),
        "commit": lambda *_: sent.append("COMMIT"),
    }
    for name, fn in listeners.items():
        event.listen(app.engine, name, fn)
    try:
        call()
    finally:
        for name, fn in listeners.items():
            event.remove(app.engine, name, fn)
    return sent


def serve(url: str, port: int) -> None:
    """The server process: exactly what `changegate serve` runs."""
    import uvicorn  # noqa: PLC0415

    from changegate.api.app import create_app  # noqa: PLC0415

    uvicorn.run(
        create_app(build(Settings(database_url=url, policy_path=common.POLICY))),
        host="127.0.0.1",
        port=port,
        log_level="warning",
    )


def up(base: str) -> bool:
    try:
        return httpx.get(base + "/api/v1/health").status_code == 200
    except httpx.TransportError:
        return False


@contextmanager
def server(url: str) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = multiprocessing.get_context("spawn").Process(target=serve, args=(url, port))
    proc.start()
    base, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 30
    log(f"  uvicorn pid {proc.pid} on {base}")
    try:
        while not up(base):
            check(time.monotonic() < deadline, "the server did not start")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.join(10)


def over_http(
    url: str, targets: list[tuple[str, str]], secret: str, args: argparse.Namespace
) -> dict[str, Any]:
    with (
        server(url) as base,
        httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {secret}"}) as c,
    ):

        def gate_call(i: int) -> httpx.Response:
            key, sha = targets[i % len(targets)]
            return c.post(
                "/api/v1/gate", json={"change": key, "environment": "production", "commit": sha}
            )

        calls: dict[str, Call] = {
            "gate": (gate_call, lambda r: r.status_code == 200 and r.json()["allowed"]),
            "health": (lambda i: c.get("/api/v1/health"), lambda r: r.status_code == 200),
        }
        result: dict[str, Any] = {
            k: stats(v) for k, v in interleave(calls, args.requests, args.warmup).items()
        }
        started = time.perf_counter()
        for i in range(args.requests):
            check(gate_call(i).status_code == 200, "sequential gate call failed")
        result["gate_sequential_rps"] = args.requests / (time.perf_counter() - started)
        result["concurrent"] = concurrent(base, targets, secret, args)
    return result


def concurrent(
    base: str, targets: list[tuple[str, str]], secret: str, args: argparse.Namespace
) -> dict[str, Any]:
    """`--pipelines` clients at once, each its own keep-alive connection, `--requests` calls in
    all: the throughput a deployment wave sees, and its latencies (the ledger head row lock
    serialises the writes)."""
    auth = {"Authorization": f"Bearer {secret}"}
    per = args.requests // args.pipelines

    def pipeline(n: int) -> list[float]:
        took = []
        with httpx.Client(base_url=base, timeout=60, headers=auth) as c:
            for i in range(per):
                key, sha = targets[(n * per + i) % len(targets)]
                body = {"change": key, "environment": "production", "commit": sha}
                started = time.perf_counter()
                r = c.post("/api/v1/gate", json=body)
                took.append(time.perf_counter() - started)
                check(r.status_code == 200 and r.json()["allowed"], f"concurrent call: {r.text}")
        return took

    with ThreadPoolExecutor(args.pipelines) as pool:
        started = time.perf_counter()
        samples = [t for ts in pool.map(pipeline, range(args.pipelines)) for t in ts]
        elapsed = time.perf_counter() - started
    return {"pipelines": args.pipelines, "rps": len(samples) / elapsed, **stats(samples)}


def bench_db(url: str, args: argparse.Namespace) -> dict[str, Any]:
    engine = build_engine(url)
    schema.upgrade(engine)
    app = build(Settings(database_url=url, policy_path=common.POLICY))
    secret = seed(app)
    log(f"  bulk fill: {args.changes:,} changes, ledger to {args.ledger:,} records")
    filled = populate(engine, args.changes, args.ledger)
    version = analyse(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_floor (n integer)"))
    targets = [target(app, n) for n in range(TARGETS)]
    started = time.perf_counter()
    report = app.read(lambda ctx: ledger.verify(ctx.session))
    check(report.ok, f"ledger.verify: {report.problem}")
    log(f"  verify ok: {report.count:,} records in {time.perf_counter() - started:.1f} s")
    out = {
        "fill": filled,
        "verify_s": time.perf_counter() - started,
        "ledger": report.count,
        "version": version,
        "in_process": in_process(app, targets, args),
    }
    out["http"] = over_http(url, targets, secret, args)
    app.engine.dispose()
    engine.dispose()
    return out


def analyse(engine: Engine) -> str:
    """Settle the bulk load as a database that grew over a year would be: vacuumed, analysed,
    checkpointed (else the load's checkpoint flushes during the measurement). Its version."""
    pg = engine.dialect.name == "postgresql"
    with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
        for sql in SETTLE[engine.dialect.name]:
            conn.execute(text(sql))
        return str(
            conn.execute(
                text("SHOW server_version" if pg else "SELECT sqlite_version()")
            ).scalar_one()
        )


@contextmanager
def sqlite_db() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="gatebench-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'gate.db'}"


def table(results: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| database | path | series | n | p50 ms | p90 ms | p99 ms | max ms |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for db, r in results.items():
        for path in ("in_process", "http"):
            for name, s in r[path].items():
                if isinstance(s, dict):
                    lines.append(
                        f"| {db} | {path.replace('_', '-')} | {name} | {s['n']:,} | "
                        f"{s['p50']:.2f} | {s['p90']:.2f} | {s['p99']:.2f} | "
                        f"{s['max']:.2f} |"
                    )
    for db, r in results.items():
        g, h = r["http"]["gate"], r["http"]["health"]
        w = r["in_process"]["INSERT + COMMIT"]
        floor = h["p50"] + w["p50"]
        lines.append(
            f"\n{db}: HTTP gate p50 {g['p50']:.2f} ms vs floor (health p50 + durable write p50) "
            f"{floor:.2f} ms = {g['p50'] / floor:.2f}x; p99 {g['p99']:.2f} ms; gate sequential "
            f"{r['http']['gate_sequential_rps']:,.0f} req/s; targets: p99 < 10 ms "
            f"{'MET' if g['p99'] < 10 else 'NOT MET'}, p50 <= 1.5x floor "
            f"{'MET' if g['p50'] <= 1.5 * floor else 'NOT MET'}"
        )
        cc = r["http"]["concurrent"]
        lines.append(
            f"{db}: {cc['pipelines']} concurrent pipelines: {cc['rps']:,.0f} req/s, "
            f"p50 {cc['p50']:.2f} ms, p99 {cc['p99']:.2f} ms"
        )
        lines.append(
            f"{db}: SQL statements per allowed call, in-process: "
            f"{len(r['in_process']['statements'])} (BEGIN and COMMIT included)"
        )
    return "\n".join(lines)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--pg-url",
        default=PG_URL,
        help=f"server to use; the benchmark creates and drops {SCRATCH_DB}",
    )
    p.add_argument("--changes", type=int, default=100_000)
    p.add_argument("--ledger", type=int, default=1_000_000, help="ledger records after the fill")
    p.add_argument("--requests", type=int, default=2_000, help="per measured series")
    p.add_argument("--warmup", type=int, default=200, help="unmeasured calls per series")
    p.add_argument("--pipelines", type=int, default=8, help="clients in the concurrent series")
    p.add_argument("--sqlite", action="store_true", help="also run on a temporary SQLite file")
    p.add_argument("--keep", action="store_true", help=f"do not drop {SCRATCH_DB} at the end")
    p.add_argument("--profile", help="cProfile an extra in-process series into this file")
    p.add_argument("--json", action="store_true", help="also write bench/results/*.json")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    meta = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "loadavg_start": os.getloadavg(),
        "args": vars(args),
    }
    results: dict[str, Any] = {}
    out = Path(__file__).parent / "results" / f"gate-{time.strftime('%Y%m%d-%H%M%S')}.json"
    for db in ("postgresql", "sqlite") if args.sqlite else ("postgresql",):
        target = (
            common.postgres_db(SCRATCH_DB, args.pg_url, args.keep)
            if db == "postgresql"
            else sqlite_db()
        )
        with target as url:
            log(f"{db}: {url}")
            results[db] = bench_db(url, args)
        print(table({db: results[db]}), flush=True)
        meta["loadavg_end"] = os.getloadavg()
        if args.json:
            out.parent.mkdir(exist_ok=True)
            out.write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
            log(f"wrote {out}")


if __name__ == "__main__":
    main()
