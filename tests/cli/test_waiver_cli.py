"""`changegate waiver ...` as people run it: request, joint approval, review, quarterly review."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.conftest import Result

Cli = Callable[..., Result]
ALICE, BOB, IVY = (
    ("--as", "alice@example.com"),
    ("--as", "bob@example.com"),
    ("--as", "ivy@example.com"),
)
REQUEST = (
    "waiver",
    "request",
    *ALICE,
    "--title",
    "Skip staging for the hotfix",
    "--justification",
    "staging is down for a week",
    "--compensating",
    "canary at 1% with automatic rollback",
    "--control",
    "CM-4",
    "--control",
    "cm-5",
    "--scope",
    "change:CHG-1",
    "--days",
    "30",
)


@pytest.fixture
def org(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("CHANGEGATE_ALLOW_CLOCK_OVERRIDE", "true")
    monkeypatch.setenv("CHANGEGATE_CLOCK", "2026-09-01T09:00:00Z")
    for email, roles in (
        ("alice@example.com", ["requester"]),
        ("bob@example.com", ["cab"]),
        ("carol@example.com", ["cab"]),
        ("ivy@example.com", ["iso"]),
        ("aud@example.com", ["auditor"]),
    ):
        flags = [arg for role in roles for arg in ("--role", role)]
        assert cli("user", "add", email, "--name", email, *flags).code == 0
    made = cli("change", "create", *ALICE, "--title", "Hotfix checkout")
    assert made.out.strip() == "CHG-1", made.err
    return cli


def ledger_count(cli: Cli) -> int:
    return int(json.loads(cli("ledger", "verify", "--json").out)["count"])


def test_request_approve_review_and_sign_the_quarter(
    org: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = org(*REQUEST)
    assert (made.code, made.out.strip()) == (0, "WVR-1"), made.err
    refused = org("waiver", "approve", "WVR-1", *ALICE, "--role", "cab")
    assert refused.code == 1 and "does not hold the cab role" in refused.err
    half = org("waiver", "approve", "wvr-1", *BOB, "--role", "cab", "--comment", "ok")
    assert half.code == 0 and "status requested; awaiting the ISO's approval" in half.out
    done = org("waiver", "approve", "WVR-1", *IVY, "--role", "iso")
    assert done.code == 0
    assert "status active until 2026-10-01 09:00:00+00:00" in done.out
    shown = json.loads(org("waiver", "show", "WVR-1", "--json").out)
    assert (shown["controls"], shown["scope"]) == (
        ["CM-4", "CM-5"],
        {"kind": "change", "value": "CHG-1"},
    )
    assert [a["approver"] for a in shown["approvals"]] == ["bob@example.com", "ivy@example.com"]
    people = org("waiver", "show", "WVR-1")
    assert "compensating controls" in people.out and "Decisions" in people.out
    listed = org("waiver", "list")
    assert "WVR-1" in listed.out and "change:CHG-1" in listed.out

    monkeypatch.setenv("CHANGEGATE_CLOCK", "2026-09-30T09:00:00Z")
    renewed = org(
        "waiver",
        "review",
        "WVR-1",
        "--outcome",
        "renew",
        "--days",
        "10",
        "--notes",
        "canary held; staging back next week",
        "--as",
        "carol@example.com",
    )
    assert renewed.code == 0, renewed.err
    assert "renewal round 2 for 10 days awaits a CAB approval and the ISO's approval" in renewed.out
    early = org("waiver", "review", "--quarter", "2026-Q4", *IVY)
    assert early.code == 1 and "2026-Q4 has not ended yet" in early.err

    monkeypatch.setenv("CHANGEGATE_CLOCK", "2026-10-02T09:00:00Z")
    assert org("waiver", "review", "--quarter", "2026-Q3", *BOB).code == 1  # the ISO signs
    signed = json.loads(org("waiver", "review", "--quarter", "2026-q3", *IVY, "--json").out)[
        "report"
    ]
    assert signed["quarter"] == "2026-Q3" and signed["requested"] == ["WVR-1"]
    assert [a["key"] for a in signed["active"]] == ["WVR-1"] and signed["expired"] == []
    assert signed["counts"]["decisions"] == 2
    people = org("waiver", "review", "--quarter", "2026-Q3", *IVY)
    assert people.code == 0 and "2026-Q3: waiver review" in people.out
    renewing = json.loads(org("waiver", "list", "--status", "RENEWAL", "--json").out)["items"]
    assert renewing[0]["round"] == 2
    assert org("ledger", "verify").code == 0


def test_close_and_reject(org: Cli) -> None:
    org(*REQUEST)
    org("waiver", "approve", "WVR-1", *BOB, "--role", "cab")
    org("waiver", "approve", "WVR-1", *IVY, "--role", "iso")
    closed = org("waiver", "review", "WVR-1", "--outcome", "close", "--notes", "fixed", *IVY)
    assert (closed.code, closed.out.strip()) == (0, "WVR-1: closed")
    org(*REQUEST)
    rejected = org("waiver", "reject", "WVR-2", *IVY, "--role", "iso", "--comment", "no canary")
    assert rejected.code == 0 and "status rejected" in rejected.out
    again = org("waiver", "approve", "WVR-2", *BOB, "--role", "cab")
    assert again.code == 1 and "nothing awaits a decision" in again.err
    statuses = [w["status"] for w in json.loads(org("waiver", "list", "--json").out)["items"]]
    assert statuses == ["closed", "rejected"]


@pytest.mark.parametrize(
    "args",
    [
        ("--control", "XX-9"),
        ("--scope", "production"),
        ("--scope", "team:payments"),
        ("--scope", "change:CHG-7"),
        ("--scope", "environment:moon"),
        ("--days", "0"),
        ("--days", "soon"),
        ("--justification", "  "),
        ("--compensating", ""),
        ("--as", "nobody@example.com"),
    ],
)
def test_bad_request_is_one_line_exit_2_and_writes_nothing(org: Cli, args: tuple[str, ...]) -> None:
    before = ledger_count(org)
    result = org(*REQUEST, *args)  # a repeated option: Typer keeps the last one given
    assert result.code == 2, (result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err
    assert "internal error" not in result.err and "Traceback" not in result.err + result.out
    assert ledger_count(org) == before
    assert json.loads(org("waiver", "list", "--json").out)["total"] == 0


@pytest.mark.parametrize(
    "args",
    [
        ("waiver", "show", "WVR-9"),
        ("waiver", "show", "CHG-1"),
        ("waiver", "approve", "WVR-1", "--as", "bob@example.com", "--role", "king"),
        ("waiver", "reject", "WVR-1", "--as", "ivy@example.com", "--role", "iso", "--comment", " "),
        ("waiver", "review", "--as", "ivy@example.com"),
        ("waiver", "review", "WVR-1", "--as", "ivy@example.com", "--notes", "x"),
        ("waiver", "review", "WVR-1", "--as", "ivy@example.com", "--outcome", "extend"),
        ("waiver", "review", "WVR-1", "--as", "ivy@example.com", "--outcome", "close"),
        ("waiver", "review", "WVR-1", "--quarter", "2026-Q3", "--as", "ivy@example.com"),
        ("waiver", "review", "--quarter", "2026-Q9", "--as", "ivy@example.com"),
        ("waiver", "list", "--status", "asleep"),
        ("waiver", "frobnicate"),
    ],
)
def test_other_bad_input_is_one_line_exit_2_and_writes_nothing(
    org: Cli, args: tuple[str, ...]
) -> None:
    assert org(*REQUEST).code == 0
    before = ledger_count(org)
    result = org(*args)
    assert result.code == 2, (result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err
    assert "internal error" not in result.err and "Traceback" not in result.err + result.out
    assert ledger_count(org) == before


def test_refusals_exit_1(org: Cli) -> None:
    too_long = org(*REQUEST, "--days", "400")
    assert too_long.code == 1 and "EXC-1" in too_long.err and "waivers.max_days" in too_long.err
    assert org(*REQUEST, *("--as", "aud@example.com")).code == 1
    org(*REQUEST)
    early = org("waiver", "review", "WVR-1", "--outcome", "close", "--notes", "x", *IVY)
    assert early.code == 1 and "WVR-1 is requested" in early.err


def test_text_prints_as_typed_not_as_markup(org: Cli) -> None:
    made = org(*REQUEST, "--title", "Skip [red]staging[/x]")
    assert made.code == 0, made.err
    for args in (("waiver", "list"), ("waiver", "show", "WVR-1")):
        shown = org(*args)
        assert shown.code == 0 and "Skip [red]staging[/x]" in shown.out, shown.err
