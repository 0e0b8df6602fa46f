"""How commands talk: readable text for people, the read models as JSON for machines.

People get a record (a heading, then aligned `label  value` lines) or a table. On a terminal a
table fits its width (`COLUMNS` is honoured) and wraps only free text, never a key or an email;
into a pipe it is plain aligned text, one row a line, nothing cut. No line ends in blanks.
Errors are one line on stderr (`error: ...`).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

NONE = "none"


def emit_json(value: BaseModel | Sequence[BaseModel] | dict[str, Any]) -> None:
    """The read model exactly as the API serves it."""
    if isinstance(value, BaseModel):
        data: Any = value.model_dump(mode="json")
    elif isinstance(value, dict):
        data = value
    else:
        data = [v.model_dump(mode="json") for v in value]
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def say(message: str) -> None:
    sys.stdout.write("\n".join(line.rstrip() for line in message.split("\n")) + "\n")


def error(message: str) -> None:
    sys.stderr.write(f"error: {' '.join(message.split())}\n")


def is_tty() -> bool:
    return sys.stdout.isatty()


def width() -> int:
    """The terminal's width: `COLUMNS` if set, else what the terminal says, else 100."""
    raw = os.environ.get("COLUMNS", "")
    if raw.isdigit() and int(raw) >= 20:
        return int(raw)
    return shutil.get_terminal_size((100, 24)).columns


def cell(value: object) -> str:
    if value is None or value in ("", []):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def record(heading: str, fields: Iterable[tuple[str, object]]) -> None:
    """A heading, then `label  value` lines aligned on the longest label. Empty values are
    left out, except lists, which say `none`; multi-line values are indented under theirs."""
    rows = [(label, _field(value)) for label, value in fields if _shown(value)]
    pad = max((len(label) for label, _ in rows), default=0)
    lines = [heading]
    for label, text in rows:
        first, *rest = text.split("\n") or [""]
        lines.append(f"  {label:<{pad}}  {first}")
        lines.extend(f"  {'':<{pad}}  {more}" for more in rest)
    say("\n".join(lines))


def _shown(value: object) -> bool:
    return value is not None and value != ""


def _field(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) if value else NONE
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@dataclass(frozen=True)
class Column:
    """`wrap`: free text that may fold over lines on a terminal; keys, emails, statuses and
    times never do (a fold in the middle of an email makes it unreadable and un-copyable)."""

    name: str
    wrap: bool = False


def table(
    title: str | None, columns: Sequence[Column | str], rows: Sequence[Sequence[object]], empty: str
) -> None:
    if not rows:
        say(empty)
        return
    cols = [c if isinstance(c, Column) else Column(c) for c in columns]
    texts = [[cell(v) for v in row] for row in rows]
    say(_rich(title, cols, texts) if is_tty() else _plain(title, cols, texts))


def _plain(title: str | None, cols: Sequence[Column], rows: list[list[str]]) -> str:
    grid = [[c.name for c in cols], *rows]
    widths = [max(len(r[i]) for r in grid) for i in range(len(cols))]
    lines = [title] if title else []
    for row in grid:
        lines.append("  ".join(text.ljust(w) for text, w in zip(row, widths, strict=True)))
    return "\n".join(lines)


WRAP_MIN = 20  # the narrowest a free-text column is squeezed to before rows go vertical


def _rich(title: str | None, cols: Sequence[Column], rows: list[list[str]]) -> str:
    """A table as wide as the terminal allows: keys, emails and times at full length, free
    text wrapped. If even that cannot fit, each row is shown as a record instead."""
    longest = [max(len(c.name), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
    needed = sum(min(n, WRAP_MIN) if c.wrap else n for c, n in zip(cols, longest, strict=True))
    if needed + 2 * (len(cols) - 1) > width():
        return _vertical(title, cols, rows)
    # Imported here: Rich costs start-up time that only a terminal table needs.
    from rich import box  # noqa: PLC0415
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    grid = Table(
        title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False
    )
    for c, n in zip(cols, longest, strict=True):
        grid.add_column(
            c.name, no_wrap=not c.wrap, overflow="fold", min_width=None if c.wrap else n
        )
    for row in rows:
        grid.add_row(*row)
    buffer = io.StringIO()
    out = Console(file=buffer, width=width(), color_system=None, highlight=False, markup=False)
    out.print(grid)
    return "\n".join(line.rstrip() for line in buffer.getvalue().rstrip("\n").splitlines())


def _vertical(title: str | None, cols: Sequence[Column], rows: list[list[str]]) -> str:
    pad = max(len(c.name) for c in cols[1:]) if len(cols) > 1 else 0
    room = max(width() - pad - 4, WRAP_MIN)
    lines = [title] if title else []
    for row in rows:
        lines.append(row[0])
        for c, text in zip(cols[1:], row[1:], strict=True):
            if text == "-":
                continue  # as in a record, an empty field is left out
            first, *rest = textwrap.wrap(text, room) if c.wrap and text else [text]
            lines.append(f"  {c.name:<{pad}}  {first}")
            lines.extend(f"  {'':<{pad}}  {more}" for more in rest)
    return "\n".join(lines)


def footer(shown: int, total: int, offset: int) -> None:
    """Under a page of a list: where it sits in the whole, and how to see the rest."""
    if total > shown or offset:
        first, last = (offset + 1, offset + shown) if shown else (offset, offset)
        more = f"; --offset {offset + shown} for more" if offset + shown < total else ""
        say(f"{first}-{last} of {total}{more}")
