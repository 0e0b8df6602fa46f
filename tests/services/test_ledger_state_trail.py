"""`ledger verify --state` over stored CloudTrail events: each ingest's `trail.ingested` record
carries how many events it stored and their digest, so an event deleted or edited behind
changegate's back (to hide a console change from CM-5) or one inserted is named. On both
databases, with a log file of real records: the organisation trail sample's 20 (counted, not
kept) and the user guide's five writes (kept), tests/trail_logs.py."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from changegate import ledger
from changegate.bootstrap import App
from changegate.db.models import LedgerRecord
from changegate.integrations.cloudtrail import read
from changegate.services import trail_ingest
from changegate.services.ledger_state import Mismatch
from tests.builders import T0, add_people
from tests.fixtures import fixture
from tests.services.test_ledger_state_detective import mismatches, sql
from tests.trail_logs import generated, org_records, writes

AT = T0 + timedelta(hours=1)


@pytest.fixture
def log(tmp_path: Path) -> Path:
    """25 records: the organisation sample's 20, then the guide's five writes (positions
    21 to 25, the ones stored)."""
    key, body, _ = generated(1, 25, [*org_records(), *writes()])
    path = tmp_path / key.rsplit("/", 1)[-1]
    path.write_bytes(body)
    return path


@pytest.fixture
def group(log: Path) -> str:
    return f"{log} at {ledger.stamp(AT)}"


@pytest.fixture
def ingested(app: App, log: Path) -> int:
    add_people(app)

    def ingest(ctx: object) -> int:
        with log.open("rb") as stream:
            return trail_ingest.ingest(ctx, read(stream), str(log), None).new  # type: ignore[arg-type]

    new = app.run(ingest, actor="ci@example.com", at=AT)
    assert new == 5
    # The same file again stores nothing and needs no group of its own.
    assert app.run(ingest, actor="ci@example.com", at=AT + timedelta(hours=1)) == 0
    assert mismatches(app) == []
    return new


def test_an_event_deleted_behind_changegates_back_is_named(
    app: App, ingested: int, group: str
) -> None:
    sql(app, "DELETE FROM trail_events WHERE position = 22")
    found = mismatches(app)
    assert [(m.table, m.key, m.field) for m in found] == [
        ("trail_events", group, "events"),
        ("trail_events", group, "events_sha256"),
    ]
    assert (found[0].ledger, found[0].live) == (str(ingested), str(ingested - 1))


def test_an_event_edited_is_named_by_its_ingests_digest(
    app: App, ingested: int, group: str
) -> None:
    sql(
        app,
        "UPDATE trail_events SET raw = replace(raw, '\"1.11\"', '\"1.12\"') WHERE position = 21",
    )
    [edited] = mismatches(app)
    assert (edited.table, edited.key, edited.field) == ("trail_events", group, "events_sha256")
    assert edited.ledger != edited.live


def test_an_event_inserted_is_a_group_the_ledger_does_not_know(app: App, ingested: int) -> None:
    sql(
        app,
        "INSERT INTO trail_events (event_id, event_time, event_source, event_name, account, "
        "region, environment, kind, actor_kind, principal, actor_name, change_key, error_code, "
        "source, position, raw, ingested_at) SELECT 'forged', event_time, event_source, "
        "event_name, account, region, environment, kind, actor_kind, principal, actor_name, "
        "change_key, error_code, 'nowhere.json', 1, raw, ingested_at FROM trail_events "
        "WHERE position = 21",
    )
    assert mismatches(app) == [
        Mismatch("trail_events", f"nowhere.json at {ledger.stamp(AT)}", "row", "(none)", "present")
    ]


def test_a_group_of_files_is_one_record_and_each_file_is_still_proven(app: App, log: Path) -> None:
    add_people(app)
    other = fixture(
        "cloudtrail",
        "ccbrown-cloud-snitch",
        "backend__report__aws_cloudtrail_test.go__TestReport_AWSAccountEvent.json",
    )
    group = [(str(path), (lambda path=path: path.open("rb")), None) for path in (log, other)]
    got = app.run(lambda ctx: trail_ingest.ingest_files(ctx, group), actor="ci@example.com", at=AT)
    # The guide's five writes and the other sample's AssumeRole (a role taken: kept).
    assert (got.files, got.new) == (2, 6)
    [payload] = [
        json.loads(p)
        for (p,) in app.read(
            lambda ctx: ctx.session.execute(
                select(LedgerRecord.payload).where(LedgerRecord.action == "trail.ingested")
            ).all()
        )
    ]
    assert [f["source"] for f in payload["files"]] == [str(log), str(other)]
    assert mismatches(app) == []
    sql(app, f"DELETE FROM trail_events WHERE source = '{other}'")
    assert [(m.key, m.field, m.ledger, m.live) for m in mismatches(app)] == [
        (f"{other} at {ledger.stamp(AT)}", "row", "present", "(none)")
    ]
