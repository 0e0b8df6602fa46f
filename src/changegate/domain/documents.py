"""Documents from outside (request bodies, webhook payloads, templates, configuration items,
policy and checkpoint files) as plain values, bounded: a document nested deeper than any real
one is bad input ("nested too deeply"), never a RecursionError further in; text with NUL in it
is bad input too (PostgreSQL's text cannot hold it, so SQLite must not either)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from changegate.domain.errors import BadInput

# Instants a person or a pipeline may give: far enough from datetime's ends (year 1 to 9999)
# that a window's tolerance or a deadline's business days never overflow.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)

# Real CloudFormation templates, AWS Config items and GitHub payloads nest under 20 levels.
MAX_DEPTH = 100


def too_deep(source: str) -> BadInput:
    return BadInput(f"{source}: nested too deeply (over {MAX_DEPTH} levels)")


def check_depth(value: Any, source: str) -> Any:
    """`value` unchanged if no list or mapping in it is more than MAX_DEPTH levels down.

    Iterative, so it is safe on whatever a parser returned. Raises BadInput."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > MAX_DEPTH:
            raise too_deep(source)
        stack.extend((child, depth + 1) for child in children)
    return value


def loads_json(data: str | bytes, source: str) -> Any:
    """JSON text (RFC 8259) as Python values, depth-checked.

    Raises BadInput when nested too deeply; json.JSONDecodeError and UnicodeDecodeError (both
    ValueError) propagate, so a caller can name the line and column."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise too_deep(source) from None
    return check_depth(value, source)


def _strings(value: Any) -> Iterator[str]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)


def has_nul(value: Any) -> bool:
    """True if any string in `value` (keys included) holds the character U+0000. The six
    characters `\\u0000` typed as text are not a NUL."""
    return any("\x00" in text for text in _strings(value))


def check_instant(value: datetime, what: str) -> datetime:
    """`value` if it lies from 1970 to 9000 (UTC); BadInput naming `what` if not."""
    if not EARLIEST <= value < LATEST:
        raise BadInput(f"{what}: {value.isoformat()} is outside 1970 to 9000")
    return value
