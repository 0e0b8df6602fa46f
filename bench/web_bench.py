"""Web app benchmark: p95 render time of every page over HTTP, beside the trivial endpoint.

The gate benchmark's data set (`gate_bench.populate`: 100,000 changes with their versions,
approvals, test runs and gate decisions, and a valid ledger of 1,000,000 records) is
bulk-loaded into a scratch database and the ISO signs in (a web session, made by the
service). The server is `changegate serve`'s uvicorn in a spawned process; one keep-alive
client requests each page `--requests` times after `--warmup`, interleaved call by call with
`GET /api/v1/health` (the floor). About 4 minutes at the full size. Run from the repository
root, e.g.

    .venv/bin/python bench/web_bench.py                    # PostgreSQL, the full size
    .venv/bin/python bench/web_bench.py --sqlite --changes 10000 --ledger 100000
    .venv/bin/python bench/web_bench.py --data year   # the dashboard benchmark's busy year
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, text

import common  # type: ignore[import-not-found]  # bench/ is on sys.path when run as a script
import gate_bench  # type: ignore[import-not-found]
from audit_seed import AUDIT_AT, IVY, PEOPLE, START, populate  # type: ignore[import-not-found]
from changegate.bootstrap import App, build
from changegate.config import Settings
from changegate.db import schema
from changegate.db.engine import build_engine
from changegate.domain.identity import SignInMethod
from changegate.services import audits, users, web_sessions
from changegate.web.cookies import SESSION
from common import check, log  # type: ignore[import-not-found]

SCRATCH_DB = "changegate_webbench"
TABLES = ("changes", "ledger", "approvals", "test_runs", "deployments", "drifts", "findings")
GOAL_MS = 200.0
DATA_HELP = (
    "gate: the gate benchmark's changes and ledger (the issue's size); year: the audit "
    "benchmark's busy 2026 (deployments, drift, waivers, findings), as the dashboard's"
)


def pages(n_changes: int, year: int, person: str) -> dict[str, str]:
    """Every page, on the data the fill makes (the gate's: changes every 5 minutes from
    2025-01-06; the audit's: a busy 2026). Neither holds a CAB meeting, so a meeting's page
    (`/cab/{id}`) is not measured."""
    middle = max(1, n_changes // 2)
    return {
        "home (inbox)": "/",
        f"dashboard {year}-Q2": f"/dashboard?quarter={year}-Q2",
        "changes": "/changes",
        "changes, searched and filtered": "/changes?q=release&status=closed&risk=low",
        "changes, by service": "/changes?service=payments",
        "changes, last page": f"/changes?offset={max(0, n_changes - 50)}",
        f"change CHG-{middle}": f"/changes/CHG-{middle}",
        "calendar": f"/calendar?from={year}-06-01&to={year}-07-12",
        "drift": "/drift",
        "waivers": "/waivers",
        "findings": "/findings",
        "reviews": "/reviews",
        f"review preview {year}-Q2": f"/reviews/quarterly/{year}-Q2",
        "cab": "/cab",
        "people": "/people",
        "person": f"/people/{person}",
        "ledger": "/ledger",
    }


def fill_gate(app: App, engine: Engine, args: argparse.Namespace) -> tuple[str, int]:
    """The gate benchmark's data; (the ISO's email, the year the changes are in)."""
    gate_bench.seed(app)
    log(f"  bulk fill: {args.changes:,} changes, ledger to {args.ledger:,} records")
    filled = gate_bench.populate(engine, args.changes, args.ledger)
    log(f"  filled in {filled['seconds']:.0f} s")
    return gate_bench.ISO, 2025


def fill_year(app: App, engine: Engine, args: argparse.Namespace) -> tuple[str, int]:
    """The audit benchmark's busy 2026 (deployments, drift, waivers, reviews; no ledger), and
    the findings of its audit."""
    app.run(
        lambda ctx: [users.add_user(ctx, e, e.split("@")[0], r) for e, r in PEOPLE.items()],
        actor="local-admin",
        at=START - timedelta(days=60),
    )
    log(f"  bulk fill: {args.changes:,} changes, {args.deployments:,} deployments")
    started = time.perf_counter()
    populate(app, args)
    found = app.run(lambda ctx: len(audits.run(ctx, "2026").findings), actor=IVY, at=AUDIT_AT)
    log(f"  filled and audited ({found:,} findings) in {time.perf_counter() - started:.0f} s")
    return IVY, 2026


def stats(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))], 2)

    return {"n": len(ordered), "p50": at(0.50), "p95": at(0.95), "max": round(ordered[-1], 2)}


def timed(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    answer = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    check(answer.status_code == 200, f"GET {path}: {answer.status_code} {answer.text[:300]}")
    return elapsed


def measure(base: str, cookie: str, paths: dict[str, str], args: argparse.Namespace) -> Any:
    out: dict[str, Any] = {}
    headers = {"Cookie": f"{SESSION}={cookie}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        for name, path in paths.items():
            page, health = [], []
            for i in range(args.warmup + args.requests):
                # Alternate the order each round so the page and its floor share conditions.
                first, second = (path, "/api/v1/health") if i % 2 else ("/api/v1/health", path)
                a, b = timed(client, first), timed(client, second)
                if i >= args.warmup:
                    page.append(a if first == path else b)
                    health.append(b if first == path else a)
            out[name] = {"path": path, "page": stats(page), "health": stats(health)}
            log(
                f"  {name}: p95 {out[name]['page']['p95']} ms (health {out[name]['health']['p95']})"
            )
    return out


def bench_db(url: str, args: argparse.Namespace) -> dict[str, Any]:
    engine = build_engine(url)
    schema.upgrade(engine)
    app = build(Settings(database_url=url, policy_path=common.POLICY))
    iso, year = (fill_year if args.data == "year" else fill_gate)(app, engine, args)
    version = gate_bench.analyse(engine)
    cookie, _ = app.run(
        lambda ctx: web_sessions.start(ctx, iso, SignInMethod.DEMO),
        actor=iso,
    )
    with engine.connect() as conn:
        rows = {
            t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in TABLES
        }
    log(f"  rows: {rows}")
    with gate_bench.server(url) as base:
        results = measure(base, cookie, pages(args.changes, year, iso), args)
    app.engine.dispose()
    engine.dispose()
    return {"version": version, "data": args.data, "rows": rows, "pages": results}


def table(db: str, r: dict[str, Any]) -> str:
    lines = [
        f"{db} {r['version']}, data {r['data']}: "
        + ", ".join(f"{n:,} {t}" for t, n in r["rows"].items()),
        "",
        "| page | p50 ms | p95 ms | max ms | health p95 ms (floor) | under 200 ms p95 |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, s in r["pages"].items():
        p, h = s["page"], s["health"]
        met = "yes" if p["p95"] < GOAL_MS else "**no**"
        figures = f"{p['p50']:.1f} | {p['p95']:.1f} | {p['max']:.1f} | {h['p95']:.1f}"
        lines.append(f"| {name} | {figures} | {met} |")
    return "\n".join(lines)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pg-url", default=common.PG_URL, help=f"creates and drops {SCRATCH_DB}")
    p.add_argument("--data", choices=("gate", "year"), default="gate", help=DATA_HELP)
    p.add_argument("--changes", type=int, default=100_000)
    p.add_argument("--ledger", type=int, default=1_000_000, help="(gate) ledger records")
    p.add_argument("--deployments", type=int, default=200_000, help="(year)")
    p.add_argument("--drifts", type=int, default=100_000, help="(year)")
    p.add_argument("--resources", type=int, default=5_000, help="(year) baseline resources")
    p.add_argument("--seed", type=int, default=2026, help="(year) random seed of the data")
    p.add_argument("--chunk", type=int, default=5_000, help="(year) rows per executemany")
    p.add_argument("--requests", type=int, default=100, help="measured requests per page")
    p.add_argument("--warmup", type=int, default=10, help="unmeasured requests per page")
    p.add_argument("--sqlite", action="store_true", help="on a temporary SQLite file instead")
    p.add_argument("--keep", action="store_true", help=f"do not drop {SCRATCH_DB} at the end")
    p.add_argument("--json", action="store_true", help="also write bench/results/*.json")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    kind = "sqlite" if args.sqlite else "postgresql"
    meta = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "loadavg_start": os.getloadavg(),
        "args": vars(args),
    }
    with common.database(kind, SCRATCH_DB, args.pg_url, args.keep) as url:
        log(f"{kind}: {url}")
        result = bench_db(url, args)
    meta["loadavg_end"] = os.getloadavg()
    print(table(kind, result), flush=True)
    if args.json:
        out = Path(__file__).parent / "results" / f"web-{time.strftime('%Y%m%d-%H%M%S')}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps({"meta": meta, "result": result}, indent=2) + "\n")
        log(f"wrote {out}")


if __name__ == "__main__":
    main()
