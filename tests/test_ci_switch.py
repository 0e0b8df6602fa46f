"""CI cannot silently skip the PostgreSQL half: with CHANGEGATE_TEST_REQUIRE_PG=1 (set by
.ci/run) an unreachable server fails the run; without it, the half is skipped (and the summary
says so)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ONE_PG_TEST = (
    "tests/services/test_ledger.py::"
    "test_a_checkpoint_file_the_database_also_holds_counts_once[postgresql]"
)


def run_without_postgres(require: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHANGEGATE_")}
    env["CHANGEGATE_TEST_PG"] = "postgresql+psycopg://postgres@127.0.0.1:1/none"
    if require:
        env["CHANGEGATE_TEST_REQUIRE_PG"] = "1"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"]
    return subprocess.run(
        [*command, ONE_PG_TEST], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(("require", "outcome"), [(True, "1 failed"), (False, "1 skipped")])
def test_the_switch_turns_the_skip_into_a_failure(require: bool, outcome: str) -> None:
    done = run_without_postgres(require)
    assert outcome in done.stdout, done.stdout[-2000:]
    assert (done.returncode != 0) is require


def test_ci_sets_the_switch() -> None:
    assert "CHANGEGATE_TEST_REQUIRE_PG=1 make test" in (ROOT / ".ci/run").read_text()
