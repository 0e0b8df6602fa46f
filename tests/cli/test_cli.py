"""The CLI contract: names, output, exit codes (0 done, 1 refused, 2 bad input), no tracebacks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from changegate.services import ledger_state
from tests.conftest import LOCAL_DECISIONS_POLICY, Result

Cli = Callable[..., Result]
ALICE = ("--as", "alice@example.com")


@pytest.fixture
def org(cli: Cli) -> Cli:
    for email, name, roles in (
        ("alice@example.com", "Alice", ["requester"]),
        ("bob@example.com", "Bob", ["cab"]),
        ("carol@example.com", "Carol", ["cab"]),
        ("ivy@example.com", "Ivy", ["iso"]),
    ):
        flags = [arg for role in roles for arg in ("--role", role)]
        assert cli("user", "add", email, "--name", name, *flags).code == 0
    return cli


def create(cli: Cli, *extra: str) -> str:
    result = cli(
        "change",
        "create",
        *ALICE,
        "--title",
        "Rotate certs",
        "--scope",
        "gateway",
        "--impact",
        "reconnects",
        "--rollback",
        "re-import old cert",
        "--risk",
        "low",
        "--ticket",
        "ENG-7",
        *extra,
    )
    assert result.code == 0, result.err
    return result.out.strip()


def ledger_count(cli: Cli) -> int:
    return int(json.loads(cli("ledger", "verify", "--json").out)["count"])


def test_full_normal_flow(org: Cli) -> None:
    key = create(org)
    assert key == "CHG-1"
    assert org("change", "submit", key, *ALICE).code == 0
    out = org(
        "change",
        "approve",
        key,
        "--as",
        "bob@example.com",
        "--role",
        "cab",
        "--comment",
        "looks fine",
        "--version",
        "1",
    )
    assert out.code == 0 and "awaiting the ISO's approval" in out.out
    assert org("change", "show", key).code == 0  # the ISO reads it: version 1 is the default
    assert org("change", "approve", key, "--as", "ivy@example.com", "--role", "iso").code == 0
    shown = json.loads(org("change", "show", key, "--json").out)
    assert (shown["status"], shown["version"]) == ("approved", 1)
    assert [a["approver"] for a in shown["approvals"]] == ["bob@example.com", "ivy@example.com"]
    assert org("change", "implement", key, *ALICE).code == 0
    assert org("change", "close", key, *ALICE).code == 0
    listed = json.loads(org("change", "list", "--status", "closed", "--json").out)
    assert [c["key"] for c in listed["items"]] == [key] and listed["total"] == 1
    assert org("ledger", "verify").code == 0


def test_create_json_has_the_key(org: Cli) -> None:
    result = org("change", "create", *ALICE, "--title", "t", "--json")
    assert json.loads(result.out)["key"] == "CHG-1"


def test_rule_refusals_exit_1_and_name_the_rule(org: Cli) -> None:
    key = create(org)
    result = org("change", "implement", key, *ALICE)
    assert result.code == 1 and "state: cannot implement" in result.err
    org("change", "submit", key, *ALICE)
    result = org("change", "implement", key, *ALICE)
    assert result.code == 1 and "CM-2" in result.err
    result = org("change", "approve", key, *ALICE, "--role", "cab", "--version", "1")
    assert result.code == 1 and "does not hold the cab role" in result.err


def test_incomplete_submit_names_cm1(org: Cli) -> None:
    result = org("change", "create", *ALICE, "--title", "bare")
    before = ledger_count(org)
    refused = org("change", "submit", result.out.strip(), *ALICE)
    assert refused.code == 1
    assert refused.err.strip() == (
        "error: CM-1: the request is incomplete: missing scope, impact, rollback_plan, ticket"
    )
    assert ledger_count(org) == before


@pytest.mark.parametrize(
    "args",
    [
        ("change", "create", "--as", "alice@example.com", "--title", "t", "--risk", "extreme"),
        ("change", "create", "--as", "alice@example.com"),
        ("change", "show", "CHG-99"),
        ("change", "show", "banana"),
        ("change", "create", "--as", "nobody@example.com", "--title", "t"),
        ("change", "create", "--as", "alice@example.com", "--title", "t", "--env", "moon"),
        (
            "change",
            "create",
            "--as",
            "alice@example.com",
            "--title",
            "t",
            "--window-start",
            "tomorrow",
        ),
        ("user", "add", "not-an-email", "--name", "x", "--role", "cab"),
        ("user", "add", "x@example.com", "--name", "x", "--role", "wizard"),
        ("user", "add", "alice@example.com", "--name", "x", "--role", "cab"),
        ("change", "approve", "CHG-1", "--as", "bob@example.com", "--role", "king"),
        ("change", "frobnicate"),
        ("change", "create", "--as", "alice@example.com", "--title", "t", "--downtime", "1e20"),
        ("change", "create", "--as", "alice@example.com", "--title", "t",
         "--window-start", "0001-01-01T00:00:00Z", "--window-end", "0001-01-01T01:00:00Z"),
        ("token", "create", "--user", "alice@example.com", "--name", "x",
         "--expires-days", "999999999"),
        ("change", "create", "--as", "alice@example.com", "--title", "\udcff\udcfe"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_exit_2_and_writes_nothing(org: Cli, args: tuple[str, ...]) -> None:
    create(org)
    before = ledger_count(org)
    result = org(*args)
    assert result.code == 2, (result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err
    assert "internal error" not in result.err, result.err
    assert "Traceback" not in result.err + result.out
    assert ledger_count(org) == before


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("test", "record", "CHG-1", "--env", "staging", "--commit", "a" * 40, "--junit",
             "/dev/zero", "--as", "alice@example.com"),
            "error: /dev/zero is over the 54,525,952-byte limit",
        ),
        (("ledger", "verify", "--checkpoint", "/dev/zero"),
         "error: checkpoint /dev/zero is over the 65,536-byte limit"),
        (("ledger", "verify", "--checkpoint", "{deep}"), "error: {deep}: nested too deeply"),
        (("baseline", "import", "{deep}", "--name", "x", "--as", "alice@example.com"),
         "error: {deep}: nested too deeply"),
    ],
)  # fmt: skip
def test_hostile_files_are_refused_at_once_in_one_line(
    org: Cli, tmp_path: Path, args: tuple[str, ...], expected: str
) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text(DEEP[:2000] + DEEP[-2000:])
    create(org)
    before = ledger_count(org)
    result = org(*(a.replace("{deep}", str(deep)) for a in args))
    assert result.code == 2, (result.out, result.err)
    assert result.err.strip().startswith(expected.replace("{deep}", str(deep))), result.err
    assert ledger_count(org) == before


def test_an_approval_names_the_version_its_approver_read(org: Cli) -> None:
    key = create(org)
    org("change", "submit", key, *ALICE)
    bob = ("--as", "bob@example.com", "--role", "cab")
    unread = org("change", "approve", key, *bob)
    assert unread.code == 2
    assert unread.err.strip() == (
        "error: say which version of CHG-1 you decide on: --version N, as "
        "`changegate change show CHG-1` prints it (after a show, it is the default)"
    )
    assert org("change", "show", key).code == 0  # Bob reads version 1 ...
    assert org("change", "edit", key, *ALICE, "--risk", "high").code == 0  # ... Alice edits
    stale = org("change", "approve", key, *bob)
    assert stale.code == 2
    assert "CHG-1 is at version 2; you decided on version 1" in stale.err
    assert json.loads(org("change", "show", key, "--json").out)["approvals"] == []
    explicit_stale = org("change", "approve", key, *bob, "--version", "1")
    assert explicit_stale.code == 2 and "at version 2" in explicit_stale.err
    done = org("change", "approve", key, *bob)  # the --json show above read version 2
    assert done.code == 0 and "cab approved version 2 by bob@example.com" in done.out


def test_edit_after_approval_needs_new_approvals(org: Cli) -> None:
    key = create(org)
    org("change", "submit", key, *ALICE)
    org("change", "approve", key, "--as", "bob@example.com", "--role", "cab", "--version", "1")
    org("change", "approve", key, "--as", "ivy@example.com", "--role", "iso", "--version", "1")
    result = org("change", "edit", key, *ALICE, "--risk", "high")
    assert result.code == 0 and "version 2 (submitted)" in result.out
    shown = json.loads(org("change", "show", key, "--json").out)
    assert shown["awaiting"] == ["2 more CAB approvals", "the ISO's approval"]


def test_reject_needs_a_comment(org: Cli) -> None:
    key = create(org)
    org("change", "submit", key, *ALICE)
    assert org("change", "reject", key, "--as", "ivy@example.com", "--role", "iso").code == 2
    result = org(
        "change",
        "reject",
        key,
        "--as",
        "ivy@example.com",
        "--role",
        "iso",
        "--comment",
        "no tested rollback",
        "--version",
        "1",
    )
    assert result.code == 0 and "status rejected" in result.out


def test_emergency_overdue_and_pir(org: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHANGEGATE_ALLOW_CLOCK_OVERRIDE", "true")
    monkeypatch.setenv("CHANGEGATE_CLOCK", "2026-11-25T15:00:00Z")
    key = create(org, "--type", "emergency", "--justification", "checkout is down")
    org("change", "submit", key, *ALICE)
    assert org("change", "implement", key, *ALICE).code == 0
    monkeypatch.setenv("CHANGEGATE_CLOCK", "2026-12-04T00:00:00Z")
    rows = json.loads(org("change", "overdue", "--json").out)["items"]
    assert {(r["key"], r["obligation"], r["due_at"]) for r in rows} == {
        (key, "retroactive approval", "2026-12-04T00:00:00+00:00"),
        (key, "post-implementation review", "2026-12-04T00:00:00+00:00"),
    }
    assert org("pir", "record", key, *ALICE, "--summary", "cache flush fixed it").code == 0
    assert org("change", "close", key, *ALICE).code == 1
    exported = org("ledger", "export").out.splitlines()
    assert json.loads(exported[-1])["clock_override"] is True


def test_clock_override_must_be_enabled(org: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHANGEGATE_CLOCK", "2026-11-25T10:00:00Z")
    result = org("change", "list")
    assert result.code == 2 and "CHANGEGATE_ALLOW_CLOCK_OVERRIDE" in result.err


def test_uninitialised_database(cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHANGEGATE_DATABASE_URL", f"sqlite:///{tmp_path}/fresh.db")
    result = cli("change", "list")
    assert result.code == 2 and "run `changegate init`" in result.err
    assert not (tmp_path / "fresh.db").exists()  # a failed read creates no database file
    assert cli("init").code == 0
    assert json.loads(cli("change", "list", "--json").out)["items"] == []


def test_unreachable_database_is_one_line(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHANGEGATE_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none")
    result = cli("change", "list")
    assert result.code == 2 and result.err.startswith("error: cannot reach the database")
    assert len(result.err.strip().splitlines()) == 1


def test_users_list_and_disable(org: Cli) -> None:
    people = json.loads(org("user", "list", "--json").out)["items"]
    assert {p["email"]: p["roles"] for p in people}["ivy@example.com"] == ["iso"]
    assert org("user", "disable", "alice@example.com").code == 0
    result = org("change", "create", *ALICE, "--title", "t")
    assert result.code == 1 and "disabled" in result.err


def test_the_longest_valid_email_is_a_person_everywhere_it_is_written(cli: Cli) -> None:
    """254 characters (RFC 5321's limit): the person, their roles, a token, the ledger
    records that name them ("user:<email>"), on both databases."""
    email = "a" * 64 + "@" + ("b" * 61 + ".") * 3 + "com"
    assert len(email) == 254
    assert cli("user", "add", email, "--name", "Long", "--role", "cab").code == 0
    assert cli("token", "create", "--user", email, "--name", "t").code == 0
    assert cli("user", "disable", email).code == 0
    assert json.loads(cli("ledger", "verify", "--json").out)["ok"] is True
    assert cli("user", "add", "a" + email, "--name", "x", "--role", "cab").code == 2


def test_policy_show_and_check(cli: Cli, tmp_path: Path) -> None:
    shown = json.loads(cli("policy", "show", "--json").out)
    assert shown["policy"]["approvals"]["cab_quorum"] == {"low": 1, "medium": 1, "high": 2}
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text("timezone: America/New_York\napprovals:\n  cab_quorum: {high: 3}\n")
    bad.write_text("approvals:\n  cab_quorum: {high: 0}\n")
    assert cli("policy", "check", str(good)).code == 0
    result = cli("policy", "check", str(bad))
    assert result.code == 1 and "approvals.cab_quorum.high" in result.err
    assert cli("policy", "check", str(tmp_path / "missing.yaml")).code == 2


def test_custom_policy_changes_the_quorum(
    org: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(LOCAL_DECISIONS_POLICY + "approvals:\n  cab_quorum: {low: 2}\n")
    monkeypatch.setenv("CHANGEGATE_POLICY", str(policy))
    key = create(org)
    org("change", "submit", key, *ALICE)
    org("change", "show", key)
    org("change", "approve", key, "--as", "bob@example.com", "--role", "cab")
    result = org("change", "approve", key, "--as", "ivy@example.com", "--role", "iso")
    assert "awaiting 1 more CAB approval" in result.out


def test_checkpoint_signed_and_verified_from_a_file(
    org: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key_path = tmp_path / "ledger.pem"
    assert org("ledger", "keygen", "--out", str(key_path)).code == 0
    assert org("ledger", "keygen", "--out", str(key_path)).code == 2
    monkeypatch.setenv("CHANGEGATE_SIGNING_KEY", str(key_path))
    create(org)
    anchor = tmp_path / "cp.json"
    result = org("ledger", "checkpoint", "--out", str(anchor), "--json")
    assert result.code == 0 and json.loads(result.out)["signature"]
    verified = json.loads(org("ledger", "verify", "--checkpoint", str(anchor), "--json").out)
    # The file's checkpoint is the one the database holds: one checkpoint, counted once.
    assert verified["ok"] and verified["checkpoints"] == 1
    export = tmp_path / "ledger.jsonl"
    assert org("ledger", "export", "--out", str(export)).code == 0
    assert len(export.read_text().splitlines()) == verified["count"]


def test_user_github_links_and_unlinks_a_login(org: Cli) -> None:
    linked = org("user", "github", "bob@example.com", "Bob-Dev", "--json")
    assert linked.code == 0 and json.loads(linked.out)["github_login"] == "bob-dev"
    taken = org("user", "github", "carol@example.com", "BOB-DEV")
    assert taken.code == 2 and "already bob@example.com's" in taken.err
    bad = org("user", "github", "carol@example.com", "no_underscores")
    assert bad.code == 2 and "not a GitHub login" in bad.err
    assert "no GitHub account" in org("user", "github", "bob@example.com").out


def test_ledger_verify_state_names_an_approval_deleted_behind_its_back(
    org: Cli, db_url: str
) -> None:
    key = create(org)
    assert org("change", "submit", key, *ALICE).code == 0
    for who, role in (("bob@example.com", "cab"), ("ivy@example.com", "iso")):
        assert (
            org("change", "approve", key, "--as", who, "--role", role, "--version", "1").code == 0
        )
    clean = org("ledger", "verify", "--state")
    assert clean.code == 0, clean.out
    tables = ", ".join(ledger_state.CHECKED)
    assert f"live state matches the ledger ({tables})" in clean.out
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM approvals WHERE role = 'iso'"))
    engine.dispose()
    tampered = org("ledger", "verify", "--state")
    assert tampered.code == 1, tampered.out
    assert "ledger ok:" in tampered.out  # the chain itself is intact
    assert f"live state DIFFERS from the ledger ({tables}): 1 row" in tampered.out
    assert f"  approvals {key} row: ledger ivy@example.com iso approved 1 in time at " in (
        tampered.out
    )
    assert tampered.out.rstrip().endswith("; live (none)")
