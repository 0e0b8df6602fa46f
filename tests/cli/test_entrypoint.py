"""The installed `changegate` command, as a user runs it: real process, real exit codes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def changegate(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("changegate", path=str(Path(sys.executable).parent))
    assert exe, "the changegate console script is not installed in this environment"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CHANGEGATE_")}
    return subprocess.run(
        [exe, *args],
        cwd=cwd,
        env=clean | (env or {}),
        text=True,
        capture_output=True,
        timeout=120,
        check=False,
    )


def test_fresh_directory_walkthrough(tmp_path: Path) -> None:
    assert changegate("init", cwd=tmp_path).returncode == 0
    assert (tmp_path / "changegate.db").exists()
    added = changegate(
        "user", "add", "a@example.com", "--name", "A", "--role", "requester", cwd=tmp_path
    )
    assert added.returncode == 0, added.stderr
    made = changegate("change", "create", "--as", "a@example.com", "--title", "T", cwd=tmp_path)
    assert (made.returncode, made.stdout.strip()) == (0, "CHG-1")


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("change", "list"), {}),
        (("change", "list"), {"CHANGEGATE_DATABASE_URL": "mysql://x@localhost/db"}),
        (("change", "list"), {"CHANGEGATE_DATABASE_URL": "::::"}),
        (("policy", "show"), {"CHANGEGATE_POLICY": "/nonexistent/policy.yaml"}),
        (("ledger", "checkpoint"), {"CHANGEGATE_SIGNING_KEY": "/nonexistent/key.pem"}),
        (("change", "create", "--title"), {}),
    ],
)
def test_errors_are_one_line_without_traceback(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str]
) -> None:
    result = changegate(*args, cwd=tmp_path, env=env)
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("error: ")
