"""Reporting periods: quarters ("2026-Q3") and years ("2026"), as half-open UTC ranges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from changegate.domain.errors import BadInput


@dataclass(frozen=True)
class Span:
    name: str
    start: datetime
    end: datetime


def quarter_bounds(quarter: str) -> tuple[datetime, datetime]:
    """'2026-Q3' -> [2026-07-01, 2026-10-01) in UTC."""
    try:
        year_text, q_text = quarter.upper().split("-Q")
        year, q = int(year_text), int(q_text)
        if not 1 <= q <= 4 or not 1970 <= year <= 9998:
            raise ValueError
    except ValueError:
        raise BadInput(f"not a quarter: {quarter!r} (expected e.g. 2026-Q3)") from None
    start = datetime(year, 3 * q - 2, 1, tzinfo=UTC)
    end = datetime(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1, tzinfo=UTC)
    return start, end


def quarter_of(instant: datetime) -> str:
    return f"{instant.year}-Q{(instant.month - 1) // 3 + 1}"


def previous_quarter(quarter: str) -> str:
    start, _ = quarter_bounds(quarter)
    year, q = start.year, (start.month - 1) // 3 + 1
    return f"{year - 1}-Q4" if q == 1 else f"{year}-Q{q - 1}"


def year_bounds(year: str) -> tuple[datetime, datetime]:
    """'2026' -> [2026-01-01, 2027-01-01) in UTC; BadInput for anything but a 4-digit year."""
    cleaned = year.strip()
    if not (cleaned.isascii() and cleaned.isdigit() and len(cleaned) == 4):
        raise BadInput(f"not a year: {year!r} (expected e.g. 2026)")
    number = int(cleaned)
    if not 1970 <= number <= 9998:
        raise BadInput(f"not a year: {year!r} (expected 1970 to 9998)")
    return datetime(number, 1, 1, tzinfo=UTC), datetime(number + 1, 1, 1, tzinfo=UTC)


def parse(text: str) -> Span:
    """A quarter ("2026-Q3") or a whole year ("2026")."""
    cleaned = text.strip().upper()
    if cleaned.isdigit() and len(cleaned) == 4 and 1970 <= int(cleaned) <= 9998:
        year = int(cleaned)
        return Span(cleaned, datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC))
    if "-Q" not in cleaned:
        raise BadInput(f"not a period: {text!r} (expected a quarter like 2026-Q3 or a year)")
    start, end = quarter_bounds(cleaned)
    return Span(cleaned, start, end)
