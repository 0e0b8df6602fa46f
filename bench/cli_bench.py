"""CLI start-up: `changegate --help` and a local `changegate change list`, beside their floors.

Each series runs the command as a fresh process, as a person or a CI step does, interleaved
round-robin so a busy moment of the machine hits every series alike. Floors, in the same run:
an empty Python (`python -c pass`), Python importing Typer (what any Typer CLI pays before
its first line), and Python importing SQLAlchemy's ORM (what any command that reads the
database through it pays). The change list reads a SQLite file holding 50 changes.

    .venv/bin/python bench/cli_bench.py [--runs 15] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
EXE = str(BIN / "changegate")
PY = sys.executable


def series(db_url: str) -> dict[str, list[str]]:
    return {
        "floor: python -c pass": [PY, "-c", "pass"],
        "floor: python -c 'import typer'": [PY, "-c", "import typer"],
        "floor: python -c 'import sqlalchemy.orm'": [PY, "-c", "import sqlalchemy.orm"],
        "changegate --help": [EXE, "--help"],
        "changegate change list (SQLite, 50 changes)": [EXE, "change", "list"],
    }


def seed(env: dict[str, str]) -> None:
    subprocess.run([EXE, "demo", "--seed-only"], env=env, check=True, capture_output=True)


def measure(
    commands: dict[str, list[str]], env: dict[str, str], runs: int
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in commands}
    for argv in commands.values():  # one warm-up each: the page cache, .pyc files
        subprocess.run(argv, env=env, check=True, capture_output=True)
    for _ in range(runs):
        for name, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, env=env, check=True, capture_output=True)
            times[name].append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true", help="also write bench/results/")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cli-bench-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHANGEGATE_")}
        env["CHANGEGATE_DATABASE_URL"] = f"sqlite:///{Path(tmp) / 'bench.db'}"
        seed(env)
        load = os.getloadavg()[0]
        times = measure(series(env["CHANGEGATE_DATABASE_URL"]), env, args.runs)
    rows = {
        name: {"median_s": statistics.median(ts), "min_s": min(ts), "max_s": max(ts)}
        for name, ts in times.items()
    }
    print(f"| series ({args.runs} runs, load {load:.1f}) | median s | min s | max s |")
    print("|---|---:|---:|---:|")
    for name, row in rows.items():
        print(f"| {name} | {row['median_s']:.3f} | {row['min_s']:.3f} | {row['max_s']:.3f} |")
    orm = rows["floor: python -c 'import sqlalchemy.orm'"]["median_s"]
    listed = rows["changegate change list (SQLite, 50 changes)"]["median_s"]
    print(f"\nchange list / ORM floor: {listed / orm:.2f}x")
    if args.json:
        out = Path(__file__).parent / "results"
        out.mkdir(exist_ok=True)
        path = out / f"cli-{time.strftime('%Y%m%dT%H%M%S')}.json"
        path.write_text(json.dumps({"runs": args.runs, "load": load, "series": rows}, indent=2))
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
