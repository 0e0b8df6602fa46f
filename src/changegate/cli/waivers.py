"""`changegate waiver ...`: the policy's exceptions (EXC-1)."""

from __future__ import annotations

from typing import Annotated

import typer

from changegate.cli import transport
from changegate.cli.formats import plural, when
from changegate.cli.options import DEFAULT, As, Json, Limit, Offset, group, page_query
from changegate.cli.output import Column, emit_json, footer, record, say, table
from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.errors import BadInput
from changegate.domain.waivers import WaiverStatus
from changegate.services import waiver_reviews, waivers
from changegate.services.views import waivers as views
from changegate.services.views.common import Page
from changegate.services.views.reviews import ReviewOut, review
from changegate.services.views.waivers import WaiverOut

app = group("Waivers: time-limited, jointly approved exceptions (EXC-1).")

Key = Annotated[str, typer.Argument(metavar="WAIVER", help="A waiver key, e.g. WVR-3.")]
RoleOpt = Annotated[ApprovalRole, typer.Option(case_sensitive=False, help="cab or iso.")]
Days = Annotated[
    int, typer.Option(metavar="DAYS", min=1, max=3650, help="Requested duration in days.")
]


def _scope(raw: str) -> tuple[str, str]:
    kind, sep, value = raw.partition(":")
    if not sep or not kind.strip() or not value.strip():
        raise BadInput(f"--scope wants KIND:VALUE (e.g. change:CHG-3), got {raw!r}")
    return kind.strip().lower(), value.strip()


@app.command("request")
def request(
    title: Annotated[str, typer.Option()],
    justification: Annotated[str, typer.Option(help="The business justification.")],
    compensating: Annotated[str, typer.Option(help="Compensating controls while it holds.")],
    control: Annotated[
        list[str], typer.Option(metavar="CONTROL", help="A control id it excepts, e.g. CM-4.")
    ],
    scope: Annotated[
        str,
        typer.Option(
            metavar="KIND:VALUE",
            help="What it covers: change:CHG-3, environment:production, "
            "resource:ID or principal:EMAIL.",
        ),
    ],
    days: Days,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Request a waiver; CAB and the ISO must both approve it. Prints its key."""
    kind, value = _scope(scope)
    body = {
        "title": title,
        "justification": justification,
        "compensating_controls": compensating,
        "controls": control,
        "scope_kind": kind,
        "scope_value": value,
        "days": days,
    }
    out = transport.write(
        "waiver request",
        as_,
        WaiverOut,
        lambda ctx: views.waiver(
            waivers.request(ctx, title, justification, compensating, control, kind, value, days)
        ),
        lambda r: r.call("POST", "/api/v1/waivers", json=body),
    )
    emit_json(out) if json_out else say(out.key)


def _decide(
    key: str, as_: str | None, role: ApprovalRole, decision: Decision, comment: str, json_out: bool
) -> None:
    body = {"role": role.value, "decision": decision.value, "comment": comment}
    out = transport.write(
        f"waiver {'approve' if decision is Decision.APPROVED else 'reject'}",
        as_,
        WaiverOut,
        lambda ctx: views.waiver(waivers.decide(ctx, key, role, decision, comment)),
        lambda r: r.call("POST", f"/api/v1/waivers/{key}/approvals", json=body),
    )
    if json_out:
        emit_json(out)
        return
    who = out.approvals[-1].approver if out.approvals else "you"
    waiting = f"; awaiting {' and '.join(out.missing)}" if out.missing else ""
    until = f" until {when(out.expires_at)}" if out.status == "active" else ""
    say(f"{out.key}: {role.value} {decision.value} by {who}; status {out.status}{until}{waiting}")


@app.command("approve")
def approve(
    key: Key,
    role: RoleOpt,
    comment: Annotated[str, typer.Option()] = "",
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Approve the current round as a CAB member or as the ISO."""
    _decide(key, as_, role, Decision.APPROVED, comment, json_out)


@app.command("reject")
def reject(
    key: Key,
    role: RoleOpt,
    comment: Annotated[str, typer.Option()],
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Reject the current round, saying why."""
    _decide(key, as_, role, Decision.REJECTED, comment, json_out)


@app.command("review")
def review_waiver(
    key: Annotated[
        str | None, typer.Argument(metavar="[WAIVER]", help="The waiver to review.")
    ] = None,
    outcome: Annotated[waiver_reviews.Outcome | None, typer.Option(case_sensitive=False)] = None,
    notes: Annotated[str, typer.Option()] = "",
    days: Annotated[
        int | None,
        typer.Option(
            metavar="DAYS", min=1, max=3650, help="Duration of a renewal (default: as before)."
        ),
    ] = None,
    quarter: Annotated[
        str | None,
        typer.Option(
            metavar="QUARTER",
            help="Sign the quarterly review of all waivers instead, e.g. 2026-Q3 (the ISO).",
        ),
    ] = None,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Review a waiver at or before expiry (renew or close), or sign a quarter's review."""
    if quarter is not None:
        if key is not None or outcome is not None or days is not None:
            raise BadInput("--quarter reviews all waivers; give no WAIVER, --outcome or --days")
        _review_quarter(quarter, as_, json_out)
        return
    if key is None or outcome is None:
        raise BadInput("give a WAIVER key and --outcome renew|close, or --quarter")
    chosen = outcome
    body = {"outcome": chosen.value, "notes": notes, "days": days}
    out = transport.write(
        "waiver review",
        as_,
        WaiverOut,
        lambda ctx: views.waiver(waiver_reviews.review(ctx, key, chosen, notes, days)),
        lambda r: r.call("POST", f"/api/v1/waivers/{key}/review", json=body),
    )
    if json_out:
        emit_json(out)
    elif chosen is waiver_reviews.Outcome.RENEW:
        say(
            f"{out.key}: renewal round {out.round} for {plural(out.days, 'day')} awaits "
            f"{' and '.join(out.missing)}"
        )
    else:
        say(f"{out.key}: closed")


def _review_quarter(quarter: str, as_: str | None, json_out: bool) -> None:
    out = transport.write(
        "waiver review --quarter",
        as_,
        ReviewOut,
        lambda ctx: review(waiver_reviews.review_quarter(ctx, quarter)),
        lambda r: r.call("POST", "/api/v1/waivers/quarterly-review", json={"quarter": quarter}),
    )
    if json_out:
        emit_json(out)
        return
    counts = ", ".join(f"{n} {what}" for what, n in out.report["counts"].items())
    say(f"{out.period}: waiver review {out.id} signed by {out.author} ({counts})")


@app.command("list")
def list_(
    status: Annotated[WaiverStatus | None, typer.Option(case_sensitive=False)] = None,
    limit: Limit = DEFAULT,
    offset: Offset = 0,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """All waivers, or those in one status."""
    query = page_query(limit, offset, status=status)
    page = transport.read(
        "waiver list",
        as_,
        Page[WaiverOut],
        lambda ctx: views.page(ctx, status, limit, offset),
        lambda r: r.call("GET", "/api/v1/waivers", params=query),
    )
    if json_out:
        emit_json(page)
        return
    table(
        f"Waivers ({page.total})",
        [
            "key",
            "status",
            "controls",
            "scope",
            "days",
            "round",
            "expires",
            "requester",
            Column("title", wrap=True),
        ],
        [
            [
                w.key,
                w.status,
                ", ".join(w.controls),
                f"{w.scope.kind}:{w.scope.value}",
                w.days,
                w.round,
                when(w.expires_at),
                w.requester,
                w.title,
            ]
            for w in page.items
        ],
        empty="no waivers",
    )
    footer(len(page.items), page.total, offset)


@app.command("show")
def show(key: Key, as_: As = None, json_out: Json = False) -> None:
    """One waiver: scope, windows, decisions and what it still awaits."""
    out = transport.read(
        "waiver show",
        as_,
        WaiverOut,
        lambda ctx: views.show(ctx, key),
        lambda r: r.call("GET", f"/api/v1/waivers/{key}"),
    )
    emit_json(out) if json_out else show_waiver(out)


def show_waiver(w: WaiverOut) -> None:
    record(
        f"{w.key}  {w.title}",
        [
            ("status", w.status),
            ("requester", w.requester),
            ("controls", w.controls),
            ("scope", f"{w.scope.kind}:{w.scope.value}"),
            ("days", w.days),
            ("round", w.round),
            ("justification", w.justification),
            ("compensating controls", w.compensating_controls),
            ("requested", when(w.created_at)),
            ("active from", when(w.active_from)),
            ("expires", when(w.expires_at)),
            ("reviewed", when(w.reviewed_at)),
            ("closed", when(w.closed_at)),
            ("awaiting", w.missing or None),
        ],
    )
    say("")
    table(
        "Windows",
        ["round", "start", "end"],
        [[p.round, when(p.start), when(p.end)] for p in w.periods],
        empty="windows: none",
    )
    say("")
    table(
        "Decisions",
        ["round", "role", "decision", "by", "at", Column("comment", wrap=True)],
        [
            [a.round, a.role, a.decision, a.approver, when(a.decided_at), a.comment]
            for a in w.approvals
        ],
        empty="decisions: none",
    )
