"""Audit benchmark: a full audit (`audits.run`) over a year of records.

A year of activity for 2026 (10,000 changes, 50,000 deployments, 100,000 drifts, with their
versions, approvals, test runs, baselines, observations, a few waivers and the quarterly
reviews) is bulk-inserted with SQLAlchemy Core into a freshly migrated database, with a low
single-digit per cent of planted violations. Then, in a freshly spawned process so its peak RSS
is the audit's own: the first `audits.run(ctx, "2026")`, a re-run (must raise nothing and give
the same digest) and `audits.preview` (must give the same digest). Run from the repository
root, e.g.

    .venv/bin/python bench/audit_bench.py --db both --json
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import multiprocessing
import os
import pstats
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text

import common  # type: ignore[import-not-found]  # bench/ is on sys.path when run as a script
from audit_seed import AUDIT_AT, AUDITOR, IVY, PEOPLE, START, populate  # type: ignore[import-not-found]
from changegate.bootstrap import build, init
from changegate.config import Settings
from changegate.services import audits, users
from changegate.services.views.audits import AuditOut
from common import SETTLE, check, log, rss_mb  # type: ignore[import-not-found]

SCRATCH_DB = "changegate_auditbench"


def settle(engine: Engine) -> None:
    # A year-old database has statistics, and the load's own checkpoint must not land in a
    # measured step.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for statement in SETTLE[engine.dialect.name]:
            conn.execute(text(statement))


def seed_child(url: str, args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    app = init(Settings(database_url=url, policy_path=common.POLICY))
    app.run(
        lambda ctx: [users.add_user(ctx, e, e.split("@")[0], r) for e, r in PEOPLE.items()],
        actor="local-admin",
        at=START - timedelta(days=60),
    )
    out = populate(app, args)
    settle(app.engine)
    app.engine.dispose()
    seconds = time.perf_counter() - started
    log(f"  seeded in {seconds:.1f} s: {out['rows']}")
    log(f"  planted: {out['planted']}")
    return out | {"seconds": round(seconds, 1), "peak_rss_mb": round(rss_mb())}


# --- the measured part -----------------------------------------------------------------------


class Meter:
    """Wall time, SQL statements and cumulative peak RSS of each step."""

    def __init__(self, engine: Engine) -> None:
        self.steps: dict[str, dict[str, Any]] = {}
        self.queries = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args: Any) -> None:
        self.queries += 1

    def step(self, name: str, fn: Callable[[], Any], profile: Path | None = None) -> Any:
        # CPU time and the load average tell a slow run from a busy machine (2 shared vCPUs).
        load, before = os.getloadavg()[0], self.queries
        started, cpu = time.perf_counter(), time.process_time()
        prof = cProfile.Profile() if profile else None
        result = prof.runcall(fn) if prof else fn()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        self.steps[name] = {
            "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu, 2),
            "sql": self.queries - before,
            "peak_rss_mb": round(rss_mb()),
            "load_1m": [round(load, 1), round(os.getloadavg()[0], 1)],
        } | result
        log(
            f"  {name}: {seconds:.2f} s (CPU {cpu:.2f} s), {self.queries - before:,} SQL, "
            f"peak RSS {rss_mb():,.0f} MB, load {load:.1f}, {result}"
        )
        if prof and profile:
            out = io.StringIO()
            for key in ("cumulative", "tottime"):
                pstats.Stats(prof, stream=out).sort_stats(key).print_stats(35)
            profile.write_text(out.getvalue())
            log(f"  profile written to {profile}")
        return result


def ran(outcome: audits.Outcome) -> dict[str, Any]:
    # Read inside the transaction: what the run stored, not what a later query would see.
    statuses = Counter(f.status for f in outcome.findings)
    return {
        "digest": outcome.run.digest,
        "raised": len(outcome.raised),
        "findings": len(outcome.findings),
        "by_status": dict(sorted(statuses.items())),
        "by_control": outcome.run.counts["by_control"],
    }


def previewed(out: AuditOut) -> dict[str, Any]:
    return {
        "digest": out.run.digest,
        "findings": len(out.findings),
        "by_control": out.run.counts.by_control,
    }


def audit_child(url: str, args: argparse.Namespace) -> dict[str, Any]:
    app = build(Settings(database_url=url, policy_path=common.POLICY))
    with app.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    baseline, meter = rss_mb(), Meter(app.engine)
    first = meter.step(
        "audit_first",
        lambda: app.run(lambda ctx: ran(audits.run(ctx, args.period)), actor=IVY, at=AUDIT_AT),
        args.profile,
    )
    again = meter.step(
        "audit_rerun",
        lambda: app.run(
            lambda ctx: ran(audits.run(ctx, args.period)),
            actor=IVY,
            at=AUDIT_AT + timedelta(days=1),
        ),
    )
    check(first["raised"] > 0, "the first run raised nothing: the planted violations are gone")
    check(again["raised"] == 0, f"the re-run raised {again['raised']} findings")
    check(again["digest"] == first["digest"], "the re-run's digest differs from the first's")
    # As `changegate audit run --dry-run` does it: a read-only session, the clock set.
    reader = replace(
        app, settings=replace(app.settings, clock_override=AUDIT_AT + timedelta(days=2))
    )
    view = meter.step(
        "preview",
        lambda: reader.read(
            lambda ctx: previewed(audits.preview(ctx.acting_as(AUDITOR), args.period))
        ),
    )
    check(
        (view["digest"], view["findings"]) == (first["digest"], first["findings"]),
        "preview's findings differ from the run's",
    )
    with app.engine.connect() as conn:
        version = conn.execute(
            text("SELECT sqlite_version()" if url.startswith("sqlite") else "SHOW server_version")
        ).scalar_one()
    app.engine.dispose()
    return {"version": version, "rss_baseline_mb": round(baseline), "steps": meter.steps}


def in_child(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def bench(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    log(
        f"{kind}: {args.changes:,} changes, {args.deployments:,} deployments, "
        f"{args.drifts:,} drifts"
    )
    with common.database(kind, SCRATCH_DB) as url:
        seeded = in_child(seed_child, url, args)
        measured = in_child(audit_child, url, args)
    return {"db": kind, "seed": seeded} | measured


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| step | " + " | ".join(r["db"] for r in results) + " |",
        "|---|" + "---:|" * len(results),
    ]
    lines.append("| seed, s | " + " | ".join(str(r["seed"]["seconds"]) for r in results) + " |")
    for step in ("audit_first", "audit_rerun", "preview"):
        for what in ("seconds", "cpu_seconds", "sql", "peak_rss_mb", "findings"):
            cells = [str(r["steps"][step][what]) for r in results]
            lines.append(f"| {step} {what} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--deployments", type=int, default=50_000)
    parser.add_argument("--drifts", type=int, default=100_000)
    parser.add_argument("--resources", type=int, default=5_000, help="baseline resources")
    parser.add_argument("--period", default="2026")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the data")
    parser.add_argument("--chunk", type=int, default=5_000, help="rows per executemany")
    parser.add_argument("--profile", type=Path, help="cProfile the first run, stats to FILE")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args()
    results, base = [], args.profile
    for kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        args.profile = base.with_suffix(f".{kind}.txt") if base else None
        results.append(bench(kind, args))
    print(json.dumps(results, indent=2) if args.json else table(results))


if __name__ == "__main__":
    main()
