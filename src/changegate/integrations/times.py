"""Timestamps as AWS APIs and files hand them over: datetimes, ISO strings or epoch numbers."""

from __future__ import annotations

from datetime import UTC, datetime

from changegate.domain.errors import BadInput


def aws_time(value: object, where: str, field: str) -> datetime:
    """Aware UTC; naive values are UTC (AWS documents every timestamp in UTC)."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value  # milliseconds past 5138 AD in seconds
        parsed = datetime.fromtimestamp(seconds, UTC)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise BadInput(f"{where}: bad {field} {value[:40]!r}") from None
    else:
        raise BadInput(f"{where}: missing {field}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
