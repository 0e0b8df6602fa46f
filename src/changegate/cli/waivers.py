"""`changegate waiver ...`: the policy's exceptions (EXC-1)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.text import Text

from changegate.cli import runtime
from changegate.cli.output import console, emit_json, say, table
from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.errors import BadInput
from changegate.domain.waivers import WaiverStatus
from changegate.services import reviews, waiver_reviews, waivers
from changegate.services.context import Context

app = typer.Typer(
    help="Waivers: time-limited, jointly approved exceptions (EXC-1).", no_args_is_help=True
)

As = Annotated[str, typer.Option("--as", help="Act as this user (email).")]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _scope(raw: str) -> tuple[str, str]:
    kind, sep, value = raw.partition(":")
    if not sep or not kind.strip() or not value.strip():
        raise BadInput(f"--scope wants KIND:VALUE (e.g. change:CHG-3), got {raw!r}")
    return kind, value


@app.command("request")
def request(
    as_: As,
    title: Annotated[str, typer.Option()],
    justification: Annotated[str, typer.Option(help="The business justification.")],
    compensating: Annotated[str, typer.Option(help="Compensating controls while it holds.")],
    control: Annotated[list[str], typer.Option(help="A control id it excepts, e.g. CM-4.")],
    scope: Annotated[
        str,
        typer.Option(
            help="What it covers, KIND:VALUE: change:CHG-3, environment:production, "
            "resource:ID or principal:WHO."
        ),
    ],
    days: Annotated[int, typer.Option(help="Requested duration in days.")],
    json_out: Json = False,
) -> None:
    """Request a waiver; CAB and the ISO must both approve it. Prints its key."""
    kind, value = _scope(scope)

    def use_case(ctx: Context) -> dict[str, Any]:
        return waivers.view(
            waivers.request(ctx, title, justification, compensating, control, kind, value, days)
        )

    with runtime.app() as cg:
        out = cg.run(use_case, actor=as_)
    if json_out:
        emit_json(out)
    else:
        say(out["key"])


def _decide(
    key: str, as_: str, role: ApprovalRole, decision: Decision, comment: str, json_out: bool
) -> None:
    with runtime.app() as cg:
        out = cg.run(
            lambda ctx: waivers.view(waivers.decide(ctx, key, role, decision, comment)), actor=as_
        )
    if json_out:
        emit_json(out)
        return
    waiting = f"; awaiting {' and '.join(out['missing'])}" if out["missing"] else ""
    until = f" until {out['expires_at']}" if out["status"] == "active" else ""
    say(
        f"{out['key']}: {role.value} {decision.value} by {as_}; status {out['status']}"
        f"{until}{waiting}"
    )


@app.command("approve")
def approve(
    key: str,
    as_: As,
    role: Annotated[ApprovalRole, typer.Option()],
    comment: Annotated[str, typer.Option()] = "",
    json_out: Json = False,
) -> None:
    """Approve the current round as a CAB member or as the ISO."""
    _decide(key, as_, role, Decision.APPROVED, comment, json_out)


@app.command("reject")
def reject(
    key: str,
    as_: As,
    role: Annotated[ApprovalRole, typer.Option()],
    comment: Annotated[str, typer.Option()],
    json_out: Json = False,
) -> None:
    """Reject the current round, saying why."""
    _decide(key, as_, role, Decision.REJECTED, comment, json_out)


@app.command("review")
def review(
    as_: As,
    key: Annotated[str | None, typer.Argument(help="The waiver to review.")] = None,
    outcome: Annotated[waiver_reviews.Outcome | None, typer.Option()] = None,
    notes: Annotated[str, typer.Option()] = "",
    days: Annotated[
        int | None, typer.Option(help="Duration of a renewal (default: as before).")
    ] = None,
    quarter: Annotated[
        str | None,
        typer.Option(
            help="Sign the quarterly review of all waivers instead, e.g. 2026-Q3 (the ISO)."
        ),
    ] = None,
    json_out: Json = False,
) -> None:
    """Review a waiver at or before expiry (renew or close), or sign a quarter's review."""
    if quarter is not None:
        if key is not None or outcome is not None or days is not None:
            raise BadInput("--quarter reviews all waivers; give no KEY, --outcome or --days")
        _review_quarter(quarter, as_, json_out)
        return
    if key is None or outcome is None:
        raise BadInput("give a waiver KEY and --outcome renew|close, or --quarter")

    def use_case(ctx: Context) -> dict[str, Any]:
        return waivers.view(waiver_reviews.review(ctx, key, outcome, notes, days))

    with runtime.app() as cg:
        out = cg.run(use_case, actor=as_)
    if json_out:
        emit_json(out)
    elif outcome is waiver_reviews.Outcome.RENEW:
        say(
            f"{out['key']}: renewal round {out['round']} for {out['days']} days awaits "
            f"{' and '.join(out['missing'])}"
        )
    else:
        say(f"{out['key']}: closed")


def _review_quarter(quarter: str, as_: str, json_out: bool) -> None:
    with runtime.app() as cg:
        out = cg.run(
            lambda ctx: reviews.report_of(waiver_reviews.review_quarter(ctx, quarter)), actor=as_
        )
    if json_out:
        emit_json(out)
        return
    counts = ", ".join(f"{n} {what}" for what, n in out["counts"].items())
    say(f"{out['quarter']}: waiver review {out['review_id']} signed by {as_} ({counts})")


@app.command("list")
def list_(
    status: Annotated[WaiverStatus | None, typer.Option()] = None, json_out: Json = False
) -> None:
    """All waivers, or those in one status."""
    with runtime.app() as cg:
        rows = cg.read(lambda ctx: [waivers.view(w) for w in waivers.list_(ctx, status)])
    if json_out:
        emit_json(rows)
        return
    table(
        f"Waivers ({len(rows)})",
        ["key", "status", "controls", "scope", "days", "round", "expires", "requester", "title"],
        [
            [
                r["key"],
                r["status"],
                ", ".join(r["controls"]),
                f"{r['scope']['kind']}:{r['scope']['value']}",
                r["days"],
                r["round"],
                r["expires_at"],
                r["requester"],
                r["title"],
            ]
            for r in rows
        ],
    )


@app.command("show")
def show(key: str, json_out: Json = False) -> None:
    """One waiver: scope, windows, decisions and what it still awaits."""
    with runtime.app() as cg:
        out = cg.read(lambda ctx: waivers.view(waivers.get(ctx, key)))
    if json_out:
        emit_json(out)
        return
    _show(out)


def _show(w: dict[str, Any]) -> None:
    out = console()
    out.print(Text.assemble((w["key"], "bold"), "  ", w["title"]))
    for label, value in (
        ("status", w["status"]),
        ("requester", w["requester"]),
        ("controls", ", ".join(w["controls"])),
        ("scope", f"{w['scope']['kind']}:{w['scope']['value']}"),
        ("days", w["days"]),
        ("round", w["round"]),
        ("justification", w["justification"]),
        ("compensating controls", w["compensating_controls"]),
        ("active from", w["active_from"]),
        ("expires", w["expires_at"]),
        ("reviewed", w["reviewed_at"]),
        ("closed", w["closed_at"]),
        ("awaiting", " and ".join(w["missing"])),
    ):
        if value:
            out.print(f"{label:>22}  {value}", markup=False, highlight=False)
    if w["periods"]:
        table(
            "Windows",
            ["round", "start", "end"],
            [[p["round"], p["start"], p["end"]] for p in w["periods"]],
        )
    if w["approvals"]:
        table(
            "Decisions",
            ["round", "role", "decision", "by", "at", "comment"],
            [
                [a["round"], a["role"], a["decision"], a["approver"], a["decided_at"], a["comment"]]
                for a in w["approvals"]
            ],
        )
