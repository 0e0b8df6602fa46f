"""`changegate cab meeting ...`: CAB meetings, from the agenda to the frozen minutes."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from changegate.cli import transport
from changegate.cli.formats import plural, when
from changegate.cli.options import DEFAULT, As, Json, Limit, Offset, group, read_input
from changegate.cli.output import Column, emit_json, footer, record, say, table
from changegate.config import parse_instant
from changegate.domain.approvals import ApprovalRole
from changegate.domain.cab import Outcome
from changegate.domain.errors import BadInput
from changegate.services import cab
from changegate.services.cab_minutes import MinutesFormat
from changegate.services.context import Context
from changegate.services.views import cab as views
from changegate.services.views.cab import AgendaItemOut, MeetingOut, MeetingSummaryOut
from changegate.services.views.common import Page

app = group("CAB meetings: agenda, attendance, decisions, minutes.")
meeting_app = group("CAB meetings: create, attend, decide, minutes, close, show, list.")
app.add_typer(meeting_app, name="meeting")

MeetingId = Annotated[int, typer.Argument(metavar="ID", min=1, max=2**31 - 1)]
URL = "/api/v1/cab/meetings"


class Verb(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    DEFER = "defer"


OUTCOME = {
    Verb.APPROVE: Outcome.APPROVED,
    Verb.REJECT: Outcome.REJECTED,
    Verb.DEFER: Outcome.DEFERRED,
}


@meeting_app.command("create")
def create(
    at: Annotated[str, typer.Option(metavar="ISO-8601 time", help="When it is held.")],
    title: Annotated[str, typer.Option()] = "",
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Call a meeting; its agenda is every change awaiting CAB now, each at its version."""
    held_at = parse_instant(at, "--at")
    out = transport.write(
        "cab meeting create",
        as_,
        MeetingOut,
        lambda ctx: views.meeting(ctx.session, cab.create_meeting(ctx, held_at, title)),
        lambda r: r.call("POST", URL, json={"at": held_at.isoformat(), "title": title}),
    )
    if json_out:
        emit_json(out)
        return
    say(
        f"CAB meeting {out.id} at {when(out.held_at)}: "
        f"{plural(len(out.agenda), 'item')} on the agenda"
    )


@meeting_app.command("list")
def list_(
    limit: Limit = DEFAULT, offset: Offset = 0, as_: As = None, json_out: Json = False
) -> None:
    """CAB meetings, the most recently held first."""
    page = transport.read(
        "cab meeting list",
        as_,
        Page[MeetingSummaryOut],
        lambda ctx: views.page(ctx, limit, offset),
        lambda r: r.call("GET", URL, params={"limit": limit, "offset": offset}),
    )
    if json_out:
        emit_json(page)
        return
    table(
        f"CAB meetings ({page.total})",
        ["id", Column("title", wrap=True), "held at", "status", "items", "attendees"],
        [[m.id, m.title, when(m.held_at), m.status, m.items, m.attendees] for m in page.items],
        empty="no CAB meetings",
    )
    footer(len(page.items), page.total, offset)


@meeting_app.command("show")
def show(meeting_id: MeetingId, as_: As = None, json_out: Json = False) -> None:
    """One meeting: its agenda with each decision, who attended, the minutes."""
    out = transport.read(
        "cab meeting show",
        as_,
        MeetingOut,
        lambda ctx: views.show(ctx, meeting_id),
        lambda r: r.call("GET", f"{URL}/{meeting_id}"),
    )
    emit_json(out) if json_out else show_meeting(out)


def _version(item: AgendaItemOut) -> str:
    if item.moved:
        return f"{item.version}, now {item.current_version} (moved)"
    return str(item.version)


def show_meeting(m: MeetingOut) -> None:
    record(
        f"CAB meeting {m.id}  {m.title} ({m.status})",
        [
            ("held at", when(m.held_at)),
            ("called by", m.created_by),
            ("attendees", [f"{a.email} ({', '.join(a.roles)})" for a in m.attendance]),
            ("closed", f"{when(m.closed_at)} by {m.closed_by}" if m.closed_at else None),
            ("minutes sha256", m.minutes_sha256),
        ],
    )
    table(
        "Agenda",
        ["#", "change", Column("title", wrap=True), "awaiting", "version", "status"],
        [[i.position, i.change, i.title, i.kind, _version(i), i.change_status] for i in m.agenda],
        empty="nothing on the agenda",
    )
    decided = [d for i in m.agenda for d in i.decisions]
    table(
        "Decisions",
        ["change", "decision", "by", "as", "version", "at", Column("reason", wrap=True)],
        [[d.change, d.outcome, d.by, d.role, d.version, when(d.at), d.reason] for d in decided],
        empty="no decisions yet",
    )
    say(
        "minutes:\n" + "\n".join(f"  {line}" for line in m.minutes.splitlines())
        if m.minutes
        else "no minutes yet"
    )


@meeting_app.command("attend")
def attend(
    meeting_id: MeetingId,
    person: Annotated[
        str | None, typer.Option(metavar="EMAIL", help="Only ever yourself (the default).")
    ] = None,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Mark yourself present (nobody marks another person present)."""
    body = {"person": person} if person else None
    out = transport.write(
        "cab meeting attend",
        as_,
        MeetingOut,
        lambda ctx: views.meeting(ctx.session, cab.attend(ctx, meeting_id, person)),
        lambda r: r.call("POST", f"{URL}/{meeting_id}/attendance", json=body),
    )
    if json_out:
        emit_json(out)
        return
    say(f"CAB meeting {out.id}: {plural(len(out.attendance), 'attendee')} present")


@meeting_app.command("decide")
def decide(
    meeting_id: MeetingId,
    change: Annotated[str, typer.Argument(metavar="CHANGE", help="An agenda item's change.")],
    verb: Annotated[Verb, typer.Argument(metavar="approve|reject|defer", case_sensitive=False)],
    version: Annotated[
        int,
        typer.Option(min=1, max=2**31 - 1, metavar="N", help="The change's version you decide on."),
    ],
    reason: Annotated[str, typer.Option(help="Why (needed to reject or defer).")] = "",
    role: Annotated[
        ApprovalRole | None, typer.Option(case_sensitive=False, help="cab or iso (default: cab).")
    ] = None,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Decide an agenda item: approve or reject its current version (your approval of the
    change, as `change approve`), or defer it with a reason."""
    outcome = OUTCOME[verb]
    body = {"change": change, "outcome": outcome.value, "version": version, "reason": reason}

    def local(ctx: Context) -> MeetingOut:
        cab.decide_item(ctx, meeting_id, change, outcome, version, reason, role)
        return views.show(ctx, meeting_id)

    out = transport.write(
        "cab meeting decide",
        as_,
        MeetingOut,
        local,
        lambda r: r.call(
            "POST",
            f"{URL}/{meeting_id}/decisions",
            json=body | ({"role": role.value} if role else {}),
        ),
    )
    if json_out:
        emit_json(out)
        return
    item = next(i for i in out.agenda if i.change == change.strip().upper())
    mine = item.decisions[-1]
    say(
        f"{item.change}: {mine.outcome} by {mine.by} as {mine.role} at CAB meeting {out.id} "
        f"(version {mine.version}); change status {item.change_status}"
    )


@meeting_app.command("minutes")
def minutes(
    meeting_id: MeetingId,
    text: Annotated[str | None, typer.Option(help="The minutes' text.")] = None,
    file: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Read the text from FILE.")
    ] = None,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Write the minutes (replacing earlier text) until the meeting is closed."""
    if (text is None) == (file is None):
        raise BadInput("give the minutes as exactly one of --text TEXT or --file FILE")
    if file is not None:
        try:
            text = read_input(file, "--file", limit=400_000).decode("utf-8")
        except UnicodeDecodeError:
            raise BadInput(f"--file {file} is not UTF-8 text") from None
    written = text or ""
    out = transport.write(
        "cab meeting minutes",
        as_,
        MeetingOut,
        lambda ctx: views.meeting(ctx.session, cab.edit_minutes(ctx, meeting_id, written)),
        lambda r: r.call("PUT", f"{URL}/{meeting_id}/minutes", json={"text": written}),
    )
    if json_out:
        emit_json(out)
        return
    say(f"CAB meeting {out.id}: minutes saved ({plural(len(out.minutes), 'character')})")


@meeting_app.command("close")
def close(meeting_id: MeetingId, as_: As = None, json_out: Json = False) -> None:
    """Close the meeting: its minutes, attendance and decisions become immutable, and the
    SHA-256 of the minutes document goes into the ledger."""
    out = transport.write(
        "cab meeting close",
        as_,
        MeetingOut,
        lambda ctx: views.meeting(ctx.session, cab.close_meeting(ctx, meeting_id)),
        lambda r: r.call("POST", f"{URL}/{meeting_id}/close"),
    )
    if json_out:
        emit_json(out)
        return
    say(f"CAB meeting {out.id} closed; minutes sha256 {out.minutes_sha256}")


@meeting_app.command("minutes-doc")
def minutes_doc(
    meeting_id: MeetingId,
    out: Annotated[Path, typer.Option(metavar="FILE", help="Where to write the document.")],
    format: Annotated[MinutesFormat, typer.Option(case_sensitive=False)] = MinutesFormat.HTML,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Write the printable minutes (attendees, agenda, decisions, minutes, the frozen hash)."""

    def local(ctx: Context) -> bytes:
        if format is MinutesFormat.PDF:
            return cab.minutes_document(ctx.session, meeting_id)[1]
        return cab.minutes_html(ctx.session, meeting_id).encode()

    data = transport.read(
        "cab meeting minutes-doc",
        as_,
        bytes,
        local,
        lambda r: r.download(
            f"{URL}/{meeting_id}/minutes-document", params={"format": format.value}
        ),
    )
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise BadInput(f"cannot write {out}: {exc.strerror}") from None
    if json_out:
        emit_json(
            {"meeting": meeting_id, "format": format.value, "out": str(out), "bytes": len(data)}
        )
        return
    say(f"CAB meeting {meeting_id}: minutes written to {out} ({plural(len(data), 'byte')})")
