"""The change calendar on a real database: windows and freezes by week in the policy's zone,
conflicts once each, withdrawn changes off the calendar, a bad range refused."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from changegate.bootstrap import App
from changegate.db.models import Change, User
from changegate.domain.errors import BadInput
from changegate.policy import from_document
from changegate.services.context import Context
from changegate.services.views.calendar import CalendarOut, calendar

BERLIN = from_document(
    {
        "timezone": "Europe/Berlin",
        "gate": {
            "freeze_windows": [
                {
                    "name": "year-end",
                    "start": "2026-12-21T00:00:00+01:00",
                    "end": "2027-01-04T00:00:00+01:00",
                },
                {"name": "spring", "start": "2027-03-01T00:00:00Z", "end": "2027-03-02T00:00:00Z"},
            ]
        },
    },
    "test policy",
)


def t(day: int, hour: float = 0) -> datetime:
    return datetime(2026, 12, day, tzinfo=UTC) + timedelta(hours=hour)


def seed(ctx: Context) -> None:
    user = User(email="a@example.com", name="A", created_at=t(1))
    ctx.session.add(user)
    ctx.session.flush()
    rows = [  # status, start, end, services, environments
        ("approved", t(7, 9), t(7, 11), ["orders"], ["production"]),
        ("submitted", t(7, 10), t(7, 12), ["orders", "search"], ["production"]),
        ("submitted", t(7, 11), t(7, 13), ["orders"], ["staging"]),  # touches CHG-1's end
        ("approved", t(20, 22), t(21, 3), ["search"], ["production"]),  # into the freeze
        ("cancelled", t(7, 9), t(7, 12), ["orders"], ["production"]),  # off the calendar
        ("draft", t(6, 23.5), t(6, 23.75), ["mail"], ["production"]),  # Mon 00:30 Berlin
        ("approved", t(9, 9), None, ["orders"], ["production"]),  # no end: not planned
    ]
    for n, (status, start, end, services, envs) in enumerate(rows, 1):
        ctx.session.add(
            Change(
                number=n,
                key=f"CHG-{n}",
                requester_id=user.id,
                status=status,
                version_hash="0" * 64,
                title=f"change {n}",
                risk="low",
                change_type="normal",
                created_at=t(1),
                updated_at=t(1),
                window_start=start,
                window_end=end,
                affected_services=services,
                environments=envs,
            )
        )


def read(app: App, first: date, last: date) -> CalendarOut:
    def run(ctx: Any) -> CalendarOut:
        return calendar(dataclasses.replace(ctx, policy=BERLIN), first, last)

    return app.run(run, at=t(1))


def test_the_month_by_week_with_its_conflicts(app: App) -> None:
    app.run(seed, at=t(1))
    cal = read(app, date(2026, 12, 1), date(2026, 12, 31))
    assert cal.timezone == "Europe/Berlin"
    assert [w.week for w in cal.weeks] == [f"2026-W{n}" for n in range(49, 54)]
    assert [c.key for c in cal.changes] == ["CHG-6", "CHG-1", "CHG-2", "CHG-3", "CHG-4"]
    by_week = {w.week: [c.key for c in w.changes] for w in cal.weeks}
    # CHG-6 starts Sunday 23:30 UTC: Monday in Berlin, so week 50, not 49.
    assert by_week["2026-W49"] == []
    assert by_week["2026-W50"] == ["CHG-6", "CHG-1", "CHG-2", "CHG-3"]
    assert by_week["2026-W51"] == ["CHG-4"]  # Sun 20 Dec 23:00 Berlin to Mon 04:00
    assert by_week["2026-W52"] == ["CHG-4"]
    assert {w.week: [f.name for f in w.freezes] for w in cal.weeks} == {
        "2026-W49": [],
        "2026-W50": [],
        "2026-W51": [],
        "2026-W52": ["year-end"],
        "2026-W53": ["year-end"],
    }
    assert [(c.kind, c.change, c.other, c.on, c.start, c.end) for c in cal.conflicts] == [
        ("overlap", "CHG-1", "CHG-2", "orders", t(7, 10), t(7, 11)),
        ("overlap", "CHG-2", "CHG-3", "orders", t(7, 11), t(7, 12)),
        ("freeze", "CHG-4", "year-end", "production", t(20, 23), t(21, 3)),
    ]
    conflicts = {c.key: c.conflicts for c in cal.changes}
    assert conflicts == {
        "CHG-6": [],
        "CHG-1": ["CHG-2"],
        "CHG-2": ["CHG-1", "CHG-3"],
        "CHG-3": ["CHG-2"],
        "CHG-4": ["year-end"],
    }
    assert [f.name for f in cal.freezes] == ["year-end"]


def test_one_day(app: App) -> None:
    app.run(seed, at=t(1))
    cal = read(app, date(2026, 12, 7), date(2026, 12, 7))
    assert [c.key for c in cal.changes] == ["CHG-6", "CHG-1", "CHG-2", "CHG-3"]
    assert [w.week for w in cal.weeks] == ["2026-W50"]


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        (date(2026, 12, 31), date(2026, 12, 1), "ends"),
        (date(2026, 1, 1), date(2026, 12, 31), "at most 92 days"),
    ],
)
def test_a_bad_range_is_bad_input(app: App, first: date, last: date, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        read(app, first, last)
