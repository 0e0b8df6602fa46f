"""`changegate ledger verify --state` over drifts, findings, baselines and reviews, as an
auditor runs it; `--record` puts a passing check on the ledger, and the audit warns until one
covers the period it reads."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.cli.test_configuration_cli import TEMPLATE, snapshot
from tests.conftest import Result

Cli = Callable[..., Result]
SAM, SEC, ISO = (
    ("--as", "sam@example.com"),
    ("--as", "sec@example.com"),
    ("--as", "ivy@example.com"),
)
WARNING = (
    "warning: ledger state not verified: no passing `changegate ledger verify --state --record` "
    "at or after 2026-10-01T00:00:00.000000+00:00"
)


@pytest.fixture
def audited(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """Baseline `logs` v1 approved; drift #1 opened on 2026-09-01 and never remediated; the ISO
    audits 2026-Q3 on 09-04 (FND-5 and FND-6: CFG-2 and CFG-4 of drift #1); on 10-02 the
    security engineer signs the quarter's baseline verification (review #1)."""
    monkeypatch.setenv("CHANGEGATE_ALLOW_CLOCK_OVERRIDE", "true")
    monkeypatch.setenv("CHANGEGATE_CLOCK", "2026-09-01T09:00:00Z")
    for email, role in (("sam", "security_engineer"), ("sec", "security_engineer"), ("ivy", "iso")):
        assert cli("user", "add", f"{email}@example.com", "--name", email, "--role", role).code == 0
    template = tmp_path / "stack.yaml"
    template.write_text(TEMPLATE)
    assert cli("baseline", "import", str(template), "--name", "logs", *SAM).code == 0
    assert cli("baseline", "approve", "logs", *SEC).code == 0
    seen = snapshot(tmp_path / "a.json", "2026-09-01T08:00:00Z", "Suspended")
    assert cli("config", "ingest", str(seen), *SAM).code == 1  # one malformed item beside it
    assert json.loads(cli("drift", "scan", *SAM, "--json").out)["opened"] == [1]
    monkeypatch.setenv("CHANGEGATE_CLOCK", "2026-09-04T09:00:00Z")
    run = cli("audit", "run", "--period", "2026-Q3", *ISO, "--json")
    assert run.code == 1  # open findings
    rules = {f["key"]: f["rule"] for f in json.loads(run.out)["findings"]}
    assert rules == {
        "FND-1": "CFG-3.quarterly-verification-missing",
        "FND-2": "CM-6.quarterly-review-missing",
        "FND-3": "EXC-1.quarterly-review-missing",
        # The baseline was approved through --as, which this test's policy allows.
        "FND-4": "AUTH-1.unauthenticated-decision",
        "FND-5": "CFG-2.unauthorised-drift",
        "FND-6": "CFG-4.drift-overdue",
    }
    monkeypatch.setenv("CHANGEGATE_CLOCK", "2026-10-02T09:00:00Z")
    assert cli("baseline", "verify", "--quarter", "2026-Q3", *SEC).code == 0
    return cli


def sql(url: str, *statements: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def test_the_audit_warns_until_a_passing_state_check_is_recorded(audited: Cli) -> None:
    clean = audited("ledger", "verify", "--state")
    assert clean.code == 0, clean.out
    assert (
        "drifts, findings, baselines, baseline_resources, reviews, disciplinary_actions, "
        "trail_events, workspace_files)" in clean.out
    )
    assert WARNING in audited("audit", "run", "--dry-run", "--period", "2026-Q3", *ISO).out
    no_state = audited("ledger", "verify", "--record", *ISO)
    assert no_state.code == 2 and no_state.err.strip() == (
        "error: --record records a passing state check: add --state"
    )
    nobody = audited("ledger", "verify", "--state", "--record")
    assert nobody.code == 2 and "give --as EMAIL" in nobody.err
    recorded = audited("ledger", "verify", "--state", "--record", *ISO)
    assert recorded.code == 0, recorded.out + recorded.err
    assert "recorded: ledger.state_verified (head seq " in recorded.out
    after = audited("audit", "run", "--dry-run", "--period", "2026-Q3", *ISO, "--json")
    assert json.loads(after.out)["run"]["warnings"] == []
    stored = audited("audit", "run", "--period", "2026-Q3", *ISO)
    assert "warning:" not in stored.out


def test_a_failing_check_is_not_recorded(audited: Cli, db_url: str) -> None:
    sql(db_url, "DELETE FROM drifts WHERE id = 1")
    refused = audited("ledger", "verify", "--state", "--record", *ISO)
    assert refused.code == 1
    assert "  drifts #1 row: ledger present; live (none)" in refused.out
    assert "not recorded: the check did not pass" in refused.out
    exported = audited("ledger", "export").out
    assert "ledger.state_verified" not in exported


TAMPERING = {
    "drifts": (
        [
            "UPDATE drifts SET status = 'remediated', authorised_by = 'CHG-9' WHERE id = 1",
            "INSERT INTO drifts (baseline_resource_id, resource_type, resource_id, status, "
            "observation_id, differences, detected_at, reopened, lock_version) "
            "SELECT baseline_resource_id, resource_type, resource_id, 'open', observation_id, "
            "differences, detected_at, 0, 1 FROM drifts WHERE id = 1",
        ],
        [
            "  drifts #1 status: ledger open; live remediated",
            "  drifts #1 authorised_by: ledger None; live CHG-9",
            "  drifts #2 row: ledger (none); live present",
        ],
    ),
    "findings": (
        [
            "UPDATE findings SET status = 'dismissed', waiver_key = 'WVR-1' WHERE key = 'FND-6'",
            "INSERT INTO findings (number, key, fingerprint, control, rule, subject, summary, "
            "evidence, attributes, status, occurred_at, first_detected_at, last_detected_at, "
            "first_run_id, lock_version) SELECT 7, 'FND-7', 'forged', control, rule, subject, "
            "summary, evidence, attributes, 'open', occurred_at, first_detected_at, "
            "last_detected_at, first_run_id, 1 FROM findings WHERE key = 'FND-5'",
            "DELETE FROM findings WHERE key = 'FND-5'",
        ],
        [
            "  findings FND-5 row: ledger present; live (none)",
            "  findings FND-6 status: ledger open; live dismissed",
            "  findings FND-6 waiver_key: ledger None; live WVR-1",
            "  findings FND-7 row: ledger (none); live present",
        ],
    ),
    "baselines": (
        [
            "UPDATE baselines SET source_sha256 = 'f00d', approver_id = author_id",
            "INSERT INTO baselines (name, version, status, source, source_ref, source_sha256, "
            "author_id, created_at, lock_version) SELECT 'logs', 2, 'approved', source, "
            "source_ref, source_sha256, author_id, created_at, 1 FROM baselines",
        ],
        [
            "  baselines logs v1 approver: ledger sec@example.com; live sam@example.com",
            "  baselines logs v2 row: ledger (none); live present",
            "  baseline_resources logs v2 row: ledger (none); live present",
        ],
    ),
    "reviews": (
        [
            "UPDATE reviews SET author_id = (SELECT id FROM users WHERE email = 'sam@example.com')",
            "INSERT INTO reviews (kind, author_id, summary, recorded_at) "
            "SELECT 'pir', author_id, '{}', recorded_at FROM reviews",
        ],
        [
            "  reviews #1 author: ledger sec@example.com; live sam@example.com",
            "  reviews #2 row: ledger (none); live present",
        ],
    ),
}


@pytest.mark.parametrize("table", sorted(TAMPERING))
def test_rows_changed_behind_changegates_back_are_named(
    audited: Cli, db_url: str, table: str
) -> None:
    statements, lines = TAMPERING[table]
    sql(db_url, *statements)
    tampered = audited("ledger", "verify", "--state")
    assert tampered.code == 1, tampered.out
    assert "ledger ok:" in tampered.out  # the chain itself is intact
    for line in lines:
        assert line in tampered.out, tampered.out


def test_every_newly_covered_table_is_tampered_with() -> None:
    assert sorted(TAMPERING) == ["baselines", "drifts", "findings", "reviews"]
