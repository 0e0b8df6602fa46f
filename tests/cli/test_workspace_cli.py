"""Google Workspace as the filing cabinet (issue 15), through the CLI and the worker, against a
local Drive v3 over TLS: filing a run under CHG-n/, verifying a Doc, the gate's requirement,
and Drive down (a filing waits and is delivered once, even across a kill -9 of the worker)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from changegate.sandbox.drive import FakeDrive, evidence_drive, render_pdf
from tests.conftest import LOCAL_DECISIONS_POLICY, Result
from tests.integrations.fake_github import generate_private_key_pem

Cli = Callable[..., Result]
ALICE = ("--as", "alice@example.com")
CI = ("--as", "ci@example.com")
IVY = ("--as", "ivy@example.com")
GATE = ("gate", "check")
COMMIT = "c" * 40
REPORT = Path(__file__).parents[1] / "fixtures/junit-xml/edge-cases/enricomi__testsuite-root.xml"
T0 = "2026-11-30T10:00:00Z"


@pytest.fixture(scope="module")
def service_key() -> bytes:
    return generate_private_key_pem()


@pytest.fixture
def drive(tmp_path: Path, service_key: bytes) -> Iterator[FakeDrive]:
    with evidence_drive(tmp_path, service_key) as fake:
        yield fake
    assert not fake.errors, fake.errors


@pytest.fixture
def team(cli: Cli, drive: FakeDrive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """People, a policy naming the peer's shared drive, and the service account's settings."""
    policy = tmp_path / "workspace-policy.yaml"
    policy.write_text(LOCAL_DECISIONS_POLICY + f"workspace:\n  shared_drive: {drive.shared}\n")
    env = {
        "CHANGEGATE_POLICY": str(policy),
        "CHANGEGATE_GOOGLE_CREDENTIALS": str(drive.key_file),
        "CHANGEGATE_GOOGLE_DRIVE_URL": drive.url,
        "CHANGEGATE_GOOGLE_CA_CERTS": str(drive.ca_path),
        "CHANGEGATE_ALLOW_CLOCK_OVERRIDE": "true",
        "CHANGEGATE_CLOCK": T0,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for email, name, role in (
        ("alice@example.com", "Alice", "requester"),
        ("bob@example.com", "Bob", "cab"),
        ("ivy@example.com", "Ivy", "iso"),
        ("ci@example.com", "CI", "pipeline"),
        ("aud@example.com", "Audrey", "auditor"),
    ):
        assert cli("user", "add", email, "--name", name, "--role", role).code == 0
    return cli


def approved_change(team: Cli) -> str:
    key = team(
        "change", "create", *ALICE, "--title", "Ship", "--scope", "api", "--impact", "none",
        "--rollback", "revert", "--ticket", "ENG-2", "--risk", "low", "--env", "production",
    ).out.strip()  # fmt: skip
    assert team("change", "submit", key, *ALICE).code == 0
    for who, role in (("bob@example.com", "cab"), ("ivy@example.com", "iso")):
        decided = team("change", "approve", key, "--as", who, "--role", role, "--version", "1")
        assert decided.code == 0, decided.err
    return key


def record(team: Cli, key: str, *extra: str) -> Result:
    return team(
        "test", "record", key, "--env", "staging", "--commit", COMMIT, "--junit", str(REPORT),
        *extra, *CI,
    )  # fmt: skip


def gate(team: Cli, key: str) -> Result:
    return team("gate", "check", "--change", key, "--env", "production", "--commit", COMMIT, *CI)


def runs(team: Cli, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(team("test", "list", key, "--json").out)["items"]
    return items


def ledger_count(team: Cli) -> int:
    return int(json.loads(team("ledger", "verify", "--json").out)["count"])


def filing(team: Cli) -> dict[str, object]:
    items = json.loads(team("outbox", "list", "--json").out)["items"]
    [row] = [r for r in items if r["channel"] == "drive"]
    return dict(row)


def worker(team: Cli, monkeypatch: pytest.MonkeyPatch, at: str = T0) -> Result:
    monkeypatch.setenv("CHANGEGATE_CLOCK", at)
    done = team("worker", "--once", "--worker-id", "w1")
    monkeypatch.setenv("CHANGEGATE_CLOCK", T0)
    return done


def test_an_uploaded_run_is_filed_under_its_change_with_its_checksums(
    team: Cli, drive: FakeDrive, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = approved_change(team)
    recorded = record(team, key, "--upload")
    assert recorded.code == 0, recorded.err
    assert "Google Workspace: filing pending" in recorded.out
    assert drive.in_folder(key) == []  # queued, not sent inside the recording transaction
    assert worker(team, monkeypatch).code == 0
    filed = {f.app_properties["changegateRole"]: f for f in drive.in_folder(key)}
    assert sorted(filed) == ["report", "summary"]
    report = REPORT.read_bytes()
    assert filed["report"].content == report
    assert filed["report"].app_properties == {
        "changegateChange": key,
        "changegateTestRun": "1",
        "changegateRole": "report",
        "changegateCommit": COMMIT,
        "changegateEnvironment": "staging",
    }
    assert filed["summary"].mime_type == "text/html"
    assert f"{key}: regression test run 1" in filed["summary"].content.decode()
    [run] = runs(team, key)
    shown = {f["role"]: f for f in run["drive_files"]}
    assert shown["report"]["file_id"] == filed["report"].id
    assert shown["report"]["sha256"] == hashlib.sha256(report).hexdigest()
    assert shown["report"]["md5"] == hashlib.md5(report).hexdigest()
    assert shown["report"]["version"] == 1 and shown["report"]["link"].endswith("/view")
    assert str(run["workspace"]).startswith("report filed: ")
    assert "pending" not in str(run["workspace"])


def test_a_drive_file_forged_or_edited_behind_changegates_back_is_named_by_the_state_check(
    team: Cli, drive: FakeDrive, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A forged workspace_files row would make an undocumented run pass CM-4 at the gate and in
    the audit; the ledger's test_run.filed record proves the real ones."""
    key = approved_change(team)
    assert record(team, key, "--upload").code == 0
    assert record(team, key).code == 0  # run 2: never documented
    assert worker(team, monkeypatch).code == 0
    clean = team("ledger", "verify", "--state", "--json")
    assert clean.code == 0 and "workspace_files" in json.loads(clean.out)["state"]["checked"]
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE workspace_files SET version = 9 WHERE role = 'summary'"))
        conn.execute(
            text(
                "INSERT INTO workspace_files (test_run_id, role, file_id, name, mime_type, "
                "version, modified_at, drive_id, link, md5, sha256, content_sha256, recorded_at) "
                "SELECT 2, role, 'forged', name, mime_type, version, modified_at, drive_id, link, "
                "md5, sha256, content_sha256, recorded_at FROM workspace_files "
                "WHERE role = 'report'"
            )
        )
    engine.dispose()
    found = json.loads(team("ledger", "verify", "--state", "--json").out)["state"]["mismatches"]
    named = [(m["table"], m["key"].split()[:3], m["field"]) for m in found]
    assert named == [
        ("workspace_files", ["run", "1", "summary"], "version"),
        ("workspace_files", ["run", "2", "report"], "row"),
    ]


def test_a_doc_is_verified_and_frozen_as_its_pdf_export(
    team: Cli, drive: FakeDrive, db_url: str
) -> None:
    key = approved_change(team)
    doc = drive.add_doc("Regression results", drive.shared, "212 passed, 0 failed")
    url = f"https://docs.google.com/document/d/{doc.id}/edit?usp=sharing"
    recorded = record(team, key, "--doc", url)
    assert recorded.code == 0, recorded.err
    assert "doc verified: 'Regression results' v7" in recorded.out
    [run] = runs(team, key)
    [frozen] = run["drive_files"]
    digest = hashlib.sha256(render_pdf("212 passed, 0 failed")).hexdigest()
    assert (frozen["role"], frozen["file_id"], frozen["version"]) == ("doc", doc.id, 7)
    assert frozen["content_sha256"] == digest and frozen["sha256"] is None
    assert frozen["modified_time"].startswith("2026-11-30T09:00:00")
    engine = create_engine(db_url)
    with engine.connect() as c:
        kept = c.execute(
            text("SELECT content FROM evidence_files WHERE sha256 = :d"), {"d": digest}
        ).scalar_one()
    engine.dispose()
    assert bytes(kept) == doc.pdf
    # The verified Doc is what the ledger's test_run.doc_verified record says it is.
    assert team("ledger", "verify", "--state").code == 0


BAD_DOCS = {
    "foreign drive": ("other", "is not in the shared drive"),
    "my drive": ("mine", "is not in the shared drive"),
    "missing": ("missing", "Drive has no file 1NoSuchFileAtAll"),
    "not a doc": ("pdf", "is not a Google Doc or Sheet"),
    "not drive": ("wiki", "is not a Google Docs, Sheets or Drive link"),
}


@pytest.mark.parametrize("case", sorted(BAD_DOCS))
def test_a_doc_that_is_not_one_of_the_shared_drive_is_refused_and_nothing_written(
    team: Cli, drive: FakeDrive, case: str
) -> None:
    assert BAD_DOCS
    key = approved_change(team)
    other = drive.add_drive("Someone else's drive")
    links = {
        "other": drive.add_doc("Results", other, "x").id,
        "mine": drive.add_doc("Results", None, "x").id,
        "missing": "1NoSuchFileAtAll",
        "pdf": drive.add_doc("Results", drive.shared, "x", mime="application/pdf").id,
    }
    kind, said = BAD_DOCS[case]
    url = (
        "https://wiki.example.com/results"
        if kind == "wiki"
        else f"https://docs.google.com/document/d/{links[kind]}/edit"
    )
    before = ledger_count(team)
    refused = record(team, key, "--doc", url)
    assert refused.code == 2, (refused.out, refused.err)
    lines = refused.err.strip().splitlines()
    assert len(lines) == 1 and said in lines[0], refused.err
    assert runs(team, key) == [] and ledger_count(team) == before


def test_the_gate_requires_the_passing_run_documented_in_workspace(
    team: Cli, drive: FakeDrive, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = approved_change(team)
    assert record(team, key).code == 0  # passing, but neither filed nor a verified doc
    denied = gate(team, key)
    assert denied.code == 1, denied.out
    assert "run #1 in staging for cccccccccccc passed but is not documented in Google " in (
        denied.out
    )
    assert record(team, key, "--upload").code == 0
    pending = gate(team, key)
    assert pending.code == 1  # the filing waits for the worker
    assert worker(team, monkeypatch).code == 0
    allowed = gate(team, key)
    assert allowed.code == 0, allowed.out
    assert "passing run #2 in staging (isolated)" in allowed.out
    # The audit re-performs it as of the deployment's start: the run was filed before it.
    checked = team(*GATE, "--change", key, "--env", "production", "--commit", COMMIT, "--json", *CI)
    deployed = team(
        "deploy", "start", "--change", key, "--env", "production", "--commit", COMMIT,
        "--decision", str(json.loads(checked.out)["decision_id"]),
        "--run-url", "https://ci.example.com/runs/1", "--iac-path", "stack.yaml",
        "--iac-sha256", "a" * 64, *CI,
    )  # fmt: skip
    assert deployed.code == 0, deployed.err
    audit = team("audit", "run", "--period", "2026-Q4", "--dry-run", "--json", *IVY)
    findings = json.loads(audit.out)["findings"]
    assert [f["rule"] for f in findings if f["control"] == "CM-4"] == []


def test_drive_down_the_filing_waits_and_is_delivered_once(
    team: Cli, drive: FakeDrive, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = approved_change(team)
    drive.stop()
    recorded = record(team, key, "--upload")
    assert recorded.code == 0, recorded.err  # the run is recorded whatever Drive does
    worker(team, monkeypatch)
    row = filing(team)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert "no response" in str(row["last_error"])
    drive.start()
    assert worker(team, monkeypatch, "2026-11-30T10:05:00Z").code == 0
    assert sorted(f.app_properties["changegateRole"] for f in drive.in_folder(key)) == [
        "report",
        "summary",
    ]
    assert filing(team)["status"] == "delivered"
    assert worker(team, monkeypatch, "2026-11-30T11:00:00Z").code == 0
    assert len(drive.in_folder(key)) == 2


def test_a_worker_killed_mid_upload_leaves_one_copy_in_drive(
    team: Cli, drive: FakeDrive, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = approved_change(team)
    assert record(team, key, "--upload").code == 0
    exe = shutil.which("changegate", path=str(Path(sys.executable).parent))
    assert exe
    drive.answer_uploads.clear()  # the report lands in Drive; its answer never comes
    process = subprocess.Popen(
        [exe, "worker", "--once", "--worker-id", "doomed"],
        env=dict(os.environ) | {"CHANGEGATE_DATABASE_URL": db_url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(600):
            if drive.in_folder(key) or process.poll() is not None:
                break
            time.sleep(0.1)
        assert drive.in_folder(key), process.stderr.read() if process.stderr else ""
        process.kill()
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        drive.answer_uploads.set()
    assert len(drive.in_folder(key)) == 1
    # The dead worker's lease (15 min) and claim (5 min) run out; the next worker files it.
    assert worker(team, monkeypatch, "2026-11-30T10:20:00Z").code == 0
    filed = drive.in_folder(key)
    assert sorted(f.app_properties["changegateRole"] for f in filed) == ["report", "summary"]
    [run] = runs(team, key)
    ids = {f["role"]: f["file_id"] for f in run["drive_files"]}
    assert ids == {f.app_properties["changegateRole"]: f.id for f in filed}


def test_the_evidence_package_carries_the_drive_files_and_the_frozen_pdf(
    team: Cli, drive: FakeDrive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = approved_change(team)
    doc = drive.add_doc("Regression results", drive.shared, "all passed")
    assert record(team, key, "--doc", f"https://docs.google.com/document/d/{doc.id}/edit").code == 0
    assert record(team, key, "--upload").code == 0
    assert worker(team, monkeypatch).code == 0
    signing = tmp_path / "signing.pem"
    assert team("ledger", "keygen", "--out", str(signing)).code == 0
    monkeypatch.setenv("CHANGEGATE_SIGNING_KEY", str(signing))
    out = tmp_path / "package"
    done = team(
        "evidence", "export", "--period", "2026-Q4", "--out", str(out), "--as", "aud@example.com"
    )
    assert done.code == 0, done.err
    assert team("evidence", "verify", str(out)).code == 0
    listed = json.loads((out / "changes" / key / "test_runs.json").read_text())
    by_run = {r["id"]: {f["role"]: f for f in r["drive_files"]} for r in listed}
    frozen = by_run[1]["doc"]
    assert (frozen["file_id"], frozen["version"]) == (doc.id, 7)
    assert (out / frozen["file"]).read_bytes() == doc.pdf
    assert frozen["content_sha256"] == hashlib.sha256(doc.pdf).hexdigest()
    filed = {f.app_properties["changegateRole"]: f for f in drive.in_folder(key)}
    report = by_run[2]["report"]
    assert (report["file_id"], report["version"]) == (filed["report"].id, 1)
    assert report["sha256"] == hashlib.sha256(filed["report"].content).hexdigest()
    assert (out / by_run[2]["summary"]["file"]).read_bytes() == filed["summary"].content


def test_upload_without_a_service_account_is_refused_and_nothing_written(
    team: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = approved_change(team)
    for name in ("CREDENTIALS", "DRIVE_URL", "CA_CERTS"):
        monkeypatch.delenv(f"CHANGEGATE_GOOGLE_{name}")
    before = ledger_count(team)
    refused = record(team, key, "--upload")
    assert refused.code == 2
    assert refused.err.strip() == (
        "error: Google Drive is not configured: set CHANGEGATE_GOOGLE_CREDENTIALS "
        "(docs/workspace.md)"
    )
    assert runs(team, key) == [] and ledger_count(team) == before
