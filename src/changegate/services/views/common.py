"""What every read model shares: the base class, instants as RFC 3339 text, and a page.

Read models (`...Out`) are what the API returns and what the CLI prints, built here from the
rows the repositories load; JSON output is `model_dump(mode="json")`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, PlainSerializer

from changegate.domain.errors import BadInput

# Full precision, with the offset ("2026-11-25T15:00:00+00:00"): the exact instant, as stored.
Instant = Annotated[datetime, PlainSerializer(lambda d: d.isoformat(), return_type=str)]

T = TypeVar("T")
DEFAULT_LIMIT = 100
MAX_LIMIT = 5000


class Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class Page(Out, Generic[T]):
    """One page of a list: `items` in the list's order, and how many there are in all."""

    items: list[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, items: Sequence[T], total: int, limit: int, offset: int) -> Page[T]:
        return cls(items=list(items), total=total, limit=limit, offset=offset)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def check_window(limit: int, offset: int) -> None:
    """One rule for every list: the API's query validation and the CLI's options agree."""
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if offset < 0:
        raise BadInput(f"offset cannot be negative, not {offset}")
