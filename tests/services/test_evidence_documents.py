"""Documents as they were. Which policy was in force when: the first write under a policy puts
it in force (the ledger says so, the document is kept), and the evidence package carries every
document in force during its period, the intervals, and the gate decisions held to them. Test
reports as uploaded: kept by their SHA-256, carried in the change's folder, held to the run."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from changegate import ledger
from changegate.bootstrap import App, read_report
from changegate.db.models import LedgerRecord, PolicyDocument
from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.errors import BadInput
from changegate.services import changes, gate, testruns
from changegate.services.evidence import signing
from changegate.services.evidence.export import export
from changegate.services.evidence.verify import verify
from tests.builders import T0, add_people, make_fields
from tests.conftest import decide_current
from tests.fixtures import fixture

BEFORE = datetime(2026, 9, 15, 9, 0, tzinfo=UTC)
SHA = "c" * 40
REPORT = fixture("junit-xml", "pytest", "dorny__python-xunit-pytest.xml")


def in_force_records(app: App) -> list[tuple[int, dict[str, Any]]]:
    def read(ctx: Any) -> list[tuple[int, dict[str, Any]]]:
        stmt = select(LedgerRecord.seq, LedgerRecord.payload).where(
            LedgerRecord.action == "policy.in_force"
        )
        return [(s, json.loads(p)) for s, p in ctx.session.execute(stmt.order_by(LedgerRecord.seq))]

    return app.read(read)


def renamed(app: App, organisation: str) -> App:
    return dataclasses.replace(
        app, policy=app.policy.model_copy(update={"organisation": organisation})
    )


def event(ctx: Any) -> None:
    ctx.record("test.event", "x", {})


def test_the_first_write_puts_the_policy_in_force_once_and_keeps_its_document(app: App) -> None:
    first = app.policy.digest()
    app.run(lambda ctx: None, at=BEFORE)
    assert in_force_records(app) == []  # a transaction that records nothing puts nothing
    app.run(event, at=BEFORE)
    app.run(event, at=BEFORE)
    assert in_force_records(app) == [(1, {"digest": first, "previous": None})]  # before seq 2
    again = dataclasses.replace(app)  # a second process with the same policy adds nothing
    again.run(event, at=BEFORE)
    assert len(in_force_records(app)) == 1
    row = PolicyDocument
    stmt = select(row.document, row.first_in_force_at, row.source).where(row.digest == first)
    document, since, source = app.read(lambda ctx: ctx.session.execute(stmt).one())
    assert hashlib.sha256(document.encode()).hexdigest() == first
    assert since == BEFORE and source == "built-in defaults"


def test_a_changed_policy_and_a_return_to_the_old_one_are_each_put_in_force(app: App) -> None:
    a, b = app, renamed(app, "Other Ltd")
    a.run(event)
    b.run(event)
    dataclasses.replace(a).run(event)
    da, db = a.policy.digest(), b.policy.digest()
    assert da != db
    assert [p for _, p in in_force_records(app)] == [
        {"digest": da, "previous": None},
        {"digest": db, "previous": da},
        {"digest": da, "previous": db},
    ]
    stored = app.read(lambda ctx: ctx.session.scalars(select(PolicyDocument.digest)).all())
    assert sorted(stored) == sorted([da, db])  # each document kept once


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def two_policies(app: App, key: Ed25519PrivateKey) -> tuple[App, App]:
    """Q4 2026 under policy A until 10 Nov, then B: a gate decision under each."""
    add_people(app, at=BEFORE)
    app.run(lambda ctx: ledger.checkpoint(ctx.session, ctx.now, key), at=BEFORE + timedelta(1))
    b = renamed(app, "Renamed Ltd")
    at = iter(T0 + timedelta(minutes=m) for m in range(100))

    def as_(who: str, fn: Any, under: App = app) -> None:
        under.run(fn, actor=who, at=next(at))

    as_("alice@example.com", lambda ctx: changes.create(ctx, make_fields()))
    as_("alice@example.com", lambda ctx: changes.submit(ctx, "CHG-1"))
    as_("ci@example.com", lambda ctx: gate.check(ctx, "CHG-1", "production", SHA))
    report = read_report(REPORT.read_bytes(), REPORT.name)
    as_(
        "ci@example.com",
        lambda ctx: testruns.record(
            ctx, "CHG-1", "staging", SHA, report, upload=REPORT.read_bytes()
        ),
    )
    at = iter(T0 + timedelta(days=8, minutes=m) for m in range(100))
    as_(
        "bob@example.com",
        lambda ctx: decide_current(ctx, "CHG-1", ApprovalRole.CAB, Decision.APPROVED),
        b,
    )
    as_("ci@example.com", lambda ctx: gate.check(ctx, "CHG-1", "production", SHA), b)
    return app, b


def exported(app: App, key: Ed25519PrivateKey, target: Path) -> Path:
    at = T0 + timedelta(days=30)
    app.run(lambda ctx: export(ctx, "2026-Q4", target, key), actor="aud@example.com", at=at)
    return target


def failures(package: Path) -> list[str]:
    return [f"{c.name}: {p}" for c in verify(package) for p in c.problems]


def resign(package: Path, key: Ed25519PrivateKey, changed: str) -> None:
    m = json.loads((package / "manifest.json").read_text())
    data = (package / changed).read_bytes()
    for f in m["files"]:
        if f["path"] == changed:
            f.update(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    (package / "manifest.json").write_text(json.dumps(signing.sign(m, key)))


def test_the_package_carries_each_policy_in_force_and_holds_decisions_to_them(
    two_policies: tuple[App, App], key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    a, b = two_policies
    package = exported(a, key, tmp_path / "q4")
    assert failures(package) == []
    body = json.loads((package / "policy" / "in_force.json").read_text())
    da, db = a.policy.digest(), b.policy.digest()
    assert [(i["digest"], i["to"] is None) for i in body["intervals"]] == [(da, False), (db, True)]
    assert body["intervals"][0]["to"] == body["intervals"][1]["from"]
    assert sorted((d["digest"], d["decisions"]) for d in body["gate_decisions"]) == sorted(
        [(da, 1), (db, 1)]
    )
    for digest in (da, db):  # each file hashes to its name: `sha256sum` is the check
        data = (package / "policy" / "documents" / f"{digest}.json").read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest
    lines = (package / "policy" / "ledger.jsonl").read_text().splitlines()
    assert [json.loads(line)["payload"]["digest"] for line in lines] == [da, db]


def test_an_edited_policy_document_or_a_dropped_interval_fails_verify(
    two_policies: tuple[App, App], key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    a, b = two_policies
    package = exported(a, key, tmp_path / "edited")
    name = f"policy/documents/{b.policy.digest()}.json"
    path = package / name
    path.write_text(path.read_text().replace("Renamed Ltd", "Renamed Inc"))
    resign(package, key, name)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert failures(package) == [
        f"policy in force: {name}: its SHA-256 is {digest}, not the digest it is named after"
    ]
    package = exported(a, key, tmp_path / "dropped")
    doc = package / "policy" / "in_force.json"
    body = json.loads(doc.read_text())
    body["intervals"] = body["intervals"][:1]
    body["intervals"][0]["to"] = None
    doc.write_text(json.dumps(body))
    resign(package, key, "policy/in_force.json")
    problems = failures(package)
    assert (
        "policy in force: policy/in_force.json: the intervals are not policy/ledger.jsonl's records"
        in problems
    )
    assert any(p.endswith("put a policy in force; policy/in_force.json omits it") for p in problems)
    assert any("cites policy" in p and "in force then" in p for p in problems)


def test_a_report_is_carried_as_uploaded_and_held_to_its_run(
    two_policies: tuple[App, App], key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    a, _ = two_policies
    package = exported(a, key, tmp_path / "q4")
    sha = hashlib.sha256(REPORT.read_bytes()).hexdigest()
    name = f"changes/CHG-1/test_reports/{sha}.xml"
    assert (package / name).read_bytes() == REPORT.read_bytes()
    runs = json.loads((package / "changes" / "CHG-1" / "test_runs.json").read_text())
    assert [(r["report_sha256"], r["report_file"]) for r in runs] == [(sha, name)]
    path = package / name
    path.write_bytes(path.read_bytes().replace(b"failures=", b"failures =", 1))
    resign(package, key, name)
    edited = hashlib.sha256(path.read_bytes()).hexdigest()
    assert failures(package) == [
        f"test reports as uploaded: {name}: its SHA-256 is {edited}, not the digest it is named "
        "after"
    ]
    path.unlink()
    m = json.loads((package / "manifest.json").read_text())
    m["files"] = [f for f in m["files"] if f["path"] != name]
    (package / "manifest.json").write_text(json.dumps(signing.sign(m, key)))
    assert failures(package) == [
        "test reports as uploaded: changes/CHG-1/test_runs.json: test run 1 names "
        f"{name}, not in the package"
    ]


def test_a_report_recorded_elsewhere_than_it_was_read_is_refused(app: App) -> None:
    add_people(app, at=BEFORE)
    app.run(lambda ctx: changes.create(ctx, make_fields()), actor="alice@example.com")
    report = read_report(REPORT.read_bytes(), REPORT.name)
    with pytest.raises(BadInput, match="SHA-256 differs"):
        app.run(
            lambda ctx: testruns.record(ctx, "CHG-1", "staging", SHA, report, upload=b"<x/>"),
            actor="ci@example.com",
        )
