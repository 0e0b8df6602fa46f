"""Options shared by many commands, with metavars people can read in `--help`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from changegate.domain.errors import BadInput
from changegate.services.views.common import DEFAULT_LIMIT, MAX_LIMIT

AS_HELP = (
    "Act as this person (their email), on the local database. With CHANGEGATE_URL set "
    "the token is the identity and --as is refused."
)
As = Annotated[str | None, typer.Option("--as", metavar="EMAIL", help=AS_HELP)]
Json = Annotated[bool, typer.Option("--json", help="Print the record as JSON (the API's shape).")]
Limit = Annotated[int, typer.Option(metavar="N", min=1, max=MAX_LIMIT, help="Show at most N.")]
Offset = Annotated[int, typer.Option(metavar="N", min=0, help="Skip the first N.")]
Instant = Annotated[
    str | None, typer.Option(metavar="ISO-8601 time", help="e.g. 2026-12-03T14:00:00Z")
]
Quarter = Annotated[str, typer.Option(metavar="QUARTER", help="A quarter, e.g. 2026-Q3.")]
ChangeKey = Annotated[str, typer.Argument(metavar="CHANGE", help="A change key, e.g. CHG-42.")]
DEFAULT = DEFAULT_LIMIT


def group(help_text: str) -> typer.Typer:
    """A command group with the house settings (plain help, no pretty tracebacks). The empty
    callback keeps a group of one command (`gate check`) a group: Typer would otherwise turn
    it into that command, and `changegate gate check` would read `check` as an argument."""
    app = typer.Typer(
        help=help_text,
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    app.callback()(_group)
    return app


def _group() -> None:
    pass


def single(help_text: str) -> typer.Typer:
    """A Typer app holding one command (e.g. `init`), loaded lazily by the root."""
    return typer.Typer(
        help=help_text, rich_markup_mode=None, pretty_exceptions_enable=False, add_completion=False
    )


# The largest input a command reads, a little over the largest legitimate one (a 50 MiB JUnit
# report); AWS Config snapshots pass their own, larger limit.
MAX_INPUT_BYTES = 52 * 1024 * 1024


def read_input(path: Path, what: str = "", limit: int = MAX_INPUT_BYTES) -> bytes:
    """A file's bytes, at most `limit` (reading limit + 1 to know, so /dev/zero is refused at
    once), or one line of bad input naming it and why it cannot be read."""
    name = f"{what + ' ' if what else ''}{path}"
    try:
        with path.open("rb") as file:
            data = file.read(limit + 1)
    except OSError as exc:
        raise BadInput(f"cannot read {name}: {exc.strerror}") from None
    if len(data) > limit:
        raise BadInput(f"{name} is over the {limit:,}-byte limit")
    return data


def page_query(limit: int, offset: int, **filters: object) -> dict[str, object]:
    """A list endpoint's query: the page, and each filter that was given (enums by value)."""
    given = {k: getattr(v, "value", v) for k, v in filters.items() if v is not None}
    return {"limit": limit, "offset": offset} | given
