"""Instants as people read them, one wording for finding summaries, the CLI and the web app."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


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


def clip(text: str, width: int) -> str:
    """`text` cut to `width` characters, the last one an ellipsis when anything was cut."""
    return text if len(text) <= width else text[: width - 1] + "…"
