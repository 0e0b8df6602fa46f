"""`changegate sandbox`: the local Linear and Drive a newcomer tries changegate against (the
README walkthrough runs the whole story). Here its refusals: each one line, exit 2, nothing
written; the happy path is the walkthrough's (tests/cli/test_readme.py)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import Result

Cli = Callable[..., Result]


def one_line(result: Result) -> str:
    assert result.code == 2, (result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    return lines[0]


@pytest.fixture
def taken() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.fixture
def closed() -> int:
    """A port nothing listens on (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def no_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "CHANGEGATE_LINEAR_API_KEY",
        "CHANGEGATE_LINEAR_WEBHOOK_SECRET",
        "CHANGEGATE_LINEAR_URL",
        "CHANGEGATE_GOOGLE_CREDENTIALS",
        "CHANGEGATE_GOOGLE_DRIVE_URL",
        "CHANGEGATE_GOOGLE_CA_CERTS",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_sandbox")
def test_without_the_sandbox_settings_it_says_to_source_them(cli: Cli) -> None:
    assert "source the sandbox.env" in one_line(cli("sandbox", "linear", "show", "ENG-1"))
    assert "source the sandbox.env" in one_line(cli("sandbox", "drive", "ls"))


def test_a_port_in_use_is_refused(cli: Cli, tmp_path: Path, taken: int) -> None:
    line = one_line(cli("sandbox", "serve", "--out", str(tmp_path), "--linear-port", str(taken)))
    assert line == "error: sandbox: cannot listen: Address already in use"
    assert not (tmp_path / "sandbox.env").exists()


@pytest.mark.usefixtures("no_sandbox")
def test_a_local_linear_that_does_not_answer_is_said_so(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, closed: int
) -> None:
    monkeypatch.setenv("CHANGEGATE_LINEAR_API_KEY", "lin_api_sandbox")
    monkeypatch.setenv("CHANGEGATE_LINEAR_WEBHOOK_SECRET", "s" * 32)
    monkeypatch.setenv("CHANGEGATE_LINEAR_URL", f"http://127.0.0.1:{closed}/graphql")
    assert "does not answer" in one_line(cli("sandbox", "linear", "show", "ENG-1"))
    body = tmp_path / "missing.md"
    line = one_line(
        cli("sandbox", "linear", "issue", "--title", "t", "--body", str(body), "--creator", "a@b.c")
    )
    assert "missing.md" in line
