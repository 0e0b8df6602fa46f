"""The evidence package of a quarter, exported from real records on both databases and
verified offline: it re-performs to the live audit's digest, and each kind of tampering fails
the check that should catch it, naming the file."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from changegate import ledger
from changegate.bootstrap import App
from changegate.db.models import LedgerRecord
from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.changes import ChangeType
from changegate.domain.errors import BadInput, Forbidden
from changegate.services import audits, changes, deployments, gate, lifecycle, waivers
from changegate.services.evidence import signing
from changegate.services.evidence.export import export
from changegate.services.evidence.verify import Check, verify
from tests.builders import T0, add_people, make_fields
from tests.conftest import decide_current

ALICE, CAB, ISO, CI, AUD = (
    "alice@example.com",
    "bob@example.com",
    "ivy@example.com",
    "ci@example.com",
    "aud@example.com",
)
SHA = "b" * 40
BEFORE = datetime(2026, 9, 15, 9, 0, tzinfo=UTC)  # Q3: people added, a checkpoint signed
AUDITED, EXPORTED = T0 + timedelta(days=20), T0 + timedelta(days=21)


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def quarter(app: App, key: Ed25519PrivateKey) -> App:
    """Q4 2026: CHG-1 approved by CAB and ISO, deployed to staging, denied production by the
    gate (no tests); CHG-2 an emergency implemented by hand and never approved (CM-3, CM-5);
    WVR-1 covers CHG-1's CM-4, approved by both; the ISO audits the quarter on 22 Nov."""
    add_people(app, at=BEFORE)
    app.run(lambda ctx: ledger.checkpoint(ctx.session, ctx.now, key), at=BEFORE + timedelta(1))
    at = iter(T0 + timedelta(minutes=m) for m in range(100))

    def as_(who: str, fn: object) -> None:
        app.run(fn, actor=who, at=next(at))  # type: ignore[arg-type]

    as_(ALICE, lambda ctx: changes.create(ctx, make_fields()))
    as_(ALICE, lambda ctx: changes.submit(ctx, "CHG-1"))
    as_(CAB, lambda ctx: decide_current(ctx, "CHG-1", ApprovalRole.CAB, Decision.APPROVED))
    as_(ISO, lambda ctx: decide_current(ctx, "CHG-1", ApprovalRole.ISO, Decision.APPROVED))
    as_(CI, lambda ctx: deployments.start(ctx, "CHG-1", "staging", SHA, "https://ci/1"))
    as_(CI, lambda ctx: deployments.finish(ctx, 1))
    as_(CI, lambda ctx: gate.check(ctx, "CHG-1", "production", SHA))
    as_(ALICE, lambda ctx: changes.create(ctx, make_fields(change_type=ChangeType.EMERGENCY)))
    as_(ALICE, lambda ctx: changes.submit(ctx, "CHG-2"))
    as_(ALICE, lambda ctx: lifecycle.implement(ctx, "CHG-2"))
    as_(
        "rob@example.com",
        lambda ctx: waivers.request(
            ctx,
            "flaky suite",
            "vendor outage",
            "manual smoke test",
            ["CM-4"],
            "change",
            "CHG-1",
            30,
        ),
    )
    as_(CAB, lambda ctx: waivers.decide(ctx, "WVR-1", ApprovalRole.CAB, Decision.APPROVED))
    as_(ISO, lambda ctx: waivers.decide(ctx, "WVR-1", ApprovalRole.ISO, Decision.APPROVED))
    app.run(lambda ctx: audits.run(ctx, "2026-Q4"), actor=ISO, at=AUDITED)
    return app


def export_to(app: App, target: Path, key: Ed25519PrivateKey | None, who: str = AUD) -> None:
    app.run(lambda ctx: export(ctx, "2026-Q4", target, key), actor=who, at=EXPORTED)


def failures(package: Path, trusted: str | None = None) -> list[str]:
    return [f"{c.name}: {p}" for c in verify(package, trusted) for p in c.problems]


def manifest(package: Path) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((package / "manifest.json").read_text())
    return loaded


def test_a_quarter_exports_and_verifies_to_the_live_audits_digest(
    quarter: App, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    target = tmp_path / "q4"
    export_to(quarter, target, key)
    checks: list[Check] = verify(target, signing.key_text(key.public_key()))
    assert [c.name for c in checks if not c.ok] == []
    m = manifest(target)
    live = quarter.read(lambda ctx: audits.preview(ctx.acting_as(AUD), "2026-Q4")).run.digest
    assert m["audit"]["digest"] == live  # type: ignore[index]
    assert m["populations"] == {  # written from the fixture's story, by hand
        "changes": 2,
        "change_versions": 2,
        "approvals": 2,
        "emergency_changes": 1,
        "test_runs": 0,
        "gate_decisions": 1,
        "deployments": 1,
        "baselines": 0,
        "drifts": 0,
        "waivers": 1,
        "waiver_approvals": 2,
        "findings": m["audit"]["counts"]["findings"],  # type: ignore[index]
        "reviews": 0,
        "cab_meetings": 0,
        "cab_decisions": 0,
        "aws_events": 0,
    }
    # Anchored at the checkpoint signed in Q3: the lines start right after it (seq 1 put the
    # policy in force).
    assert m["ledger"]["checkpoint"] == {"seq": 12, "anchors": "start"}  # type: ignore[index]
    assert m["ledger"]["first_seq"] == 13  # type: ignore[index]
    paths = {f["path"] for f in m["files"]}  # type: ignore[attr-defined]
    assert {
        "changes/CHG-1/change.json",
        "changes/CHG-1/versions/1.json",
        "changes/CHG-1/approvals.json",
        "changes/CHG-1/gate_decisions.json",
        "changes/CHG-1/deployments.json",
        "changes/CHG-1/waivers.json",
        "changes/CHG-2/findings.json",
        "populations/populations.xlsx",
        "ledger/ledger.jsonl",
        "ledger/checkpoint.json",
        "policy/policy.json",
        "audit/facts.json",
    } <= paths
    subjects = quarter.read(
        lambda ctx: list(
            ctx.session.scalars(
                select(LedgerRecord.subject).where(LedgerRecord.action == "evidence.exported")
            )
        )
    )
    assert subjects == ["evidence:2026-Q4"]


def test_the_workbook_holds_a_sheet_per_population_and_the_ipe(
    quarter: App, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    export_to(quarter, tmp_path / "q4", key)
    book = load_workbook(tmp_path / "q4" / "populations" / "populations.xlsx", read_only=True)
    names = [n for n in book.sheetnames if n != "IPE"]
    assert names[:4] == ["changes", "change_versions", "approvals", "emergency_changes"]
    assert len(names) == len(manifest(tmp_path / "q4")["populations"])  # type: ignore[arg-type]
    rows = [list(r) for r in book["approvals"].iter_rows(values_only=True)]
    assert [r[:6] for r in rows] == [
        ["id", "change_key", "version", "role", "decision", "approver"],
        [1, "CHG-1", 1, "cab", "approved", "bob@example.com"],
        [2, "CHG-1", 1, "iso", "approved", "ivy@example.com"],
    ]
    ipe = [list(r) for r in book["IPE"].iter_rows(values_only=True)]
    assert ipe[0][:3] == ["population", "file", "rows"]
    assert ["approvals", "populations/approvals.csv", 2] in [r[:3] for r in ipe]
    book.close()


def test_the_zip_verifies_like_the_directory(
    quarter: App, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    export_to(quarter, tmp_path / "q4.zip", key)
    assert failures(tmp_path / "q4.zip") == []


def copy_of(quarter: App, key: Ed25519PrivateKey, tmp_path: Path) -> Path:
    target = tmp_path / "q4"
    export_to(quarter, target, key)
    return target


def resign(package: Path, key: Ed25519PrivateKey, changed: str) -> None:
    """Put `changed`'s new hash and size in the manifest and sign it again with `key`."""
    m = manifest(package)
    data = (package / changed).read_bytes()
    import hashlib

    for f in m["files"]:  # type: ignore[attr-defined]
        if f["path"] == changed:
            f.update(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    (package / "manifest.json").write_text(json.dumps(signing.sign(m, key)))


def test_one_byte_of_a_population_changed_is_named(
    quarter: App, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    package = copy_of(quarter, key, tmp_path)
    csv = package / "populations" / "approvals.csv"
    data = bytearray(csv.read_bytes())
    data[-5] ^= 1
    csv.write_bytes(bytes(data))
    assert (
        "file hashes: populations/approvals.csv: SHA-256 or size differs from the manifest's"
        in failures(package)
    )


def test_a_removed_file_and_an_extra_file_are_named(
    quarter: App, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    package = copy_of(quarter, key, tmp_path)
    (package / "changes" / "CHG-1" / "approvals.json").unlink()
    (package / "changes" / "CHG-1" / "note.txt").write_text("added later")
    found = failures(package)
    assert "file hashes: changes/CHG-1/approvals.json: listed in the manifest but missing" in found
    assert "file hashes: changes/CHG-1/note.txt: not listed in the manifest" in found


def test_a_manifest_signed_with_another_key_is_refused(
    quarter: App, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    package = copy_of(quarter, key, tmp_path)
    (package / "manifest.json").write_text(
        json.dumps(signing.sign(manifest(package), Ed25519PrivateKey.generate()))
    )
    assert failures(package) == [
        "manifest signature: manifest.json: signed by a key other than ledger/checkpoint.json's",
        "ledger chain: ledger/checkpoint.json: not signed by the manifest's key",
    ]
    # With the true key trusted, a forged manifest is named, and the intact one passes.
    trusted = signing.key_text(key.public_key())
    assert any("not by the trusted key" in f for f in failures(package, trusted))
    (tmp_path / "again").mkdir()
    assert failures(copy_of(quarter, key, tmp_path / "again"), trusted) == []


def test_an_edited_ledger_line_breaks_the_chain_even_when_the_manifest_is_re_signed(
    quarter: App, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    package = copy_of(quarter, key, tmp_path)
    jsonl = package / "ledger" / "ledger.jsonl"
    lines = jsonl.read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace('"actor":"', '"actor":"x', 1)
    jsonl.write_text("".join(lines))
    assert (
        "file hashes: ledger/ledger.jsonl: SHA-256 or size differs from the manifest's"
        in failures(package)
    )
    resign(package, key, "ledger/ledger.jsonl")
    assert failures(package) == [
        "ledger chain: ledger/ledger.jsonl line 3: seq 15 does not match its hash (edited)",
        "populations against the ledger: the ledger chain is broken: the populations cannot "
        "be held to it",
        "policy in force: the ledger chain is broken: the policy's history cannot be held to it",
    ]


def test_a_population_row_removed_disagrees_with_the_ledger_and_the_facts(
    quarter: App, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    package = copy_of(quarter, key, tmp_path)
    csv = package / "populations" / "approvals.csv"
    lines = csv.read_bytes().split(b"\r\n")
    csv.write_bytes(b"\r\n".join(line for line in lines if b"ivy@example.com" not in line))
    resign(package, key, "populations/approvals.csv")
    found = failures(package)
    assert any(
        f.startswith(
            "populations against the ledger: populations/approvals.csv: in the ledger, "
            "not in the population: CHG-1 ivy@example.com iso approved 1 false"
        )
        for f in found
    ), found
    lacks = "audit facts against the populations: audit/facts.json: populations/approvals.csv"
    assert any(f.startswith(f"{lacks} lacks 2 at") for f in found), found


def test_findings_and_changes_are_held_to_the_ledger(
    quarter: App, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    package = copy_of(quarter, key, tmp_path)
    findings = package / "populations" / "findings.csv"
    header, first, *rest = findings.read_bytes().split(b"\r\n")
    invented = first.replace(b"FND-1,", b"FND-99,", 1)
    findings.write_bytes(b"\r\n".join([header, invented, *rest]))
    changes_csv = package / "populations" / "changes.csv"
    kept = [line for line in changes_csv.read_bytes().split(b"\r\n") if b"CHG-2," not in line]
    changes_csv.write_bytes(b"\r\n".join(kept))
    for name in ("findings", "changes"):
        resign(package, key, f"populations/{name}.csv")
    found = [f for f in failures(package) if f.startswith("populations against the ledger")]
    fnd = "populations against the ledger: populations/findings.csv: in the"
    assert any(f.startswith(f"{fnd} ledger, not in the population: FND-1 ") for f in found)
    assert any(f.startswith(f"{fnd} population, not in the ledger: FND-99 ") for f in found)
    assert (
        "populations against the ledger: populations/changes.csv: in the ledger, not in the "
        "population: CHG-2" in found
    ), found


def test_an_export_needs_an_auditor_and_a_key_and_an_empty_target(
    quarter: App, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(Forbidden):
        export_to(quarter, out / "a", key, who=ALICE)
    with pytest.raises(BadInput, match="changegate ledger keygen"):
        export_to(quarter, out / "b", None)
    (out / "c").mkdir()
    (out / "c" / "old.txt").write_text("x")
    with pytest.raises(BadInput, match="not an empty directory"):
        export_to(quarter, out / "c", key)
    assert sorted(p.name for p in out.iterdir()) == ["c"]  # nothing half-written


def test_an_unreadable_package_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "not.zip").write_text("hello")
    with pytest.raises(BadInput, match="not a zip file or a directory"):
        verify(tmp_path / "not.zip")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "manifest.json").write_text("{not json")
    with pytest.raises(BadInput, match=r"manifest\.json: not valid JSON"):
        verify(tmp_path / "dir")
    shutil.rmtree(tmp_path / "dir")
