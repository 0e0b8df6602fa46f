"""Every benchmark still runs, at a toy size: a script in `bench/` that has rotted (it once
indexed a read model that had become a pydantic object) is found here, not by the next person
who wants a figure. Nothing is timed; the figures live in docs/benchmarks.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOY = {
    "audit": ["audit_bench.py", "--db", "sqlite", "--changes", "60", "--deployments", "120",
              "--drifts", "100", "--resources", "30"],
    "ledger": ["ledger_bench.py", "--db", "sqlite", "--records", "300", "--sample", "20"],
    "drift": ["drift_bench.py", "--db", "sqlite", "--resources", "200", "--batch", "100"],
    "cli": ["cli_bench.py", "--runs", "1"],
    "ledger_state": ["ledger_state_bench.py", "--db", "sqlite", "--changes", "20",
                     "--resources", "8"],
    "dashboard": ["dashboard_bench.py", "--db", "sqlite", "--changes", "60", "--deployments",
                  "120", "--drifts", "100", "--resources", "30", "--repeat", "2"],
    "evidence": ["evidence_bench.py", "--db", "sqlite", "--changes", "60", "--deployments", "120",
                 "--drifts", "100", "--resources", "30"],
    "trail": ["trail_bench.py", "--db", "sqlite", "--events", "2000", "--changes", "60",
              "--deployments", "120", "--resources", "30"],
    "web": ["web_bench.py", "--sqlite", "--changes", "100", "--ledger", "1000", "--requests", "2",
            "--warmup", "1"],
}  # fmt: skip
# The gate benchmark measures PostgreSQL first, always.
GATE = ["gate_bench.py", "--changes", "100", "--ledger", "1000", "--requests", "16",
        "--warmup", "2", "--pipelines", "2"]  # fmt: skip


def bench(args: list[str], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "bench" / args[0]), *args[1:], *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("name", sorted(TOY))
def test_the_benchmark_runs_at_a_toy_size(name: str) -> None:
    done = bench(TOY[name])
    assert done.returncode == 0, done.stderr[-2000:]
    assert "|" in done.stdout, done.stdout[-2000:]  # its table


def test_the_gate_benchmark_runs_at_a_toy_size(pg_admin_url: str) -> None:
    done = bench(GATE, "--pg-url", pg_admin_url)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "SQL statements per allowed call" in done.stdout, done.stdout[-2000:]


def test_there_are_benchmarks_to_run() -> None:
    scripts = {p.name for p in (ROOT / "bench").glob("*_bench.py")}
    assert scripts == {args[0] for args in TOY.values()} | {GATE[0]}
