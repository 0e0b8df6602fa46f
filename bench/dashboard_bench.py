"""Dashboard benchmark: the CM-6 dashboard of each quarter of a busy year, beside its floor.

The audit benchmark's year of records (`audit_seed.populate`: changes, versions, approvals,
test runs, deployments, baselines, drifts, waivers, reviews; bulk-inserted with Core) is
loaded into a fresh database; then `dashboard(ctx, quarter)` (the metrics the quarterly
review signs, tiles and weekly series) is timed `--repeat` times for each quarter of 2026,
beside the floor: one `count(*)` of the quarter's production deployments. Run from the
repository root, e.g.

    .venv/bin/python bench/dashboard_bench.py --db both --changes 100000 --deployments 200000
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text

import common  # type: ignore[import-not-found]  # bench/ is on sys.path when run as a script
from audit_seed import AUDIT_AT, PEOPLE, START, populate  # type: ignore[import-not-found]
from changegate.bootstrap import build, init
from changegate.config import Settings
from changegate.db.models import Deployment
from changegate.domain.periods import quarter_bounds
from changegate.services import users
from changegate.services.context import Context
from changegate.services.views.dashboard import dashboard
from common import SETTLE, check, log  # type: ignore[import-not-found]

SCRATCH_DB = "changegate_dashboardbench"
QUARTERS = ("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4")


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times), result


def summary(ms: list[float]) -> dict[str, float]:
    p95 = ms[min(len(ms) - 1, round(0.95 * len(ms)) - 1)]
    return {"p50_ms": round(statistics.median(ms), 1), "p95_ms": round(p95, 1)}


def floor(ctx: Context, quarter: str) -> int:
    start, end = quarter_bounds(quarter)
    stmt = select(func.count()).where(Deployment.started_at >= start, Deployment.started_at < end)
    return int(ctx.session.execute(stmt).scalar_one())


def bench(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    log(f"{kind}: {args.changes:,} changes, {args.deployments:,} deployments")
    with common.database(kind, SCRATCH_DB) as url:
        started = time.perf_counter()
        app = init(Settings(database_url=url, policy_path=common.POLICY))
        app.run(
            lambda ctx: [users.add_user(ctx, e, e.split("@")[0], r) for e, r in PEOPLE.items()],
            actor="local-admin",
            at=START - timedelta(days=60),
        )
        rows = populate(app, args)["rows"]
        with app.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for statement in SETTLE[app.engine.dialect.name]:
                conn.execute(text(statement))
        log(f"  seeded in {time.perf_counter() - started:.1f} s: {rows}")
        app.engine.dispose()
        app = build(Settings(database_url=url, policy_path=common.POLICY))
        out: dict[str, Any] = {"db": kind, "rows": rows, "quarters": {}}
        for quarter in QUARTERS:
            ms, board = timed(
                lambda q=quarter: app.run(lambda ctx: dashboard(ctx, q), at=AUDIT_AT), args.repeat
            )
            base, counted = timed(
                lambda q=quarter: app.run(lambda ctx: floor(ctx, q), at=AUDIT_AT), args.repeat
            )
            check(board.metrics.dora.deployments <= counted, "more deployments than started")
            out["quarters"][quarter] = {
                "dashboard": summary(ms),
                "floor": summary(base),
                "deployments": counted,
                "dora": dataclasses.asdict(board.metrics.dora),
            }
            log(f"  {quarter}: dashboard {summary(ms)}, floor {summary(base)}")
        app.engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--changes", type=int, default=100_000)
    parser.add_argument("--deployments", type=int, default=200_000)
    parser.add_argument("--drifts", type=int, default=100_000)
    parser.add_argument("--resources", type=int, default=5_000, help="baseline resources")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the data")
    parser.add_argument("--chunk", type=int, default=5_000, help="rows per executemany")
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per quarter")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args()
    results = [
        bench(kind, args)
        for kind in (("sqlite", "postgresql") if args.db == "both" else (args.db,))
    ]
    print(json.dumps(results, indent=2) if args.json else table(results))


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| db | quarter | deployments | dashboard p50 / p95, ms | floor p50 / p95, ms |",
        "|---|---|---:|---:|---:|",
    ]
    for r in results:
        for quarter, q in r["quarters"].items():
            board, base = q["dashboard"], q["floor"]
            lines.append(
                f"| {r['db']} | {quarter} | {q['deployments']:,} | "
                f"{board['p50_ms']} / {board['p95_ms']} | {base['p50_ms']} / {base['p95_ms']} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
