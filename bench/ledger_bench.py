"""Ledger benchmark: append rate, verify speed and memory, tamper detection.

Every record is written through the real `changegate.ledger.append` in the services'
transaction shape (one session, one transaction). Verify runs in a fresh child process so
its peak RSS is its own. Run from the repository root, e.g.

    .venv/bin/python bench/ledger_bench.py --db both --records 1000000 --json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

import common  # type: ignore[import-not-found]  # bench/ is on sys.path when run as a script
from changegate import ledger
from changegate.db import schema
from changegate.db.engine import build_engine, session_factory
from common import check, log  # type: ignore[import-not-found]

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCRATCH_DB = "changegate_bench"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ACTIONS = ("change.submitted", "change.approved", "change.implemented", "change.closed")
ROLES = ("cab", "peer", "security", "owner")
ACTORS = ("alice@example.com", "bob.ops@example.com", "carol.sre@example.com")


def entry(i: int) -> ledger.Entry:
    """A realistic record: ~200 bytes of canonical JSON payload, subjects like CHG-123."""
    payload = {
        "version": 1 + i % 3,
        "hash": hashlib.sha256(i.to_bytes(8, "big")).hexdigest(),
        "role": ROLES[i % 4],
        "comment": f"Reviewed rollback plan and maintenance window for batch {i}; "
        "monitoring dashboards linked in the ticket.",
    }
    return ledger.Entry(
        at=START + timedelta(seconds=i),
        actor=ACTORS[i % 3],
        action=ACTIONS[i % 4],
        subject=f"CHG-{1 + i // 4}",
        payload=payload,
    )


def rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def append_one(sessions: sessionmaker[Session], i: int) -> float:
    """One record in its own transaction, exactly as `App.transaction` runs a use case."""
    item = entry(i)
    started = time.perf_counter()
    with sessions() as session, session.begin():
        ledger.append(session, item)
    return time.perf_counter() - started


def append_batch(sessions: sessionmaker[Session], first: int, size: int) -> float:
    items = [entry(i) for i in range(first, first + size)]
    started = time.perf_counter()
    with sessions() as session, session.begin():
        for item in items:
            ledger.append(session, item)
    return time.perf_counter() - started


def bulk_fill(sessions: sessionmaker[Session], count: int, batch: int) -> dict[str, Any]:
    elapsed, done = 0.0, 0
    while done < count:
        size = min(batch, count - done)
        elapsed += append_batch(sessions, done, size)
        done += size
        if done % 100_000 < batch or done == count:
            log(f"  bulk fill {done:,}/{count:,} ({done / elapsed:,.0f} records/s)")
    # Fewer records than the single-append sample leave nothing to bulk-fill.
    per_s = count / elapsed if elapsed else 0.0
    return {"records": count, "batch": batch, "seconds": elapsed, "per_s": per_s}


def single_appends(sessions: sessionmaker[Session], first: int, count: int) -> dict[str, Any]:
    latencies = [append_one(sessions, i) for i in range(first, first + count)]
    cuts = statistics.quantiles(latencies, n=100)
    total = sum(latencies)
    log(f"  {count:,} single appends: {count / total:,.0f} records/s")
    return {
        "records": count,
        "seconds": total,
        "per_s": count / total,
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
    }


def hash_rate(count: int = 200_000) -> float:
    """Pure-Python `record_hash` rate over rows like the ones verify reads: its upper bound."""
    rows = []
    for i in range(count):
        e = entry(i)
        rows.append((e.at, e.actor, e.action, e.subject, ledger.canonical(dict(e.payload))))
    elapsed, _ = timed(lambda: [ledger.record_hash(*r, False, ledger.GENESIS) for r in rows])
    return count / elapsed


def verify_child(url: str) -> dict[str, Any]:
    """Runs in a spawned process: a clean RSS baseline, then one full `ledger.verify`.

    Uses the read-only session `changegate ledger verify` uses (BEGIN DEFERRED on SQLite).
    """
    engine = build_engine(url)
    with session_factory(engine, read_only=True)() as session:
        session.execute(text("SELECT 1"))
        baseline = rss_mb()
        elapsed, report = timed(lambda: ledger.verify(session))
    engine.dispose()
    problem = report.problem
    return {
        "seconds": elapsed,
        "count": report.count,
        "head_seq": report.head_seq,
        "ok": report.ok,
        "kind": problem.kind if problem else None,
        "seq": problem.seq if problem else None,
        "rss_baseline_mb": baseline,
        "rss_peak_mb": rss_mb(),
    }


def run_verify(url: str) -> dict[str, Any]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(verify_child, (url,))


def tamper(sessions: sessionmaker[Session], seq: int) -> None:
    """Edit one payload in place, as someone with database access might."""
    with sessions() as session, session.begin():
        payload = session.execute(
            text("SELECT payload FROM ledger WHERE seq = :s"), {"s": seq}
        ).scalar_one()
        edited = json.dumps(
            {**json.loads(payload), "comment": "nothing to see here"},
            sort_keys=True,
            separators=(",", ":"),
        )
        session.execute(
            text("UPDATE ledger SET payload = :p WHERE seq = :s"), {"p": edited, "s": seq}
        )


def verify_phases(url: str, sessions: sessionmaker[Session], records: int) -> dict[str, Any]:
    log("  verify (intact chain)")
    clean = run_verify(url)
    check(clean["ok"], f"verify on the intact chain reported {clean['kind']} at {clean['seq']}")
    check(clean["count"] == records == clean["head_seq"], f"verify counted {clean['count']}")
    middle = records // 2
    tamper(sessions, middle)
    log(f"  verify (payload of seq {middle:,} edited)")
    bad = run_verify(url)
    check(
        (bad["ok"], bad["kind"], bad["seq"]) == (False, "edited", middle),
        f"tampering seq {middle} gave ok={bad['ok']} kind={bad['kind']} seq={bad['seq']}",
    )
    return {"clean": clean, "tampered": bad, "tampered_seq": middle}


def measure(url: str, engine: Engine, args: argparse.Namespace) -> dict[str, Any]:
    schema.upgrade(engine)
    sessions = session_factory(engine)
    sample = min(args.sample, args.records)
    log(f"  bulk fill through ledger.append, {args.batch:,} per transaction")
    bulk = bulk_fill(sessions, args.records - sample, args.batch)
    log(f"  single appends, one per transaction, on a {args.records - sample:,}-record ledger")
    single = single_appends(sessions, args.records - sample, sample)
    return {
        "records": args.records,
        "bulk": bulk,
        "single": single,
        "verify": verify_phases(url, sessions, args.records),
    }


@contextmanager
def sqlite_db(path: str | None) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="changegate-bench-") as tmp:
        target = Path(path or Path(tmp) / "ledger.db")
        check(not target.exists(), f"{target} exists; give a new --sqlite-path")
        yield f"sqlite:///{target}"


def server_version(engine: Engine) -> str:
    query = "SELECT sqlite_version()" if engine.dialect.name == "sqlite" else "SHOW server_version"
    with engine.connect() as conn:
        return str(conn.execute(text(query)).scalar_one())


def bench_one(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    target = (
        sqlite_db(args.sqlite_path)
        if kind == "sqlite"
        else common.postgres_db(SCRATCH_DB, args.pg_url)
    )
    with target as url:
        engine = build_engine(url)
        log(f"{kind}: {args.records:,} records")
        try:
            result = measure(url, engine, args)
            result["version"] = server_version(engine)
        finally:
            engine.dispose()
    return result


def fmt(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def table(results: dict[str, dict[str, Any]], hashes_per_s: float) -> str:
    names = list(results)
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("Records in the chain", lambda r: fmt(r["records"])),
        ("`append`, 1 per transaction: records/s", lambda r: fmt(r["single"]["per_s"])),
        (
            "`append`, 1 per transaction: p50 / p99 ms",
            lambda r: f"{fmt(r['single']['p50_ms'], 2)} / {fmt(r['single']['p99_ms'], 2)}",
        ),
        ("`append`, 1 per transaction: sample size", lambda r: fmt(r["single"]["records"])),
        (
            "`append`, bulk fill: records/s",
            lambda r: f"{fmt(r['bulk']['per_s'])} ({fmt(r['bulk']['batch'])}/txn)",
        ),
        ("`verify`, intact chain: seconds", lambda r: fmt(r["verify"]["clean"]["seconds"], 1)),
        (
            "`verify`, intact chain: records/s",
            lambda r: fmt(r["verify"]["clean"]["count"] / r["verify"]["clean"]["seconds"]),
        ),
        (
            "`verify` process RSS: baseline -> peak MB",
            lambda r: (
                f"{fmt(r['verify']['clean']['rss_baseline_mb'])} -> "
                f"{fmt(r['verify']['clean']['rss_peak_mb'])}"
            ),
        ),
        (
            "`verify` after editing one payload",
            lambda r: (
                f"`{r['verify']['tampered']['kind']}` at seq "
                f"{fmt(r['verify']['tampered']['seq'])} "
                f"({fmt(r['verify']['tampered']['seconds'], 1)} s)"
            ),
        ),
    ]
    lines = [f"| Metric | {' | '.join(names)} |", "|---|" + "---:|" * len(names)]
    lines += [f"| {label} | {' | '.join(get(results[n]) for n in names)} |" for label, get in rows]
    lines.append(
        f"| `record_hash` alone (no database): records/s | "
        f"{' | '.join(fmt(hashes_per_s) for _ in names)} |"
    )
    return "\n".join(lines)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument(
        "--sample",
        type=int,
        default=20_000,
        help="single-transaction appends, the last records of the chain",
    )
    parser.add_argument("--batch", type=int, default=1_000, help="appends per bulk transaction")
    parser.add_argument(
        "--pg-url",
        default=PG_URL,
        help=f"server to use; the benchmark creates and drops {SCRATCH_DB}",
    )
    parser.add_argument("--sqlite-path", help="a new file (default: a temporary one)")
    parser.add_argument("--json", action="store_true", help="also write bench/results/*.json")
    args = parser.parse_args(argv)
    if args.records < 2 or args.sample < 2:
        parser.error("--records and --sample must be at least 2")
    return args


def write_json(results: dict[str, Any]) -> Path:
    out = Path(__file__).parent / "results" / f"ledger-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    return out


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = {kind: bench_one(kind, args) for kind in kinds}
    hashes = hash_rate()
    print(table(results, hashes))
    meta = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "record_hash_per_s": hashes,
        "args": vars(args),
    }
    if args.json:
        log(f"wrote {write_json({'meta': meta, 'results': results})}")


if __name__ == "__main__":
    main()
