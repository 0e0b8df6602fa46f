"""Change and waiver events into CloudTrail Lake, through the outbox, against a local peer.

The peer (fake_cloudtrail_lake.py) speaks `cloudtrail-data` PutAuditEvents as documented and
checks each event against the integrations event schema; boto3 reaches it through the
composition root's client with `CHANGEGATE_CLOUDTRAIL_ENDPOINT_URL`. Both databases.
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from changegate import bootstrap
from changegate.bootstrap import App
from changegate.cli.runner import drain
from changegate.config import Settings
from changegate.config_aws import CloudTrailSettings
from changegate.db.models import LedgerRecord, Notification
from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.changes import ChangeType
from changegate.domain.lake_events import CLOUDTRAIL, EVENT_NAMES
from changegate.integrations.cloudtrail_lake import REQUEST_BYTES, batches
from changegate.integrations.ports import BatchNotifier, Notifier
from changegate.services import changes, lifecycle, outbox, waiver_reviews
from changegate.services.context import Context
from tests.builders import T0, add_people
from tests.conftest import Result, decide_current
from tests.integrations.fake_cloudtrail_lake import FakeCloudTrailLake
from tests.services.test_changes import act, create
from tests.services.test_outbox import Clock, rows
from tests.services.test_waivers import ALICE, BOB, IVY, activate, at, decide, request, review

CHANNEL = "arn:aws:cloudtrail:eu-west-1:123456789012:channel/3f1c2e55-5f7a-4c7e-9a1b-0c2d4e6f8a9b"
SRC = Path(__file__).resolve().parents[2] / "src" / "changegate"
CAB, ISO = ApprovalRole.CAB, ApprovalRole.ISO
OK, NO = Decision.APPROVED, Decision.REJECTED
CI = "ci@example.com"
LATER = T0 + timedelta(days=90)


@pytest.fixture
def lake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCloudTrailLake]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    with FakeCloudTrailLake({CHANNEL}) as fake:
        yield fake
    assert not fake.errors, f"malformed requests reached the peer: {fake.errors!r}"


@pytest.fixture
def org(app: App) -> App:
    add_people(app)
    app.channels = (CLOUDTRAIL,)
    return app


def sink(lake: FakeCloudTrailLake) -> dict[str, Notifier]:
    """The worker's notifiers as the composition root builds them from the settings."""
    settings = Settings(cloudtrail=CloudTrailSettings(CHANNEL, endpoint_url=lake.url))
    return bootstrap.notifiers(settings, ExitStack())


# --- the table covers every action -------------------------------------------------------

# Actions the code spells with an f-string, and every value each one takes.
CHANGE_DECISIONS = {f"change.{d.value}_by_{r.value}" for d in Decision for r in ApprovalRole}
DYNAMIC = {
    "change.{decision.value}_by_{role.value}": CHANGE_DECISIONS,  # services/approvals.py
    "change.{d.value}_by_{r.value}": CHANGE_DECISIONS,  # domain/identity.py
    "waiver.{decision.value}": {f"waiver.{d.value}" for d in Decision},
}
ACTION = re.compile(r"(change|waiver)\.[a-z_]+")


def recorded_actions() -> tuple[set[str], set[str]]:
    """Every change./waiver. action spelled in src/ (constants), and the f-string patterns."""
    constants, patterns = set(), set()
    for path in SRC.rglob("*.py"):
        if path.name == "lake_events.py":
            continue  # the table itself
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if ACTION.fullmatch(node.value) and not node.value.endswith(".html"):
                    constants.add(node.value)
            elif isinstance(node, ast.JoinedStr) and _is_action_pattern(node):
                patterns.add(ast.unparse(node)[2:-1])
    return constants, patterns


def _is_action_pattern(node: ast.JoinedStr) -> bool:
    parts = [v.value for v in node.values if isinstance(v, ast.Constant)]
    head = node.values[0]
    return (
        isinstance(head, ast.Constant)
        and re.match(r"(change|waiver)\.", str(head.value)) is not None
        and not any(":" in str(p) for p in parts)  # an event key, e.g. waiver.expired:WVR-1:2
    )


def test_the_table_names_every_change_and_waiver_action_the_code_records() -> None:
    constants, patterns = recorded_actions()
    assert len(constants) >= 15 and patterns
    assert patterns <= set(DYNAMIC), f"a new f-string action: add it to DYNAMIC: {patterns}"
    expanded = constants.union(*(DYNAMIC[p] for p in patterns))
    assert expanded - set(EVENT_NAMES) == set(), "an action CloudTrail would not hear of"
    assert set(EVENT_NAMES) - expanded == set(), "an event name for an action nobody records"
    assert len(set(EVENT_NAMES.values())) == len(EVENT_NAMES)


# --- delivery ------------------------------------------------------------------------------


def history(app: App) -> None:
    """Every change and waiver action, by the people the policy says take them."""
    key = create(app)
    act(app, ALICE, changes.edit, key, {"impact": "client reconnects, about 2 s"}, minutes=2)
    act(app, ALICE, changes.submit, key, minutes=3)
    for who, role in ((BOB, CAB), (IVY, ISO)):
        act(app, who, decide_current, key, role, OK, "ok", minutes=4)
    act(app, CI, lifecycle.implement, key, minutes=5)
    act(app, ALICE, lifecycle.close, key, minutes=6)
    for role, who in ((CAB, BOB), (ISO, IVY)):
        refused = create(app, at_offset=7)
        act(app, ALICE, changes.submit, refused, minutes=8)
        act(app, who, decide_current, refused, role, NO, "no rollback tested", minutes=9)
    act(app, ALICE, changes.cancel, create(app, at_offset=10), "not needed", minutes=11)
    urgent = create(app, at_offset=12, change_type=ChangeType.EMERGENCY)
    act(app, ALICE, changes.submit, urgent, minutes=13)
    act(app, ALICE, lifecycle.implement, urgent, minutes=14)
    for who, role in ((BOB, CAB), (IVY, ISO)):
        act(app, who, decide_current, urgent, role, OK, "retro", minutes=15)
    act(app, ALICE, lifecycle.record_pir, urgent, "root cause fixed", minutes=16)
    act(app, ALICE, lifecycle.close, urgent, minutes=17)
    kept, denied = request(app), request(app)
    activate(app, kept, when=T0)
    decide(app, IVY, denied, ISO, NO, "no compensating monitoring")
    app.run(waiver_reviews.expire_due, at=at(31))
    review(app, BOB, kept, "close", at(32))
    app.run(lambda ctx: waiver_reviews.review_quarter(ctx, "2026-Q4"), actor=IVY, at=at(60))


def records(app: App) -> list[LedgerRecord]:
    def load(ctx: Context) -> list[LedgerRecord]:
        stmt = select(LedgerRecord).where(LedgerRecord.action.in_(list(EVENT_NAMES)))
        found = list(ctx.session.execute(stmt.order_by(LedgerRecord.seq)).scalars())
        ctx.session.expunge_all()
        return found

    return app.read(load)


def lake_rows(app: App) -> list[Notification]:
    return [r for r in rows(app) if r.channel == CLOUDTRAIL]


def test_each_change_and_waiver_event_arrives_once_with_the_right_fields(
    org: App, lake: FakeCloudTrailLake
) -> None:
    history(org)
    tally = drain(org, sink(lake), "w1", Clock(LATER))
    again = drain(org, sink(lake), "w1", Clock(LATER + timedelta(hours=2)))

    logged = records(org)
    assert {r.action for r in logged} == set(EVENT_NAMES)  # the history takes every action
    assert (tally.delivered, again.claimed) == (len(logged), 0)
    assert lake.received == Counter({f"changegate-{r.seq}-{r.hash}": 1 for r in logged})
    for record in logged:
        event = lake.events[f"changegate-{record.seq}-{record.hash}"]
        payload = json.loads(record.payload)
        assert event == {
            "version": "1.0",
            "userIdentity": {
                # The expiry job acts as `system`; everything else here is a person.
                "type": "ChangegateService" if record.actor == "system" else "ChangegateUser",
                "principalId": record.actor,
                **({"details": {"authenticated": False}} if "authenticated" in payload else {}),
            },
            "userAgent": "changegate",
            "eventSource": "changegate",
            "eventName": EVENT_NAMES[record.action],
            "eventTime": record.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            "UID": f"changegate-{record.seq}-{record.hash}",
            "requestParameters": {"subject": record.subject, **payload},
            "recipientAccountId": "123456789012",
            "additionalEventData": {
                "ledgerSeq": record.seq,
                "ledgerHash": record.hash,
                "ledgerPrevHash": record.prev_hash,
                "ledgerAction": record.action,
                "ledgerAt": record.at.astimezone(UTC).isoformat(timespec="microseconds"),
                "clockOverride": False,
            },
        }, record.action
    assert {r.status for r in lake_rows(org)} == {"delivered"}


def test_a_partial_failure_sends_again_only_the_refused_events(
    org: App, lake: FakeCloudTrailLake
) -> None:
    for minutes in range(3):
        create(org, at_offset=minutes)
    first, refused, third = (f"changegate-{r.seq}-{r.hash}" for r in records(org))
    lake.fail_ids[refused] = 1
    clock = Clock(T0 + timedelta(hours=1))

    tally = drain(org, sink(lake), "w1", clock)
    waiting = {r.event_key: r for r in lake_rows(org) if r.status == "pending"}
    clock.advance(seconds=outbox.retry_delay(1).total_seconds())
    later = drain(org, sink(lake), "w1", clock)

    assert (tally.delivered, tally.retrying, later.delivered) == (2, 1, 1)
    [row] = waiting.values()
    assert (
        row.attempts == 1 and row.last_error == "Throttling: Rate exceeded; retry the event later."
    )
    assert [call["ids"] for call in lake.calls] == [[first, refused, third], [refused]]
    assert lake.received == Counter({first: 1, refused: 1, third: 1})


def test_an_outage_delays_events_and_loses_none(org: App, lake: FakeCloudTrailLake) -> None:
    for minutes in range(3):
        create(org, at_offset=minutes)
    lake.stop()
    clock = Clock(T0 + timedelta(hours=1))
    down = drain(org, sink(lake), "w1", clock)
    pending = lake_rows(org)
    lake.start()
    clock.advance(minutes=1)
    back = drain(org, sink(lake), "w1", clock)

    assert (down.delivered, down.retrying, down.down) == (0, 3, {CLOUDTRAIL})
    assert {(r.status, r.attempts) for r in pending} == {("pending", 1)}
    assert all("no response" in (r.last_error or "") for r in pending)
    assert back.delivered == 3 and len(lake.received) == 3
    assert set(lake.received.values()) == {1}


def test_an_event_refused_every_time_ends_dead_and_visible(
    org: App, lake: FakeCloudTrailLake, cli: Any
) -> None:
    create(org)
    [record] = records(org)
    lake.fail_ids[f"changegate-{record.seq}-{record.hash}"] = outbox.MAX_ATTEMPTS + 5
    clock = Clock(T0 + timedelta(hours=1))
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        drain(org, sink(lake), "w1", clock)
        clock.advance(seconds=outbox.retry_delay(attempt).total_seconds())
    drain(org, sink(lake), "w1", clock)

    [row] = lake_rows(org)
    assert (row.status, row.attempts) == ("dead", outbox.MAX_ATTEMPTS)
    assert len(lake.calls) == outbox.MAX_ATTEMPTS and not lake.received
    listed: Result = cli("outbox", "list", "--status", "dead")
    assert listed.code == 0 and "cloudtrail" in listed.out and "Throttling" in listed.out


def test_a_call_refused_as_a_whole_is_retried_for_every_event(
    org: App, lake: FakeCloudTrailLake
) -> None:
    create(org)
    lake.refuse_calls.append((400, "ChannelNotFound"))
    tally = drain(org, sink(lake), "w1", Clock(T0 + timedelta(hours=1)))
    [row] = lake_rows(org)
    assert (tally.retrying, row.status, row.attempts) == (1, "pending", 1)
    assert "HTTP 400: ChannelNotFound" in (row.last_error or "")


def test_batches_of_at_most_100_events_per_call(org: App, lake: FakeCloudTrailLake) -> None:
    def many(ctx: Context) -> None:
        for i in range(150):
            ctx.record("change.edited", f"CHG-{i}", {"version": 2, "changed": ["impact"]})

    org.run(many, actor=ALICE, at=T0)
    tally = drain(org, sink(lake), "w1", Clock(T0 + timedelta(hours=1)))
    assert tally.delivered == 150
    assert [len(call["ids"]) for call in lake.calls] == [100, 50]


def test_batches_stay_under_one_megabyte() -> None:
    event = {"id": "x", "eventData": "a" * 300_000}
    sizes = [len(b) for b in batches([(i, event) for i in range(10)])]
    assert sizes == [3, 3, 3, 1] and REQUEST_BYTES < 4 * 300_000


def test_the_worker_sends_through_the_configured_channel(
    org: App, lake: FakeCloudTrailLake, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`changegate worker --once` with the settings an operator sets."""
    create(org)  # queued at T0, which the worker's real clock is past
    monkeypatch.setenv("CHANGEGATE_CLOUDTRAIL_CHANNEL_ARN", CHANNEL)
    monkeypatch.setenv("CHANGEGATE_CLOUDTRAIL_ENDPOINT_URL", lake.url)
    assert datetime.now(UTC) > T0
    result: Result = cli("worker", "--once")
    assert result.code == 0, result.err
    assert len(lake.received) == 1 and "1 delivered" in result.err


@pytest.mark.parametrize(
    ("arn", "message"),
    [
        ("channel/abc", "not a CloudTrail channel ARN"),
        ("arn:aws:cloudtrail:eu-west-1:1234:channel/abc", "not a CloudTrail channel ARN"),
        ("arn:aws:s3:::bucket", "not a CloudTrail channel ARN"),
    ],
)
def test_a_bad_channel_arn_stops_start_up_in_one_line(
    cli: Any, monkeypatch: pytest.MonkeyPatch, arn: str, message: str
) -> None:
    monkeypatch.setenv("CHANGEGATE_CLOUDTRAIL_CHANNEL_ARN", arn)
    result: Result = cli("worker", "--once")
    assert result.code == 2 and message in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_a_copy_sent_again_after_a_worker_died_carries_the_same_id(
    org: App, lake: FakeCloudTrailLake
) -> None:
    """The worker sent the batch, then died before recording it: its claims run out, another
    worker sends the same events again under the same ids, and the peer keeps one of each."""
    for minutes in range(2):
        create(org, at_offset=minutes)
    clock = Clock(T0 + timedelta(hours=1))
    claims = org.run(lambda ctx: outbox.claim(ctx, "dead", [CLOUDTRAIL], 100), at=clock())
    sender = sink(lake)[CLOUDTRAIL]
    assert isinstance(sender, BatchNotifier)
    sender.send_many([c.message for c in claims])
    clock.advance(seconds=outbox.CLAIM_HOLD.total_seconds() + 1)
    tally = drain(org, sink(lake), "w2", clock)

    assert len(claims) == 2 and tally.delivered == 2
    assert set(lake.received.values()) == {2} and len(lake.events) == 2
    first, again = (call["ids"] for call in lake.calls)
    assert first == again
    assert {r.status for r in lake_rows(org)} == {"delivered"}
