"""How commands talk: Rich for people, --json for machines, one line on stderr for errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table


def console() -> Console:
    # Piped output (CI logs, `| less`) has no terminal width; 80 columns would fold every table.
    width = None if sys.stdout.isatty() else 160
    return Console(soft_wrap=True, highlight=False, width=width)


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


def say(message: str) -> None:
    console().print(message, markup=False)


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    # Cells are people's text ("[fix] x[/y]"), never Rich markup: print them as typed.
    grid = Table(title=escape(title), title_justify="left")
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*["" if cell is None else escape(str(cell)) for cell in row])
    console().print(grid)


def error(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")
