"""Values as people read them: instants to the second, business-day deadlines, durations."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

MINUTE, HOUR, DAY = 60, 3600, 86400


def when(instant: datetime | None) -> str | None:
    """`2026-11-25 15:00:00+00:00`: to the second, with the offset, as stored (UTC)."""
    if instant is None:
        return None
    return instant.replace(microsecond=0).isoformat(sep=" ")


def deadline(instant: datetime | None, tz: str | None) -> str | None:
    """A business-day deadline is stored as the instant its day ends in the policy's time zone;
    people read it as `end of Thu 2026-12-03 (America/New_York)`. Anything else: `when`."""
    if instant is None:
        return None
    if tz:
        local = instant.astimezone(ZoneInfo(tz))
        if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
            day = local - timedelta(days=1)
            return f"end of {day:%a %Y-%m-%d} ({tz})"
    return when(instant)


def duration(seconds: float | None) -> str | None:
    """`45 s`, `12 min`, `3 h 20 min`, `2 d 4 h`."""
    if seconds is None:
        return None
    total = round(seconds)
    if total < MINUTE:
        return f"{total} s"
    if total < HOUR:
        return f"{total // MINUTE} min"
    if total < DAY:
        hours, rest = divmod(total, HOUR)
        return f"{hours} h" + (f" {rest // MINUTE} min" if rest >= MINUTE else "")
    days, rest = divmod(total, DAY)
    return f"{days} d" + (f" {rest // HOUR} h" if rest >= HOUR else "")


def plural(count: int, word: str, words: str | None = None) -> str:
    """`1 finding`, `2 findings`, `0 findings`; irregular plurals as `words`."""
    return f"{count} {word if count == 1 else (words or word + 's')}"
