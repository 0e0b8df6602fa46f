"""The first ten minutes: help, version, completion, readable help, one identity, a status page.

Every command here runs as a user runs it (the in-process entry point with real arguments, or a
subprocess where a terminal or a fresh process matters).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result

Cli = Callable[..., Result]
ROOT = Path(__file__).resolve().parents[2]
EXE = str(Path(sys.executable).parent / "changegate")


@pytest.fixture
def org(cli: Cli) -> Cli:
    for email, name, roles in (
        ("alice@example.com", "Alice", ["requester"]),
        ("bob@example.com", "Bob", ["cab"]),
        ("ivy@example.com", "Ivy", ["iso"]),
        ("sam@example.com", "Sam", ["security_engineer"]),
    ):
        flags = [arg for role in roles for arg in ("--role", role)]
        assert cli("user", "add", email, "--name", name, *flags).code == 0
    return cli


def created(cli: Cli, *extra: str) -> str:
    made = cli(
        "change",
        "create",
        "--as",
        "ALICE@Example.com",
        "--title",
        "Rotate certs",
        "--scope",
        "gateway",
        "--impact",
        "reconnects",
        "--rollback",
        "old cert",
        "--ticket",
        "ENG-1",
        *extra,
    )
    assert made.code == 0, made.err
    return made.out.strip()


@pytest.mark.parametrize("args", [(), ("change",), ("finding",), ("user", "role")])
def test_a_bare_command_prints_its_help_without_an_error(cli: Cli, args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert result.code == 0 and result.err == ""
    assert result.out.startswith("Usage: changegate") and "error" not in result.out.lower()


def test_version_short_help_and_completion(cli: Cli) -> None:
    from changegate import __version__

    assert cli("--version").out == f"changegate {__version__}\n"
    assert cli("-h").out == cli("--help").out and "Commands:" in cli("-h").out
    assert cli("change", "show", "-h").code == 0
    # Named, not guessed from the process tree: works where no shell is an ancestor (CI, cron).
    script = cli("completion", "bash")
    assert script.code == 0 and "_changegate_completion" in script.out
    assert "compdef" in cli("completion", "ZSH").out
    assert cli("completion", "tcsh").code == 2


def test_completion_offers_commands_and_options() -> None:
    env = os.environ | {
        "_CHANGEGATE_COMPLETE": "complete_bash",
        "COMP_WORDS": "changegate ch",
        "COMP_CWORD": "1",
    }
    first = subprocess.run([EXE], env=env, capture_output=True, text=True, check=False)
    assert first.stdout.split() == ["change"]
    env |= {"COMP_WORDS": "changegate change app", "COMP_CWORD": "2"}
    second = subprocess.run([EXE], env=env, capture_output=True, text=True, check=False)
    assert second.stdout.split() == ["approve"]


def help_pages(cli: Cli) -> dict[str, str]:
    from changegate.cli.main import COMMANDS

    pages = {}
    for name in COMMANDS:
        top = cli(name, "--help").out
        pages[name] = top
        if "Commands:" in top:
            for line in top.split("Commands:")[1].splitlines():
                if line.startswith("  ") and line.split():
                    sub = line.split()[0]
                    pages[f"{name} {sub}"] = cli(name, sub, "--help").out
    return pages


def test_every_option_in_every_help_page_has_a_readable_metavar(cli: Cli) -> None:
    pages = help_pages(cli)
    assert len(pages) > 60
    unreadable = {
        name: line.strip()
        for name, page in pages.items()
        for line in page.splitlines()
        if re.search(r"<[a-z]", line)
    }
    assert unreadable == {}
    assert "--as EMAIL" in pages["change approve"]
    assert "--window-start ISO-8601 time" in pages["change create"]
    assert "--risk low|medium|high" in pages["change create"]


def test_values_of_roles_statuses_and_enums_are_case_insensitive(org: Cli) -> None:
    assert org("user", "add", "max@example.com", "--name", "Max", "--role", "CAB").code == 0
    key = created(org, "--risk", "High", "--env", "production")
    assert org("change", "submit", key, "--as", "alice@EXAMPLE.com").code == 0
    assert (
        org(
            "change", "approve", key, "--as", "Bob@Example.com", "--role", "CAB", "--version", "1"
        ).code
        == 0
    )
    listed = json.loads(org("change", "list", "--status", "SUBMITTED", "--json").out)
    assert [c["key"] for c in listed["items"]] == [key]
    assert org("change", "show", key.lower(), "--json").code == 0


def test_as_is_normalised_like_user_add_and_a_bad_email_is_one_line(org: Cli) -> None:
    key = created(org)
    shown = json.loads(org("change", "show", key, "--json").out)
    assert shown["requester"] == "alice@example.com"
    bad = org("change", "submit", key, "--as", "not-an-email")
    assert (bad.code, bad.err) == (2, "error: not an email address: 'not-an-email'\n")
    missing = org("change", "submit", key)
    assert missing.code == 2 and "give --as EMAIL" in missing.err


def test_user_roles_enable_and_disable(org: Cli) -> None:
    added = json.loads(org("user", "role", "add", "alice@example.com", "cab", "--json").out)
    assert added["roles"] == ["cab", "requester"]
    again = org("user", "role", "add", "alice@example.com", "CAB")
    assert again.code == 2 and "already holds the cab role" in again.err
    removed = org("user", "role", "remove", "ALICE@example.com", "cab")
    assert removed.code == 0 and removed.out.strip() == "alice@example.com now holds requester"
    last = org("user", "role", "remove", "alice@example.com", "requester")
    assert last.code == 2 and "disable the user instead" in last.err
    assert org("user", "role", "add", "alice@example.com", "wizard").code == 2
    assert org("user", "disable", "alice@example.com").code == 0
    assert org("change", "create", "--as", "alice@example.com", "--title", "t").code == 1
    assert org("user", "enable", "alice@example.com").out == "enabled alice@example.com\n"
    assert org("change", "create", "--as", "alice@example.com", "--title", "t").code == 0
    actions = [json.loads(line)["action"] for line in org("ledger", "export").out.splitlines()]
    assert {"user.role_added", "user.role_removed", "user.disabled", "user.enabled"} <= set(actions)


def test_status_reports_the_installation_and_what_awaits_a_person(
    org: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHANGEGATE_POLICY")  # the fixture's allows local decisions; none here
    key = created(org, "--env", "production")
    assert org("change", "submit", key, "--as", "alice@example.com").code == 0
    shown = json.loads(org("status", "--as", "IVY@example.com", "--json").out)
    assert shown["database_schema"]["current"] is True
    assert shown["database_schema"]["revision"] == shown["database_schema"]["head"]
    assert shown["people"] == {"cab": 1, "iso": 1, "requester": 1, "security_engineer": 1}
    assert shown["policy_source"] == "built-in defaults" and len(shown["policy_digest"]) == 64
    assert shown["signing_key"] is None
    awaiting = [i for i in shown["you"]["items"] if i["kind"] != "sign-review"]
    assert [(i["kind"], i["subject"], i["role"]) for i in awaiting] == [
        ("approve-change", key, "iso")
    ]
    # No adoption date recorded (the schema was made without `init`): last two quarters owed.
    owed = {i["subject"] for i in shown["you"]["items"] if i["kind"] == "sign-review"}
    assert owed == {"2026-Q2", "2026-Q3"}
    assert awaiting[0]["command"] == f"changegate change approve {key} --role iso --version 1"
    text = org("doctor", "--as", "alice@example.com")
    assert (
        text.code == 0 and "schema" in text.out and "nothing awaits alice@example.com" in text.out
    )
    assert text.out.splitlines()[1].split()[0] == "database"


def test_status_masks_a_password_and_says_when_the_schema_is_old(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from changegate.bootstrap import safe_url
    from changegate.db.engine import build_engine

    assert "***" in safe_url(build_engine("postgresql://u:secret@127.0.0.1:1/x"))
    monkeypatch.setenv("CHANGEGATE_DATABASE_URL", f"sqlite:///{tmp_path}/none.db")
    missing = cli("status")
    assert missing.code == 2 and "run `changegate init`" in missing.err
    assert not (tmp_path / "none.db").exists()


def test_init_records_the_adoption_date_and_audits_start_there(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CHANGEGATE_DATABASE_URL", f"sqlite:///{tmp_path}/new.db")
    monkeypatch.setenv("CHANGEGATE_ALLOW_CLOCK_OVERRIDE", "true")
    monkeypatch.setenv("CHANGEGATE_CLOCK", "2026-11-30T15:00:00Z")
    first = cli("init")
    assert first.code == 0 and "adopted on 2026-11-30" in first.out
    monkeypatch.setenv("CHANGEGATE_CLOCK", "2026-12-02T15:00:00Z")
    assert "adopted on 2026-11-30" in cli("init").out  # recorded once, never moved
    policy = json.loads(cli("policy", "show", "--json").out)
    assert (policy["adopted_on"], policy["effective_from"]) == ("2026-11-30", "2026-11-30")
    assert policy["policy"]["audits"]["effective_from"] is None
    assert "# audited from: 2026-11-30 (the adoption date)" in cli("policy", "show").out
    cli("user", "add", "ivy@example.com", "--name", "Ivy", "--role", "iso")
    monkeypatch.setenv("CHANGEGATE_CLOCK", "2027-02-01T09:00:00Z")
    # 2026-Q3 ended before the adoption: nobody could have signed its reviews in changegate.
    q3 = json.loads(
        cli("audit", "run", "--period", "2026-Q3", "--as", "ivy@example.com", "--json").out
    )
    assert q3["findings"] == []
    # The review of 2026-Q4 (adopted during it) falls due in January and is missed.
    q1 = json.loads(
        cli("audit", "run", "--period", "2027-Q1", "--as", "ivy@example.com", "--json").out
    )
    missed = {f["subject"] for f in q1["findings"] if f["rule"] == "CM-6.quarterly-review-missing"}
    assert missed == {"quarter:2026-Q4"}


def test_non_tty_tables_are_plain_aligned_text_without_trailing_blanks(org: Cli) -> None:
    for _ in range(3):
        created(org)
    out = org("change", "list").out.splitlines()
    assert out[0] == "Changes (3)"
    header, first = out[1], out[2]
    assert header.split() == ["key", "status", "type", "risk", "v", "title", "requester"]
    assert header.index("requester") == first.index("alice@example.com")
    assert all(line == line.rstrip() for line in out)
    assert "─" not in "".join(out) and "│" not in "".join(out)


def test_lists_page_in_sql_and_say_where_the_page_sits(org: Cli) -> None:
    keys = [created(org) for _ in range(5)]
    page = json.loads(org("change", "list", "--limit", "2", "--offset", "1", "--json").out)
    assert ([c["key"] for c in page["items"]], page["total"]) == (keys[1:3], 5)
    assert (page["limit"], page["offset"]) == (2, 1)
    text = org("change", "list", "--limit", "2", "--offset", "1").out
    assert text.rstrip().endswith("2-3 of 5; --offset 3 for more")
    assert org("change", "list", "--limit", "0").code == 2
    empty = org("waiver", "list")
    assert empty.out == "no waivers\n"


def test_review_list_and_show(org: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHANGEGATE_ALLOW_CLOCK_OVERRIDE", "true")
    monkeypatch.setenv("CHANGEGATE_CLOCK", "2026-10-05T09:00:00Z")
    assert org("review", "list").out == "no signed reviews\n"
    signed = json.loads(
        org("review", "metrics", "--quarter", "2026-Q3", "--as", "ivy@example.com", "--json").out
    )
    listed = json.loads(org("review", "list", "--json").out)
    assert [(r["id"], r["kind"], r["period"]) for r in listed["items"]] == [
        (signed["id"], "quarterly_metrics", "2026-Q3")
    ]
    shown = org("review", "show", str(signed["id"]))
    assert shown.code == 0 and f"review {signed['id']}  quarterly_metrics 2026-Q3" in shown.out
    assert f"sha256     {signed['sha256']}" in shown.out and '"quarter": "2026-Q3"' in shown.out
    assert org("review", "show", "999").code == 2


def test_keys_and_databases_are_never_committed_by_git_add(tmp_path: Path) -> None:
    for name in (
        "ledger-key.pem",
        "keys/signing.key",
        "walkthrough.db",
        "changegate-demo.db",
        "changegate-demo.db.lock",
        "changegate-demo.db-wal",
    ):
        checked = subprocess.run(["git", "check-ignore", "-q", name], cwd=ROOT, check=False)
        assert checked.returncode == 0, f"{name} is not ignored by .gitignore"


# Commands that print no record: they stream (export), serve, run, or only say ok.
NO_RECORD = {
    "demo",
    "serve",
    "sandbox serve",
    "worker",
    "init",
    "ledger export",
    "ledger keygen",
    "review doc",
    "policy check",
    "token revoke",
    "outbox retry",
    "completion",
    "login",
    "logout",
}


def test_every_command_that_prints_a_record_or_a_list_takes_json(cli: Cli) -> None:
    pages = help_pages(cli)
    leaves = {name: page for name, page in pages.items() if "Commands:" not in page}
    assert len(leaves) > 50
    missing = sorted(
        name for name, page in leaves.items() if name not in NO_RECORD and "--json" not in page
    )
    assert missing == []
