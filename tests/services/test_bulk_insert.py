"""The bulk insert the CloudTrail ingest stores through (db/bulk.py) stores what the ORM would:
on both databases, every column read back through the ORM equal to what was given, whatever
the text holds (array and CSV syntax, quotes, backslashes, other scripts, empty strings), with
NULLs, time zones and a key repeated in one call stored once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from changegate.bootstrap import App
from changegate.db.models import TrailEvent
from changegate.db.trail import TrailEvents

AT = datetime(2026, 11, 30, 10, 4, 31, 123456, tzinfo=UTC)
AWKWARD = [
    'quote " and \\ backslash',
    "{braces,commas}",
    "NULL",
    "",
    "tab\tnewline\nend",
    "ünïcødé ✓ 変更",
    "'single'",
]


def row(n: int, text: str) -> dict[str, Any]:
    return {
        "event_id": f"e-{n}",
        "event_time": AT + timedelta(seconds=n),
        "event_source": "ec2.amazonaws.com",
        "event_name": text[:128] or "x",
        "account": "123456789012" if n % 2 else None,
        "region": "us-east-1",
        "environment": None,
        "kind": "change",
        "actor_kind": "person",
        "principal": text,
        "actor_name": text,
        "change_key": None,
        "error_code": text[:256] if n % 3 else None,
        "source": f"s3://b/{text}",
        "position": n,
        "raw": f'{{"eventID": "e-{n}", "text": {text!r}}}',
        "ingested_at": AT.astimezone(timezone(timedelta(hours=-5))),  # stored as UTC
    }


def test_rows_come_back_as_given(app: App) -> None:
    assert AWKWARD
    rows = [row(n, text) for n, text in enumerate(AWKWARD)]
    again = dict(rows[0])  # the same key twice in one call: stored once, the first wins
    again["principal"] = "second"
    added = app.run(lambda ctx: TrailEvents(ctx.session).add([*rows, again]))
    assert added == {r["event_id"] for r in rows}
    stored = app.read(
        lambda ctx: {
            e.event_id: {c: getattr(e, c) for c in rows[0]}
            for e in ctx.session.query(TrailEvent).all()
        }
    )
    assert stored == {r["event_id"]: r for r in rows}
    assert all(s["ingested_at"].tzinfo is UTC for s in stored.values())


def test_a_second_call_adds_only_the_new_ones(app: App) -> None:
    first = [row(n, "a") for n in range(3)]
    assert app.run(lambda ctx: TrailEvents(ctx.session).add(first)) == {"e-0", "e-1", "e-2"}
    later = [row(n, "b") for n in range(2, 5)]
    assert app.run(lambda ctx: TrailEvents(ctx.session).add(later)) == {"e-3", "e-4"}
    assert app.read(lambda ctx: TrailEvents(ctx.session).count()) == 5


def test_calls_in_one_transaction_each_add_only_their_own(app: App) -> None:
    """Several calls in one transaction (a group of files): each returns only the keys it
    stored, and a key the first stored is not stored again."""

    def twice(ctx: Any) -> tuple[set[str], set[str]]:
        events = TrailEvents(ctx.session)
        return events.add([row(n, "a") for n in range(3)]), events.add(
            [row(n, "b") for n in range(2, 6)]
        )

    assert app.run(twice) == ({"e-0", "e-1", "e-2"}, {"e-3", "e-4", "e-5"})
    assert app.read(lambda ctx: TrailEvents(ctx.session).count()) == 6


def test_a_transaction_that_fails_stores_nothing_and_the_next_one_stores(app: App) -> None:
    def then_fail(ctx: Any) -> None:
        TrailEvents(ctx.session).add([row(n, "a") for n in range(3)])
        raise RuntimeError("the group's transaction fails after its events were added")

    with pytest.raises(RuntimeError):
        app.run(then_fail)
    assert app.read(lambda ctx: TrailEvents(ctx.session).count()) == 0
    assert app.run(lambda ctx: TrailEvents(ctx.session).add([row(1, "b")])) == {"e-1"}
    assert app.read(lambda ctx: TrailEvents(ctx.session).count()) == 1
