"""CloudTrail benchmark: ingest + classify + reconcile (CM-5) of 1,000,000 real-shaped events.

The audit benchmark's year (bench/audit_seed.py: 10,000 changes, 50,000 deployments) is seeded
into a freshly migrated database. Then a year of CloudTrail for an organisation is written as
gzip log files in the organisation key layout (`AWSLogs/o-ID/ACCOUNT/CloudTrail/REGION/YYYY/MM/
DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_RAND.json.gz`), in the shapes of the shared real
samples (tests/fixtures/cloudtrail): the SSM agent's heartbeats and console reads, AWS services
acting (invokedBy, AWSService), S3 data events, console sign-ins, GitHub OIDC role assumptions
and the deploy role's calls, whose session names a change (`chg-42-run-9001`) inside one of the
year's production deployments, failed writes, and a planted few console changes in production
that nothing covers. Measured, in a fresh process:

- the floor: the raw parse rate of the same files with the faster of orjson and msgspec
  (gunzip + parse, nothing else), measured before the ingests and after them, averaged;
- end to end, twice, each on a fresh copy of the seeded database: every file through `trail
  ingest`'s code path (services/trail_parse.py: read, count, classify, the kept records'
  columns; services/trail_ingest.py: store them once by eventID, 1,000 files a transaction, and
  reconcile the production changes against the deployments and emergencies), as `changegate
  trail ingest DIR --workers N` does it: once in one process (`--workers 0`), once with the
  files read by worker processes (`--workers`, default one per CPU, at most 4);
- the same files through `changegate trail reconcile --engine duckdb --files DIR` (the
  classification as SQL in DuckDB, only the production changes and attempts stored and
  reconciled), on a second copy of the seeded database.

Goal: end to end at least 50% of the raw rate, memory flat (peak RSS at 10%, 50%, 100% of the
files; the workers' largest peak). The floor runs in one process; the run with workers uses
every CPU, so the table gives CPU seconds beside wall seconds. Every uncovered change must be a
planted one and every planted one uncovered. Run from the repository root, e.g.

    .venv/bin/python bench/trail_bench.py --events 1000000 --db sqlite --profile /tmp/trail.prof
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gzip
import io
import json
import multiprocessing
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import yaml
from sqlalchemy import text

import common  # type: ignore[import-not-found]  # bench/ is on sys.path when run as a script
from audit_seed import PEOPLE, START, populate  # type: ignore[import-not-found]
from changegate.bootstrap import build, init
from changegate.cli import trail_sources, trail_workers
from changegate.cli.trail import FILES_PER_TRANSACTION
from changegate.config import Settings
from changegate.services import trail_ingest, users
from changegate.services.trail_parse import Tally
from common import check, log, rss_mb  # type: ignore[import-not-found]
from trail_shapes import ACCOUNTS, DEPLOY_ROLE, ORG, Generator  # type: ignore[import-not-found]

SCRATCH_DB = "changegate_trailbench"
CI = "ci@example.com"


def policy(folder: Path) -> Path:
    """The benchmarks' policy with the organisation's accounts and the deploy role."""
    doc = yaml.safe_load(common.POLICY.read_text()) or {}
    doc["cloudtrail"] = {
        "accounts": [{"account": a, "environment": e} for a, e in ACCOUNTS.items()],
        "pipeline_roles": [DEPLOY_ROLE],
    }
    path = folder / "trail-policy.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def seed_child(url: str, policy_path: str, args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    app = init(Settings(database_url=url, policy_path=Path(policy_path)))
    app.run(
        lambda ctx: [users.add_user(ctx, e, e.split("@")[0], r) for e, r in PEOPLE.items()],
        actor="local-admin",
        at=START - timedelta(days=60),
    )
    out = populate(app, args)
    with app.engine.connect() as conn:
        runs = conn.execute(
            text(
                "SELECT c.key, d.started_at, d.finished_at FROM deployments d "
                "JOIN changes c ON c.id = d.change_id WHERE d.environment = 'production' "
                "AND c.status IN ('approved', 'implemented', 'closed') ORDER BY d.started_at"
            )
        ).all()
    app.engine.dispose()
    log(f"  seeded in {time.perf_counter() - started:.1f} s: {out['rows']}")
    return {"runs": [(k, str(s), str(f)) for k, s, f in runs]}


def write_files(folder: Path, runs: list[Any], args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    gen = Generator(args.seed, runs, args.events)
    files = written = 0
    for key, records in gen.files():
        path = folder / "AWSLogs" / ORG / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(orjson.dumps({"Records": records}), compresslevel=6))
        files += 1
        written += path.stat().st_size
    seconds = time.perf_counter() - started
    log(f"  wrote {files:,} files, {written / 1e6:,.0f} MB gzip, in {seconds:.1f} s")
    return {
        "files": files,
        "gzip_mb": round(written / 1e6),
        "events": gen.count,
        "planted": sorted(gen.planted),
        "shapes": dict(sorted(gen.shapes.items())),
        "seconds": round(seconds, 1),
    }


def log_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.json.gz"))


def floor_child(folder: str) -> dict[str, Any]:
    """gunzip + parse of every file, nothing else, with each library; the faster is the floor."""
    import msgspec  # noqa: PLC0415

    files = log_files(Path(folder))
    out: dict[str, Any] = {}
    for name, loads in (("orjson", orjson.loads), ("msgspec", msgspec.json.decode)):
        started, count = time.perf_counter(), 0
        for path in files:
            count += len(loads(gzip.decompress(path.read_bytes()))["Records"])
        seconds = time.perf_counter() - started
        out[name] = {"seconds": round(seconds, 2), "events_per_s": round(count / seconds)}
        log(f"  floor {name}: {count:,} events in {seconds:.2f} s, {count / seconds:,.0f}/s")
    best = max(out, key=lambda n: out[n]["events_per_s"])
    return {"by_library": out, "library": best, "events_per_s": out[best]["events_per_s"]}


def floors(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The floor measured before the ingests and after them, averaged: this machine's speed
    drifts within minutes, and the ingests run in between."""
    out: dict[str, Any] = {"before": before, "after": after, "by_library": {}}
    for name in before["by_library"]:
        rates = [f["by_library"][name]["events_per_s"] for f in (before, after)]
        out["by_library"][name] = {"events_per_s": round(sum(rates) / 2)}
    out["library"] = max(out["by_library"], key=lambda n: out["by_library"][n]["events_per_s"])
    out["events_per_s"] = out["by_library"][out["library"]]["events_per_s"]
    return out


def ingest_child(
    url: str, policy_path: str, folder: str, profile: str | None, workers: int
) -> dict[str, Any]:
    """Every file as `changegate trail ingest DIR --workers N` takes it: read by `workers`
    processes (0: this one), stored FILES_PER_TRANSACTION files a transaction by this one."""
    app = build(Settings(database_url=url, policy_path=Path(policy_path)))
    count = sum(1 for _ in trail_sources.files([Path(folder)]))
    marks = {max(1, count * p // 100): p for p in (10, 50, 100)}
    watcher = WorkersPeak()
    total, rss, at = Tally(), {}, START + timedelta(days=365)
    prof = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), time.process_time()
    rules = app.run(trail_ingest.authorised, actor=CI)
    sources = trail_sources.files([Path(folder)])  # walked as the command walks it
    with watcher, trail_workers.collecting_less():  # as cli/trail.py's ingest does for its loop
        parsed = trail_workers.parsed(sources, rules, workers)
        read = trail_workers.groups(parsed, FILES_PER_TRANSACTION)
        n = 0
        while group := (prof.runcall(next, read, []) if prof else next(read, [])):

            def some(ctx: Any, group: list[Any] = group) -> Tally:
                return trail_ingest.store(ctx, group)

            total.add(
                prof.runcall(app.run, some, actor=CI, at=at)
                if prof
                else app.run(some, actor=CI, at=at)
            )
            first, n = n, n + len(group)
            for mark in [marks[m] for m in marks if first < m <= n]:
                rss[f"{mark}%"] = {"peak_mb": round(rss_mb()), "now_mb": round(_rss_now_mb())}
                log(f"  {mark}%: {n:,} files, {total.new:,} new events, RSS {rss[f'{mark}%']}")
    app.run(lambda ctx: trail_ingest.settle(ctx, total.new), actor=CI, at=at)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    if prof and profile:
        _write_profile(prof, profile)
    app.engine.dispose()
    events = sum(total.kinds.values()) + total.skipped
    return {
        "workers": workers,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "workers_cpu_seconds": round(children.ru_utime + children.ru_stime, 1),
        "workers_peak_rss_mb": watcher.peak_mb,
        "events_per_s": round(events / seconds),
        "events": events,
        "new": total.new,
        "stored": total.new + total.seen,
        "kinds": dict(sorted(total.kinds.items())),
        "skipped": total.skipped,
        "malformed": total.malformed[:5],
        "uncovered": sorted(total.uncovered),
        "rss": rss,
    }


class WorkersPeak:
    """The largest peak RSS (VmHWM) of this process's children while they run, sampled twice
    a second. Not getrusage(RUSAGE_CHILDREN): a spawned worker is forked before it execs, and
    its maximum counts the parent's pages it shared until then."""

    def __init__(self) -> None:
        self.peak_mb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> WorkersPeak:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            for pid in _children():
                with contextlib.suppress(OSError, ValueError, IndexError):
                    status = Path(f"/proc/{pid}/status").read_text()
                    if "multiprocessing" not in Path(f"/proc/{pid}/cmdline").read_text():
                        continue
                    [kb] = [
                        line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")
                    ]
                    self.peak_mb = max(self.peak_mb, round(int(kb) / 1024))


def _children() -> list[str]:
    found: list[str] = []
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):
            found += (task / "children").read_text().split()
    return found


def _write_profile(prof: cProfile.Profile, path: str) -> None:
    out = io.StringIO()
    for key in ("cumulative", "tottime"):
        pstats.Stats(prof, stream=out).sort_stats(key).print_stats(40)
    Path(path).write_text(out.getvalue())
    log(f"  profile written to {path}")


def _rss_now_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def sql_child(url: str, policy_path: str, folder: str, profile: str | None) -> dict[str, Any]:
    """`changegate trail reconcile --engine duckdb --files DIR`, in-process, timed."""
    import contextlib  # noqa: PLC0415

    from changegate.cli.main import run  # noqa: PLC0415

    os.environ.update(CHANGEGATE_DATABASE_URL=url, CHANGEGATE_POLICY=policy_path)
    os.environ["CHANGEGATE_CLOCK"] = (START + timedelta(days=365)).isoformat()
    os.environ["CHANGEGATE_ALLOW_CLOCK_OVERRIDE"] = "true"
    args = ["trail", "reconcile", "--engine", "duckdb", "--files", folder, "--json", "--as", CI]
    out = io.StringIO()
    started, cpu = time.perf_counter(), time.process_time()
    prof = cProfile.Profile() if profile else None
    with contextlib.redirect_stdout(out):
        code = prof.runcall(run, args) if prof else run(args)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if prof and profile:
        _write_profile(prof, profile)
    check(code == 0, f"trail reconcile exited {code}: {out.getvalue()[-500:]}")
    got = json.loads(out.getvalue())
    log(f"  reconcile --engine duckdb: {seconds:.1f} s, {got['new']:,} stored, RSS {rss_mb():.0f}")
    return {
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "stored": got["new"] + got["seen"],
        "uncovered": sorted(got["uncovered"]),
        "peak_rss_mb": round(rss_mb()),
    }


def ingest_alone(*args: Any) -> dict[str, Any]:
    """`ingest_child` in a fresh interpreter started as `python -c`, as `changegate` starts:
    its worker processes import what reading needs, not this script's imports (a spawned
    process imports its parent's main module: here the seeding and database set-up)."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import trail_bench; "
        "print(json.dumps(trail_bench.ingest_child(*json.loads(sys.argv[2]))))"
    )
    bench = str(Path(__file__).resolve().parent)
    done = subprocess.run(
        [sys.executable, "-c", code, bench, json.dumps(args)],
        stdout=subprocess.PIPE,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def in_child(fn: Any, *args: Any) -> dict[str, Any]:
    # Not a multiprocessing.Pool: its processes are daemons, which may not start the
    # ingest's own workers.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        result: dict[str, Any] = pool.submit(fn, *args).result()
        return result


def bench(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    log(f"{kind}: {args.events:,} events against {args.changes:,} changes")
    with (
        tempfile.TemporaryDirectory(prefix="trailbench-") as tmp,
        common.database(kind, SCRATCH_DB) as url,
    ):
        folder = Path(tmp)
        rules = str(policy(folder))
        seeded = in_child(seed_child, url, rules, args)
        logs = folder / "AWSLogs" / ORG
        made = write_files(folder, seeded["runs"], args)
        before = in_child(floor_child, str(logs))
        alone = ingest_alone(url, rules, str(logs), args.profile, 0)
        with common.database(kind, SCRATCH_DB + "_workers") as other:
            in_child(seed_child, other, rules, args)
            e2e = ingest_alone(other, rules, str(logs), None, args.workers)
        floor = floors(before, in_child(floor_child, str(logs)))
        with common.database(kind, SCRATCH_DB + "_sql") as other:
            in_child(seed_child, other, rules, args)
            sql_profile = f"{args.profile}.sql" if args.profile else None
            sql = in_child(sql_child, other, rules, str(logs), sql_profile)
    sql["events_per_s"] = round(made["events"] / sql["seconds"])
    check(sql["uncovered"] == made["planted"], "reconcile's uncovered are not the planted ones")
    for run in (alone, e2e):
        check(run["events"] == made["events"], f"ingested {run['events']} of {made['events']}")
        check(not run["malformed"], f"malformed: {run['malformed']}")
        check(run["uncovered"] == made["planted"], "uncovered changes are not the planted ones")
    check(alone["stored"] == e2e["stored"], "one process and the workers stored differently")
    ratio = e2e["events_per_s"] / floor["events_per_s"]
    return {
        "db": kind,
        "files": made,
        "floor": floor,
        "one_process": alone,
        "one_process_ratio": round(alone["events_per_s"] / floor["events_per_s"], 3),
        "end_to_end": e2e,
        "ratio": round(ratio, 3),
        "sql": sql,
        "sql_ratio": round(sql["events_per_s"] / floor["events_per_s"], 3),
    }


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| | " + " | ".join(r["db"] for r in results) + " |", "|---|" + "---:|" * len(results)]
    rows = {
        "events": lambda r: f"{r['end_to_end']['events']:,}",
        "files (gzip MB)": lambda r: f"{r['files']['files']:,} ({r['files']['gzip_mb']})",
        "floor, events/s": lambda r: f"{r['floor']['events_per_s']:,} ({r['floor']['library']})",
        "end to end, one process, events/s": lambda r: f"{r['one_process']['events_per_s']:,}",
        "end to end, one process / floor": lambda r: f"{r['one_process_ratio']:.1%}",
        "end to end, one process, s (CPU s)": lambda r: (
            f"{r['one_process']['seconds']} ({r['one_process']['cpu_seconds']})"
        ),
        "end to end, with workers, events/s": lambda r: (
            f"{r['end_to_end']['events_per_s']:,} ({r['end_to_end']['workers']} workers)"
        ),
        "end to end, with workers / floor": lambda r: f"{r['ratio']:.1%}",
        "end to end, with workers, s (CPU s: storing + workers)": lambda r: (
            f"{r['end_to_end']['seconds']} ({r['end_to_end']['cpu_seconds']}"
            f" + {r['end_to_end']['workers_cpu_seconds']})"
        ),
        "stored (kept) events": lambda r: f"{r['end_to_end']['stored']:,}",
        "peak RSS at 10/50/100%, MB (one process)": lambda r: " / ".join(
            str(v["peak_mb"]) for v in r["one_process"]["rss"].values()
        ),
        "peak RSS at 10/50/100%, MB (storing; largest worker)": lambda r: (
            " / ".join(str(v["peak_mb"]) for v in r["end_to_end"]["rss"].values())
            + f"; {r['end_to_end']['workers_peak_rss_mb']}"
        ),
        "reconcile --engine duckdb, events/s (s)": lambda r: (
            f"{r['sql']['events_per_s']:,} ({r['sql']['seconds']})"
        ),
        "reconcile --engine duckdb / floor": lambda r: f"{r['sql_ratio']:.1%}",
        "reconcile --engine duckdb, peak RSS MB": lambda r: str(r["sql"]["peak_rss_mb"]),
        "uncovered (planted)": lambda r: (
            f"{len(r['end_to_end']['uncovered'])} ({len(r['files']['planted'])})"
        ),
    }
    for name, cell in rows.items():
        lines.append(f"| {name} | " + " | ".join(cell(r) for r in results) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--deployments", type=int, default=50_000)
    parser.add_argument("--drifts", type=int, default=0, help="the audit seed's drifts (unused)")
    parser.add_argument("--resources", type=int, default=100, help="the audit seed's resources")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the data")
    parser.add_argument("--chunk", type=int, default=5_000, help="rows per executemany (seed)")
    parser.add_argument(
        "--profile", help="cProfile the end-to-end runs, stats to FILE and FILE.sql"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=trail_workers.default_workers(),
        help="trail ingest --workers for the end-to-end run (a one-process run is made too)",
    )
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    results = [bench(kind, args) for kind in kinds]
    print(json.dumps(results, indent=2) if args.json else table(results))


if __name__ == "__main__":
    main()
