"""`changegate cab meeting ...` as a user runs it, on both databases, locally and through a
server: the whole meeting, refusals with their exit codes, bad input as one line and exit 2."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result

Cli = Callable[..., Result]
BOB, CAROL, IVY = (
    ("--as", "bob@example.com"),
    ("--as", "carol@example.com"),
    ("--as", "ivy@example.com"),
)


@pytest.fixture
def org(cli: Cli) -> Cli:
    for email, name, roles in (
        ("alice@example.com", "Alice", ["requester"]),
        ("bob@example.com", "Bob", ["cab"]),
        ("carol@example.com", "Carol", ["cab"]),
        ("ivy@example.com", "Ivy", ["iso"]),
        ("aud@example.com", "Audrey", ["auditor"]),
    ):
        flags = [arg for role in roles for arg in ("--role", role)]
        assert cli("user", "add", email, "--name", name, *flags).code == 0
    return cli


def submitted(cli: Cli, risk: str = "low") -> str:
    made = cli(
        "change", "create", "--as", "alice@example.com", "--title", "Rotate certs",
        "--scope", "gateway", "--impact", "reconnects", "--rollback", "old cert",
        "--risk", risk, "--ticket", "ENG-7",
    )  # fmt: skip
    assert made.code == 0, made.err
    key = made.out.strip()
    assert cli("change", "submit", key, "--as", "alice@example.com").code == 0
    return key


def ledger_count(cli: Cli) -> int:
    return int(json.loads(cli("ledger", "verify", "--json").out)["count"])


def test_a_meeting_from_agenda_to_minutes_document(org: Cli, tmp_path: Path) -> None:
    key = submitted(org)
    made = org(
        "cab", "meeting", "create", "--at", "2026-12-03T14:00:00Z", "--title", "Weekly", *BOB
    )
    assert made.code == 0, made.err
    assert made.out.strip() == "CAB meeting 1 at 2026-12-03 14:00:00+00:00: 1 item on the agenda"
    for who in (BOB, IVY):
        assert org("cab", "meeting", "attend", "1", *who).code == 0
    decided = org("cab", "meeting", "decide", "1", key, "approve", "--version", "1", *BOB)
    assert decided.out.strip() == (
        f"{key}: approved by bob@example.com as cab at CAB meeting 1 (version 1); "
        "change status submitted"
    )
    decided = org("cab", "meeting", "decide", "1", key, "APPROVE", "--version", "1", *IVY)
    assert decided.code == 0 and decided.out.strip().endswith("change status approved")
    minutes = tmp_path / "minutes.txt"
    minutes.write_text("Approved the certificate rotation.\n", encoding="utf-8")
    assert org("cab", "meeting", "minutes", "1", "--file", str(minutes), *IVY).code == 0
    closed = org("cab", "meeting", "close", "1", *BOB)
    assert closed.code == 0 and closed.out.startswith("CAB meeting 1 closed; minutes sha256 ")
    digest = closed.out.split()[-1]
    shown = json.loads(org("cab", "meeting", "show", "1", "--json", "--as", "aud@example.com").out)
    assert (shown["status"], shown["minutes_sha256"]) == ("closed", digest)
    assert shown["minutes"] == "Approved the certificate rotation.\n"
    text = org("cab", "meeting", "show", "1").out
    assert "Weekly (closed)" in text and "bob@example.com (cab)" in text and digest in text
    listed = org("cab", "meeting", "list").out
    assert "Weekly" in listed and "closed" in listed
    html, pdf = tmp_path / "m.html", tmp_path / "m.pdf"
    assert org("cab", "meeting", "minutes-doc", "1", "--out", str(html)).code == 0
    assert digest in html.read_text(encoding="utf-8") and "ivy@example.com" in html.read_text()
    doc = org("cab", "meeting", "minutes-doc", "1", "--format", "pdf", "--out", str(pdf), "--json")
    assert json.loads(doc.out)["format"] == "pdf" and pdf.read_bytes().startswith(b"%PDF")
    after = org("cab", "meeting", "attend", "1", *CAROL)
    assert after.code == 1 and "cannot attend a CAB meeting that is closed" in after.err


def test_refusals_exit_1_and_write_nothing(org: Cli) -> None:
    key = submitted(org)
    assert org("cab", "meeting", "create", "--at", "2026-12-03T14:00:00Z", *BOB).code == 0
    before = ledger_count(org)
    absent = org("cab", "meeting", "decide", "1", key, "approve", "--version", "1", *BOB)
    assert absent.code == 1 and "is not marked present" in absent.err
    other = org("cab", "meeting", "attend", "1", "--person", "carol@example.com", *BOB)
    assert other.code == 1 and "may mark only themself present" in other.err
    outsider = org(
        "cab", "meeting", "create", "--at", "2026-12-03T14:00:00Z", "--as", "alice@example.com"
    )
    assert outsider.code == 1 and "needs the cab or iso role" in outsider.err
    assert ledger_count(org) == before


BAD = [
    ("cab", "meeting", "create", "--at", "tomorrow", *BOB),
    ("cab", "meeting", "create", "--at", "2026-12-03T14:00:00", *BOB),
    ("cab", "meeting", "create", "--at", "2026-12-03T14:00:00Z", "--title", "T" * 301, *BOB),
    ("cab", "meeting", "create", "--at", "2026-12-03T14:00:00Z"),
    ("cab", "meeting", "show", "7"),
    ("cab", "meeting", "show", "0"),
    ("cab", "meeting", "attend", "seven", *BOB),
    ("cab", "meeting", "decide", "1", "CHG-1", "maybe", "--version", "1", *BOB),
    ("cab", "meeting", "decide", "1", "CHG-1", "approve", *BOB),
    ("cab", "meeting", "decide", "1", "banana", "approve", "--version", "1", *BOB),
    ("cab", "meeting", "decide", "1", "CHG-1", "defer", "--version", "1", *BOB),
    ("cab", "meeting", "decide", "1", "CHG-1", "approve", "--version", "2", *BOB),
    ("cab", "meeting", "minutes", "1", *BOB),
    ("cab", "meeting", "minutes", "1", "--text", "a", "--file", "/etc/hostname", *BOB),
    ("cab", "meeting", "minutes", "1", "--file", "/nonexistent/minutes.txt", *BOB),
    ("cab", "meeting", "minutes", "1", "--text", "x" * 100_001, *BOB),
    ("cab", "meeting", "minutes-doc", "1", "--out", "/nonexistent/dir/m.html"),
    ("cab", "meeting", "minutes-doc", "1", "--format", "docx", "--out", "m.docx"),
]


@pytest.mark.parametrize("args", BAD)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(org: Cli, args: tuple[str, ...]) -> None:
    assert len(BAD) >= 18
    key = submitted(org)
    assert key == "CHG-1"
    assert org("cab", "meeting", "create", "--at", "2026-12-03T14:00:00Z", *BOB).code == 0
    assert org("cab", "meeting", "attend", "1", *BOB).code == 0
    before = ledger_count(org)
    result = org(*args)
    assert result.code == 2, (result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err
    assert "internal error" not in result.err and "Traceback" not in result.err + result.out
    assert ledger_count(org) == before


def test_the_demo_holds_one_closed_meeting_that_defers_what_awaits_cab(cli: Cli) -> None:
    assert cli("demo", "--seed-only").code == 0
    listed = json.loads(cli("cab", "meeting", "list", "--json").out)
    assert [(m["id"], m["status"], m["items"], m["attendees"]) for m in listed["items"]] == [
        (1, "closed", 4, 3)
    ]
    shown = json.loads(cli("cab", "meeting", "show", "1", "--json").out)
    # The demo's three submitted changes and CHG-47, the emergency awaiting its retro approval.
    assert [(i["change"], i["kind"]) for i in shown["agenda"]] == [
        ("CHG-44", "approval"),
        ("CHG-47", "retroactive"),
        ("CHG-48", "approval"),
        ("CHG-50", "approval"),
    ]
    decided = [d for i in shown["agenda"] for d in i["decisions"]]
    assert [(d["outcome"], d["approval_id"]) for d in decided] == [("deferred", None)] * 4
    assert shown["held_at"].startswith("2026-09-") and len(shown["minutes_sha256"]) == 64
    assert json.loads(cli("ledger", "verify", "--json").out)["ok"] is True
