"""The ISO's quarter, as run from a terminal: drift goes unremediated, the audit finds it, the
ISO confirms, HR records discipline, the auditor re-performs the audit and sees only that
discipline exists."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.test_configuration_cli import TEMPLATE, snapshot
from tests.conftest import Result

Cli = Callable[..., Result]
ISO, HR = ("--as", "ivy@example.com"), ("--as", "hana@example.com")
AUD = ("--as", "aud@example.com")
SAM, SEC = ("--as", "sam@example.com"), ("--as", "sec@example.com")


@pytest.fixture
def drifted(cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    """An approved baseline whose bucket drifted on 1 Sep and was never fixed."""
    monkeypatch.setenv("CHANGEGATE_ALLOW_CLOCK_OVERRIDE", "true")
    monkeypatch.setenv("CHANGEGATE_CLOCK", "2026-09-01T09:00:00Z")
    for email, role in (
        ("sam@example.com", "security_engineer"),
        ("sec@example.com", "security_engineer"),
        ("ivy@example.com", "iso"),
        ("hana@example.com", "hr"),
        ("aud@example.com", "auditor"),
        ("rob@example.com", "requester"),
    ):
        assert cli("user", "add", email, "--name", email, "--role", role).code == 0
    template = tmp_path / "stack.yaml"
    template.write_text(TEMPLATE)
    assert cli("baseline", "import", str(template), "--name", "logs", *SAM).code == 0
    assert cli("baseline", "approve", "logs", *SEC).code == 0
    cli(
        "config",
        "ingest",
        str(snapshot(tmp_path / "a.json", "2026-09-01T08:00:00Z", "Suspended")),
        *SAM,
    )
    assert cli("drift", "scan", *SAM).code == 0
    monkeypatch.setenv("CHANGEGATE_CLOCK", "2026-09-10T09:00:00Z")
    return cli


def rules_of(out: str) -> dict[str, dict[str, object]]:
    return {f["rule"]: f for f in json.loads(out)["findings"]}


def test_audit_finds_unremediated_drift_and_rerun_adds_nothing(drifted: Cli) -> None:
    first = drifted("audit", "run", "--period", "2026-Q3", *ISO, "--json")
    assert first.code == 1  # open violations: a failed check
    found = rules_of(first.out)
    assert found["CFG-2.unauthorised-drift"]["status"] == "open"
    assert found["CFG-4.drift-overdue"]["occurred_at"] == "2026-09-03T09:00:00+00:00"
    again = drifted("audit", "run", "--period", "2026-Q3", *ISO)
    n = len(found)
    summary = f"{n} findings: 0 new this run, {n} raised before; of all, 0 suppressed by waivers"
    assert again.code == 1 and summary in again.out, again.out
    assert json.loads(first.out)["run"]["counts"]["raised"] == n


def test_confirm_discipline_and_what_the_auditor_sees(drifted: Cli) -> None:
    key = rules_of(drifted("audit", "run", "--period", "2026-Q3", *ISO, "--json").out)[
        "CFG-4.drift-overdue"
    ]["key"]
    confirmed = drifted("finding", "confirm", str(key), *ISO)  # Thu 10 Sep: due end of Tue 15
    assert confirmed.code == 0 and "remediation due end of Tue 2026-09-15 (UTC)" in confirmed.out
    refused = drifted(
        "finding",
        "discipline",
        str(key),
        "--person",
        "rob@example.com",
        "--action",
        "warning",
        *ISO,
    )
    assert refused.code == 1 and refused.err.count("\n") == 1
    assert (
        drifted(
            "finding",
            "discipline",
            str(key),
            "--person",
            "rob@example.com",
            "--action",
            "final_warning",
            "--notes",
            "third time",
            *HR,
        ).code
        == 0
    )
    seen = json.loads(drifted("finding", "show", str(key), *AUD, "--json").out)
    assert seen["disciplinary_actions"] is None and seen["disciplinary_action_count"] == 1
    by_hr = json.loads(drifted("finding", "show", str(key), *HR, "--json").out)
    assert by_hr["disciplinary_actions"][0]["action"] == "final_warning"
    fixed = drifted(
        "finding",
        "remediate",
        str(key),
        "--kind",
        "fix",
        "--description",
        "versioning re-enabled",
        *SAM,
        "--json",
    )
    assert fixed.code == 0 and json.loads(fixed.out)["status"] == "closed"


def test_auditor_reperforms_without_writing(drifted: Cli) -> None:
    stored = json.loads(drifted("audit", "run", "--period", "2026-Q3", *ISO, "--json").out)
    dry = drifted("audit", "run", "--period", "2026-Q3", "--dry-run", *AUD, "--json")
    assert json.loads(dry.out)["run"]["digest"] == stored["run"]["digest"]
    listed = json.loads(drifted("finding", "list", *AUD, "--json").out)
    assert len(listed["items"]) == listed["total"] == len(stored["findings"])
    newest = json.loads(drifted("finding", "list", "--limit", "2", *AUD, "--json").out)
    assert [f["key"] for f in newest["items"]] == [f["key"] for f in listed["items"][:2]]
    assert newest["total"] == listed["total"]
    refused = drifted("audit", "run", "--period", "2026-Q3", *AUD)
    assert refused.code == 1 and "needs the iso or admin role" in refused.err


def test_signed_quarterly_review_clears_cm6(drifted: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    early = drifted("review", "metrics", "--quarter", "2026-Q3", *ISO)
    assert early.code == 1 and "has not ended" in early.err
    monkeypatch.setenv("CHANGEGATE_CLOCK", "2026-10-05T09:00:00Z")
    signed = drifted("review", "metrics", "--quarter", "2026-Q3", *ISO, "--json")
    assert signed.code == 0
    assert json.loads(signed.out)["report"]["quarter"] == "2026-Q3"
    monkeypatch.setenv("CHANGEGATE_CLOCK", "2026-11-01T09:00:00Z")
    q4 = rules_of(drifted("audit", "run", "--period", "2026-Q4", *ISO, "--json").out)
    assert "CM-6.quarterly-review-missing" not in q4
    assert "CFG-3.quarterly-verification-missing" in q4  # nobody verified the baselines


@pytest.mark.parametrize(
    "args",
    [
        ("audit", "run", "--period", "2026-Q9", *ISO),
        ("audit", "run", "--period", "last year", *ISO),
        ("finding", "confirm", "FND-x", *ISO),
        ("finding", "confirm", "FND-99", *ISO),
        ("finding", "remediate", "FND-1", "--kind", "pray", "--description", "x", *ISO),
        ("finding", "dismiss", "FND-1", "--reason", " ", *ISO),
        ("finding", "list", "--status", "sideways", *ISO),
        ("finding", "list", "--limit", "0", *ISO),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(drifted: Cli, args: tuple[str, ...]) -> None:
    drifted("audit", "run", "--period", "2026-Q3", *ISO)
    before = drifted("finding", "list", *ISO, "--json").out
    result = drifted(*args)
    assert result.code == 2, result.err
    assert result.err.count("\n") == 1 and "internal error" not in result.err
    assert drifted("finding", "list", *ISO, "--json").out == before
