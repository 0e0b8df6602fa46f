"""The real-world cases (tests/fixtures/real-world/README.md), each run as a user would run it
and answered with the value the README names, on both databases."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result
from tests.fixtures import fixture

Cli = Callable[..., Result]
SAM, SEC = ("--as", "sam@example.com"), ("--as", "sec@example.com")
ALICE, CI = ("--as", "alice@example.com"), ("--as", "ci@example.com")


def case(name: str) -> str:
    return str(fixture("real-world", name))


@pytest.fixture
def team(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("CHANGEGATE_ALLOW_CLOCK_OVERRIDE", "true")
    monkeypatch.setenv("CHANGEGATE_CLOCK", "2026-11-20T10:00:00Z")
    for email, role in (
        ("sam@example.com", "security_engineer"),
        ("sec@example.com", "security_engineer"),
        ("alice@example.com", "requester"),
        ("bob@example.com", "cab"),
        ("ivy@example.com", "iso"),
        ("ci@example.com", "pipeline"),
    ):
        assert cli("user", "add", email, "--name", email, "--role", role).code == 0
    return cli


def scan_after(team: Cli, template: str, config: str, *extra: str) -> dict[str, object]:
    imported = team("baseline", "import", case(template), "--name", "b", *extra, *SAM)
    assert imported.code == 0, imported.err
    assert team("baseline", "approve", "b", "--version", "1", *SEC).code == 0
    ingested = team("config", "ingest", case(config), *SAM)
    assert ingested.code == 0 and "ingested 1 configuration item" in ingested.out, ingested
    scanned = team("drift", "scan", "--json", *SAM)
    assert scanned.code == 0, scanned.err
    return dict(json.loads(scanned.out))


@pytest.mark.parametrize(
    ("template", "config"),
    [
        ("case-05-template.yaml", "case-05-config.json"),  # versioning is supplementary
        ("case-10-template.yaml", "case-10-config.json"),  # tags are a map, any order
    ],
)
def test_a_resource_exactly_as_declared_has_no_drift(team: Cli, template: str, config: str) -> None:
    scan = scan_after(team, template, config)
    assert (scan["opened"], scan["unverifiable"]) == ([], 0)
    assert json.loads(team("drift", "list", "--json").out)["total"] == 0


def test_case_07_a_dynamic_reference_is_unverifiable_and_the_rest_compared(team: Cli) -> None:
    scan = scan_after(
        team, "case-07-template.yaml", "case-07-config.json", "--physical", "Host=i-0000aaaa"
    )
    assert (scan["opened"], scan["unverifiable"]) == ([], 1)
    shown = json.loads(team("baseline", "show", "b", "--json").out)
    [host] = shown["declared"]
    assert [u["path"] for u in host["unverifiable"]] == ["/ImageId"]
    assert host["properties"]["InstanceType"] == "t3.micro"
    full = team("drift", "scan", "--full", *SAM).out
    assert "0 new drift" in full and "1 declared property of the 1 compared unverifiable" in full


def test_case_07_instance_type_is_compared(team: Cli, tmp_path: Path) -> None:
    """The counter-test: the same item with another instance type is a drift."""
    observed = json.loads(Path(case("case-07-config.json")).read_text())
    inner = json.loads(observed["configuration"])
    observed["configuration"] = json.dumps(inner | {"instanceType": "t3.large"})
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(observed))
    team("baseline", "import", case("case-07-template.yaml"), "--name", "b", *SAM,
         "--physical", "Host=i-0000aaaa")  # fmt: skip
    team("baseline", "approve", "b", "--version", "1", *SEC)
    assert team("config", "ingest", str(changed), *SAM).code == 0
    scan = json.loads(team("drift", "scan", "--json", *SAM).out)
    assert len(scan["opened"]) == 1
    [found] = json.loads(team("drift", "list", "--json").out)["items"]
    assert found["differences"] == [
        {"path": "/InstanceType", "expected": "t3.micro", "actual": "t3.large"}
    ]


def test_case_08_language_extensions_expand_for_each(team: Cli) -> None:
    imported = team("baseline", "import", case("case-08.yaml"), "--name", "b", "--json", *SAM)
    assert imported.code == 0, imported.err
    assert json.loads(imported.out)["resources"] == 3
    shown = json.loads(team("baseline", "show", "b", "--json").out)
    logical = sorted(r["logical_id"] for r in shown["declared"])
    assert logical == ["AuditQueue", "SnsTopicFailure", "SnsTopicSuccess"]


def test_case_12_an_eventbridge_envelope_is_ingested(team: Cli) -> None:
    ingested = team("config", "ingest", case("case-12.json"), "--json", *SAM)
    assert ingested.code == 0, ingested.err
    assert json.loads(ingested.out) == {"added": 1, "duplicates": 0, "skipped": []}
    [item] = json.loads(team("config", "list", "--json").out)["items"]
    assert (item["resource_type"], item["resource_id"]) == (
        "AWS::EFS::FileSystem",
        "fs-00000000000000000",
    )


def test_case_13_business_days_follow_the_israeli_week(
    team: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHANGEGATE_POLICY", case("case-13-policy.yaml"))
    monkeypatch.setenv("CHANGEGATE_CLOCK", "2026-01-04T08:00:00Z")  # Sunday 10:00 in Jerusalem
    created = team(
        "change", "create", *ALICE, "--type", "emergency", "--title", "Hotfix",
        "--justification", "outage", "--scope", "api", "--impact", "none",
        "--rollback", "revert", "--ticket", "ENG-1",
    )  # fmt: skip
    key = created.out.strip()
    assert team("change", "submit", key, *ALICE).code == 0
    assert team("change", "implement", key, *ALICE).code == 0
    due = json.loads(team("change", "show", key, "--json").out)["due"]
    assert due["retro_approval"] == due["pir"] == "2026-01-11T22:00:00+00:00"
    assert "end of Sun 2026-01-11 (Asia/Jerusalem)" in team("change", "show", key).out


def record_and_gate(team: Cli, report: str) -> tuple[Result, Result]:
    key = team(
        "change", "create", *ALICE, "--title", "Ship", "--scope", "api", "--impact", "none",
        "--rollback", "revert", "--ticket", "ENG-2", "--risk", "low", "--env", "production",
    ).out.strip()  # fmt: skip
    assert team("change", "submit", key, *ALICE).code == 0
    assert (
        team(
            "change", "approve", key, "--role", "cab", "--as", "bob@example.com", "--version", "1"
        ).code
        == 0
    )
    assert (
        team(
            "change", "approve", key, "--role", "iso", "--as", "ivy@example.com", "--version", "1"
        ).code
        == 0
    )
    commit = "a" * 40
    recorded = team(
        "test", "record", key, "--env", "staging", "--commit", commit, "--junit", report, *CI
    )  # fmt: skip
    gate = team("gate", "check", "--change", key, "--env", "production", "--commit", commit, *CI)
    return recorded, gate


@pytest.mark.parametrize(
    ("report", "why"),
    [
        ("case-02.xml", "no test executed (3 skipped, 0 not run)"),
        ("case-03.xml", "no test executed (0 skipped, 2 not run)"),
    ],
)
def test_a_run_in_which_no_test_executed_is_not_evidence(team: Cli, report: str, why: str) -> None:
    recorded, gate = record_and_gate(team, case(report))
    assert recorded.code == 0 and "NOT passing" in recorded.out and why in recorded.out
    assert gate.code == 1
    assert f"NO  CM-4: run #1 in staging for aaaaaaaaaaaa is not passing evidence: {why}" in (
        gate.out
    )


def test_a_warning_fails_a_run_unless_the_policy_says_otherwise(
    team: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = str(fixture("junit-xml", "shaped", "phpunit-warning.xml"))
    recorded, gate = record_and_gate(team, report)
    assert "NOT passing: 1 of 3 executed ended with a warning" in recorded.out
    assert "2 passed, 0 failed, 0 errored, 0 skipped, 0 not run, 1 with warnings" in recorded.out
    assert gate.code == 1
    lenient = tmp_path / "policy.yaml"
    lenient.write_text("tests: {warnings: pass}\n")
    monkeypatch.setenv("CHANGEGATE_POLICY", str(lenient))
    again = team("gate", "check", "--change", "CHG-1", "--env", "production",
                 "--commit", "a" * 40, *CI)  # fmt: skip
    # Judged again under the policy in force, but the stored verdict was strict: still denied.
    assert again.code == 1
    second = team("test", "record", "CHG-1", "--env", "staging", "--commit", "a" * 40,
                  "--junit", report, *CI)  # fmt: skip
    assert "passing: 3 passed of 3 executed" in second.out
    third = team("gate", "check", "--change", "CHG-1", "--env", "production",
                 "--commit", "a" * 40, *CI)  # fmt: skip
    assert third.code == 0, third.out
    runs = json.loads(team("test", "list", "CHG-1", "--json").out)
    assert [(r["ok"], r["warnings"], r["executed"]) for r in runs["items"]] == [
        (False, 1, 3),
        (True, 1, 3),
    ]
