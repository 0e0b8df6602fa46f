"""`changegate login` end to end: a live server, a browser, the CLI in its own process; then
the CLI's human commands go to the server with the stored token."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from changegate.api.app import create_app
from changegate.bootstrap import App
from changegate.cli import credentials
from changegate.domain.changes import Risk
from changegate.services import changes, users
from tests.api.conftest import free_port
from tests.builders import make_fields
from tests.identity.conftest import seed

BROWSER = Path(__file__).with_name("browser.py")
CHANGEGATE = str(Path(sys.executable).with_name("changegate"))


@pytest.fixture
def live(app: App) -> Iterator[str]:
    identity = app.policy.identity.model_copy(
        update={"demo_sign_in": True, "local_decisions": "deny"}
    )
    app.policy = app.policy.model_copy(update={"identity": identity})
    seed(app)
    app.run(lambda ctx: users.add_user(ctx, "ana@example.com", "Ana", ["requester"]), "local-admin")
    port = free_port()
    config = uvicorn.Config(create_app(app), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHANGEGATE_")}
    return env | {"COLUMNS": "200"} | extra


def _changegate(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHANGEGATE, *args],
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _stored_privately() -> credentials.Stored:
    path = credentials.path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    stored = credentials.load()
    assert stored is not None
    return stored


def test_login_through_the_browser_then_commands_go_to_the_server(live: str, app: App) -> None:
    browser = f"{sys.executable} {BROWSER} %s"
    done = _changegate("login", "--url", live, BROWSER=browser, CG_BROWSER_AS="ivy@example.com")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"signed in to {live} as ivy@example.com" in done.stdout
    stored = _stored_privately()
    assert stored.url == live and stored.email == "ivy@example.com"
    assert stored.token.startswith("cgt_")

    # A change to decide on, made locally (it is not a decision).
    key = app.run(
        lambda ctx: changes.create(ctx, make_fields(risk=Risk.LOW)).key, actor="ana@example.com"
    )
    app.run(lambda ctx: changes.submit(ctx, key), actor="ana@example.com")
    # No CHANGEGATE_URL, no CHANGEGATE_DATABASE_URL: the stored login's server answers, and
    # the ISO's approval there is an authenticated one.
    listed = _changegate("change", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [c["key"] for c in json.loads(listed.stdout)["items"]] == [key]
    approved = _changegate("change", "approve", key, "--role", "iso", "--version", "1")
    assert approved.returncode == 0, approved.stdout + approved.stderr
    payload = app.read(lambda ctx: _last_payload(ctx, "change.approved_by_iso"))
    assert "authenticated" not in payload
    assert _changegate("logout").stdout.strip() == "forgot the stored login"
    assert credentials.load() is None


def _last_payload(ctx: object, action: str) -> dict[str, object]:
    from sqlalchemy import select

    from changegate.db.models import LedgerRecord

    session = ctx.session  # type: ignore[attr-defined]
    stmt = select(LedgerRecord.payload).where(LedgerRecord.action == action)
    return dict(json.loads(session.execute(stmt).scalars().all()[-1]))


def test_login_without_a_browser_pastes_a_code(live: str) -> None:
    cli = subprocess.Popen(
        [CHANGEGATE, "login", "--url", live, "--no-browser"],
        env=_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert cli.stdout is not None and cli.stdin is not None
    cli.stdout.readline()
    url = cli.stdout.readline().strip()
    assert url.startswith(f"{live}/auth/cli?challenge=")
    shown = subprocess.run(
        [sys.executable, str(BROWSER), "--show-code", url],
        env=_env(CG_BROWSER_AS="bob@example.com"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    out, err = cli.communicate(shown.stdout.strip() + "\n", timeout=60)
    assert cli.returncode == 0, out + err
    assert "as bob@example.com" in out
    assert _stored_privately().email == "bob@example.com"


def test_a_code_works_once_and_only_with_its_verifier(live: str) -> None:
    import httpx

    from changegate.services.logins import challenge_of

    verifier = "v" * 48
    url = f"{live}/auth/cli?challenge={challenge_of(verifier)}"
    shown = subprocess.run(
        [sys.executable, str(BROWSER), "--show-code", url],
        env=_env(CG_BROWSER_AS="ivy@example.com"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    code = shown.stdout.strip()
    wrong = httpx.post(f"{live}/auth/cli/token", json={"code": code, "verifier": "w" * 48})
    assert wrong.status_code == 401
    right = httpx.post(f"{live}/auth/cli/token", json={"code": code, "verifier": verifier})
    assert right.status_code == 200 and right.json()["email"] == "ivy@example.com"
    again = httpx.post(f"{live}/auth/cli/token", json={"code": code, "verifier": verifier})
    assert again.status_code == 401
    assert again.json()["detail"] == "invalid, expired or already used login code"


def test_login_refuses_a_plain_http_server_elsewhere() -> None:
    done = _changegate("login", "--url", "http://cg.example.com")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "use https://" in done.stderr


def test_the_token_exchange_answers_bad_input_with_a_problem(live: str) -> None:
    import httpx

    r = httpx.post(f"{live}/auth/cli/token", content=b"{not json")
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    short = httpx.post(f"{live}/auth/cli/token", json={"code": "x", "verifier": "short"})
    assert short.status_code == 422 and "verifier" in short.json()["detail"]


def test_login_to_a_server_that_is_not_there_fails_in_one_line() -> None:
    done = subprocess.run(
        [CHANGEGATE, "login", "--url", f"http://127.0.0.1:{free_port()}", "--no-browser"],
        input="some-code\n",
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "cannot reach changegate" in done.stderr
    assert credentials.load() is None


def test_after_login_local_administration_says_how_to_reach_the_database(live: str) -> None:
    credentials.save(credentials.Stored(live, "cgt_" + "x" * 43, "ivy@example.com"))
    done = _changegate("user", "add", "new@example.com", "--name", "New", "--role", "cab")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "local administration" in done.stderr and "set CHANGEGATE_DATABASE_URL" in done.stderr
    as_someone = _changegate("change", "list", "--as", "ivy@example.com")
    assert as_someone.returncode == 2 and "--as does not apply" in as_someone.stderr
