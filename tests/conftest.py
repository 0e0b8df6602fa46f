"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is the server at CHANGEGATE_TEST_PG (default postgres@127.0.0.1:5432/test). Each
pytest worker gets its own database, migrated once; each test starts from empty tables. If the
server cannot be reached, the PostgreSQL half is skipped and the summary says so loudly.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from changegate import bootstrap
from changegate.bootstrap import App
from changegate.config import Settings
from changegate.db import schema
from changegate.db.changes import Changes
from changegate.db.engine import build_engine
from changegate.db.models import Change, everything
from changegate.domain.approvals import ApprovalRole, Decision
from changegate.policy import Policy
from changegate.services import approvals
from changegate.services.context import Context

PG_URL = os.environ.get("CHANGEGATE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_pg_problem: list[str] = []


def _pg_reachable() -> str | None:
    try:
        engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    problem = _pg_reachable()
    if problem:
        _pg_problem.append(problem)
        if os.environ.get("CHANGEGATE_TEST_REQUIRE_PG") == "1":
            # CI sets this (.ci/run): there, a missing PostgreSQL half is a failure, not a skip.
            pytest.fail(f"PostgreSQL unreachable at {PG_URL}: {problem}", pytrace=False)
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {problem}")
    return PG_URL


@pytest.fixture(scope="session")
def pg_database(pg_admin_url: str, worker_id: str) -> Iterator[str]:
    # The pid too: two pytest runs at once (a developer and an editor plugin) must not share.
    name = f"changegate_test_{worker_id}_{os.getpid()}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    engine = build_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = build_engine(f"sqlite:///{path}")
    schema.upgrade(engine)
    engine.dispose()
    return path


def _empty_pg(url: str) -> None:
    tables = ", ".join(t.name for t in everything().metadata.sorted_tables)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(
            text("INSERT INTO ledger_head (id, seq, hash) VALUES (1, 0, :h)"), {"h": "0" * 64}
        )
        conn.execute(
            text(
                "INSERT INTO counters (name, value) "
                "VALUES ('change', 0), ('waiver', 0), ('finding', 0)"
            )
        )
        conn.execute(text("INSERT INTO leases (name) VALUES ('audit'), ('waiver-expiry')"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "changegate.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_database")
    _empty_pg(url)
    return url


def local_decisions(policy: Policy, allowed: str = "allow") -> Policy:
    """`policy` with `identity.local_decisions` set: tests act in-process, as `--as` does."""
    identity = policy.identity.model_copy(update={"local_decisions": allowed})
    return policy.model_copy(update={"identity": identity})


@pytest.fixture
def app(db_url: str) -> Iterator[App]:
    built = bootstrap.build(Settings(database_url=db_url))
    # Most tests decide in-process, unauthenticated; tests/identity holds the refusal.
    built.policy = local_decisions(built.policy)
    yield built
    built.engine.dispose()


# What the CLI fixture's policy file says: in-process `--as` may make decisions (marked
# unauthenticated in the ledger), as the README walkthrough's policy does.
LOCAL_DECISIONS_POLICY = "identity:\n  local_decisions: allow\n"


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def _own_state(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test has its own CLI state (what `change show` last showed) and configuration
    (what `changegate login` stored), never the user's."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))


@pytest.fixture
def cli(
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> Callable[..., Result]:
    """Run `changegate ARGS...` in-process against the test database."""
    from changegate.cli.main import run

    monkeypatch.setenv("CHANGEGATE_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "200")
    for name in (
        "CHANGEGATE_CLOCK",
        "CHANGEGATE_ALLOW_CLOCK_OVERRIDE",
        "CHANGEGATE_SIGNING_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    policy = tmp_path / "local-decisions-policy.yaml"
    policy.write_text(LOCAL_DECISIONS_POLICY)
    monkeypatch.setenv("CHANGEGATE_POLICY", str(policy))

    def invoke(*args: str) -> Result:
        capsys.readouterr()
        code = run(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    """The xdist worker name, or 'main' without xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if any("PostgreSQL unreachable" in str(getattr(r, "longrepr", "")) for r in skipped):
        terminalreporter.write_line(
            f"WARNING: PostgreSQL tests were SKIPPED: server unreachable at {PG_URL}",
            red=True,
            bold=True,
        )


def decide_current(
    ctx: Context, key: str, role: ApprovalRole, decision: Decision, comment: str = ""
) -> Change:
    """An approver who has just read the change decides on the version they read: its current
    one (tests of a moved-on version call `approvals.decide` with the stale one)."""
    seen = Changes(ctx.session).get(key).version
    return approvals.decide(ctx, key, role, decision, seen, comment)
