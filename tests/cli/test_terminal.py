"""On a real terminal (a pseudo-terminal here), tables fit its width and never cut an email."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

EXE = str(Path(sys.executable).parent / "changegate")
LONG_EMAIL = "alexandra.konstantinopoulou@casperstudios.example"


def in_a_terminal(args: list[str], env: dict[str, str], columns: int) -> str:
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [EXE, *args],
        env=env | {"COLUMNS": str(columns), "TERM": "dumb"},
        stdin=follower,
        stdout=follower,
        stderr=follower,
        close_fds=True,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the follower side closed: the command is done
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode().replace("\r\n", "\n")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHANGEGATE_")}
    env["CHANGEGATE_DATABASE_URL"] = f"sqlite:///{tmp_path}/t.db"

    def cg(*args: str) -> None:
        subprocess.run([EXE, *args], env=env, check=True, capture_output=True)

    cg("init")
    cg("user", "add", LONG_EMAIL, "--name", "Alexandra", "--role", "requester")
    for n in range(3):
        cg(
            "change",
            "create",
            "--as",
            LONG_EMAIL,
            "--title",
            f"Move the payments ledger export job {n} to the new batch cluster with retries",
        )
    return env


@pytest.mark.parametrize("columns", [80, 120])
def test_a_table_fits_the_terminal_and_keeps_emails_whole(
    env: dict[str, str], columns: int
) -> None:
    out = in_a_terminal(["change", "list"], env, columns)
    lines = [line for line in out.splitlines() if line]
    assert len(lines) >= 5, out
    assert all(len(line) <= columns for line in lines), out
    assert all(line == line.rstrip() for line in lines), out
    assert sum(LONG_EMAIL in line for line in lines) == 3, out
    assert "payments ledger" in out  # the title wraps instead of being cut


def test_a_pipe_gets_whole_rows_whatever_the_terminal(env: dict[str, str]) -> None:
    piped = subprocess.run(
        [EXE, "change", "list"],
        env=env | {"COLUMNS": "40"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = piped.splitlines()[2:]
    assert len(rows) == 3 and all(LONG_EMAIL in row and "with retries" in row for row in rows)


def test_inbox_commands_are_never_folded(env: dict[str, str]) -> None:
    """`status` tells the requester to record a PIR: the command must survive a copy."""
    subprocess.run(
        [EXE, "user", "add", "iso@example.com", "--name", "Iso", "--role", "iso", "--role", "cab"],
        env=env,
        check=True,
        capture_output=True,
    )
    for n in (1, 2):
        for step in (
            [
                "edit",
                f"CHG-{n}",
                "--scope",
                "s",
                "--impact",
                "i",
                "--rollback",
                "r",
                "--ticket",
                "T-1",
            ],
            ["submit", f"CHG-{n}"],
        ):
            subprocess.run(
                [EXE, "change", *step, "--as", LONG_EMAIL], env=env, check=True, capture_output=True
            )
    out = in_a_terminal(["status", "--as", "iso@example.com"], env, 100)
    lines = out[out.index("Awaiting") :].splitlines()
    assert all(len(line) <= 100 for line in lines), out
    for n in (1, 2):
        for role in ("cab", "iso"):
            wanted = (
                f"changegate change approve CHG-{n} --role {role} --version 1 --as iso@example.com"
            )
            assert any(line.strip().endswith(wanted) for line in lines), out
