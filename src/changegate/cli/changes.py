"""`changegate change ...` and `changegate pir ...`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from changegate.cli import runtime
from changegate.cli.output import emit_json, say, table
from changegate.cli.show import show_change
from changegate.config import parse_instant
from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.changes import ChangeFields, ChangeStatus, ChangeType, Risk, Window
from changegate.services import approvals, changes, lifecycle, views
from changegate.services.context import Context

app = typer.Typer(help="Change requests.", no_args_is_help=True)
pir_app = typer.Typer(help="Post-implementation reviews.", no_args_is_help=True)

As = Annotated[str, typer.Option("--as", help="Act as this user (email).")]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
Text = Annotated[str | None, typer.Option()]
Many = Annotated[list[str] | None, typer.Option()]


def _instant(raw: str | None, what: str) -> datetime | None:
    return parse_instant(raw, what) if raw else None


def _report(key: str, change: dict[str, Any], message: str, json_out: bool) -> None:
    if json_out:
        emit_json(change)
    else:
        say(f"{key} {message}")


@app.command("create")
def create(
    as_: As,
    title: Annotated[str, typer.Option()],
    scope: Annotated[str, typer.Option()] = "",
    impact: Annotated[str, typer.Option(help="Impact assessment.")] = "",
    rollback: Annotated[str, typer.Option(help="Rollback plan.")] = "",
    risk: Annotated[Risk, typer.Option()] = Risk.MEDIUM,
    type_: Annotated[ChangeType, typer.Option("--type")] = ChangeType.NORMAL,
    justification: Annotated[str, typer.Option(help="Required for emergencies.")] = "",
    ticket: Annotated[str, typer.Option(help="Linear key or URL.")] = "",
    author: Annotated[list[str] | None, typer.Option(help="Commit author email.")] = None,
    service: Annotated[list[str] | None, typer.Option(help="Affected service.")] = None,
    env: Annotated[list[str] | None, typer.Option(help="Target environment.")] = None,
    customer_impact: Annotated[str, typer.Option()] = "",
    downtime: Annotated[int, typer.Option(help="Expected downtime, minutes.")] = 0,
    window_start: Text = None,
    window_end: Text = None,
    json_out: Json = False,
) -> None:
    """Create a change request in draft; prints its key."""
    fields = ChangeFields(
        title=title,
        scope=scope,
        impact=impact,
        rollback_plan=rollback,
        risk=risk,
        change_type=type_,
        justification=justification,
        ticket=ticket,
        commit_authors=tuple(author or ()),
        affected_services=tuple(service or ()),
        environments=tuple(env or ()),
        customer_impact=customer_impact,
        expected_downtime_minutes=downtime,
        window=Window(
            _instant(window_start, "--window-start"), _instant(window_end, "--window-end")
        ),
    )
    with runtime.app() as cg:
        made = cg.run(lambda ctx: views.summary(changes.create(ctx, fields)), actor=as_)
    if json_out:
        emit_json(made)
    else:
        say(made["key"])


EDITABLE = {
    "title": "title",
    "scope": "scope",
    "impact": "impact",
    "rollback": "rollback_plan",
    "justification": "justification",
    "ticket": "ticket",
    "customer_impact": "customer_impact",
    "downtime": "expected_downtime_minutes",
}


@app.command("edit")
def edit(
    key: str,
    as_: As,
    title: Text = None,
    scope: Text = None,
    impact: Text = None,
    rollback: Text = None,
    risk: Annotated[Risk | None, typer.Option()] = None,
    type_: Annotated[ChangeType | None, typer.Option("--type")] = None,
    justification: Text = None,
    ticket: Text = None,
    author: Many = None,
    service: Many = None,
    env: Many = None,
    customer_impact: Text = None,
    downtime: Annotated[int | None, typer.Option()] = None,
    json_out: Json = False,
) -> None:
    """Edit material fields; after submission this makes a new version needing new approvals."""
    given = locals()
    updates: dict[str, Any] = {
        field: given[opt] for opt, field in EDITABLE.items() if given[opt] is not None
    }
    for opt, field in (
        ("author", "commit_authors"),
        ("service", "affected_services"),
        ("env", "environments"),
    ):
        if given[opt] is not None:
            updates[field] = tuple(given[opt])
    if risk is not None:
        updates["risk"] = risk
    if type_ is not None:
        updates["change_type"] = type_
    with runtime.app() as cg:
        out = cg.run(lambda ctx: views.summary(changes.edit(ctx, key, updates)), actor=as_)
    _report(out["key"], out, f"is now version {out['version']} ({out['status']})", json_out)


def _transition(key: str, as_: str, json_out: bool, verb: str, use_case: Any) -> None:
    with runtime.app() as cg:
        out = cg.run(lambda ctx: views.summary(use_case(ctx, key)), actor=as_)
    _report(out["key"], out, f"{verb} (version {out['version']}, status {out['status']})", json_out)


@app.command("submit")
def submit(key: str, as_: As, json_out: Json = False) -> None:
    """Submit for CAB and ISO approval (CM-1 completeness is checked)."""
    _transition(key, as_, json_out, "submitted", changes.submit)


@app.command("implement")
def implement(key: str, as_: As, json_out: Json = False) -> None:
    """Mark implemented: an approved change, or an emergency before approval (CM-3)."""
    _transition(key, as_, json_out, "implemented", lifecycle.implement)


@app.command("close")
def close(key: str, as_: As, json_out: Json = False) -> None:
    """Close after implementation (an emergency needs its retro approvals and PIR)."""
    _transition(key, as_, json_out, "closed", lifecycle.close)


@app.command("cancel")
def cancel(key: str, as_: As, json_out: Json = False) -> None:
    """Cancel a change that has not been implemented."""
    _transition(key, as_, json_out, "cancelled", changes.cancel)


def _decide(
    key: str, as_: str, role: ApprovalRole, decision: Decision, comment: str, json_out: bool
) -> None:
    def use_case(ctx: Context) -> dict[str, Any]:
        return views.detail(ctx, approvals.decide(ctx, key, role, decision, comment))

    with runtime.app() as cg:
        out = cg.run(use_case, actor=as_)
    if json_out:
        emit_json(out)
        return
    waiting = f"; awaiting {' and '.join(out['awaiting'])}" if out["awaiting"] else ""
    say(f"{out['key']}: {role.value} {decision.value} by {as_}; status {out['status']}{waiting}")


@app.command("approve")
def approve(
    key: str,
    as_: As,
    role: Annotated[ApprovalRole, typer.Option()],
    comment: Annotated[str, typer.Option()] = "",
    json_out: Json = False,
) -> None:
    """Approve the current version as a CAB member or as the ISO."""
    _decide(key, as_, role, Decision.APPROVED, comment, json_out)


@app.command("reject")
def reject(
    key: str,
    as_: As,
    role: Annotated[ApprovalRole, typer.Option()],
    comment: Annotated[str, typer.Option()],
    json_out: Json = False,
) -> None:
    """Reject the current version, saying why."""
    _decide(key, as_, role, Decision.REJECTED, comment, json_out)


@app.command("show")
def show(key: str, json_out: Json = False) -> None:
    """Status, version, approvals and due dates of one change."""
    with runtime.app() as cg:
        out = cg.read(lambda ctx: views.detail(ctx, changes.get(ctx, key)))
    if json_out:
        emit_json(out)
    else:
        show_change(out)


@app.command("list")
def list_(
    status: Annotated[ChangeStatus | None, typer.Option()] = None, json_out: Json = False
) -> None:
    """All changes, or those in one status."""
    with runtime.app() as cg:
        rows = cg.read(lambda ctx: [views.summary(c) for c in changes.list_(ctx, status)])
    if json_out:
        emit_json(rows)
        return
    table(
        f"Changes ({len(rows)})",
        ["key", "status", "type", "risk", "v", "title", "requester"],
        [
            [r["key"], r["status"], r["type"], r["risk"], r["version"], r["title"], r["requester"]]
            for r in rows
        ],
    )


@app.command("overdue")
def overdue(json_out: Json = False) -> None:
    """Emergency changes whose retroactive approval or PIR is overdue now (CM-3)."""
    with runtime.app() as cg:
        rows = cg.read(lambda ctx: views.overdue_rows(lifecycle.list_overdue(ctx)))
    if json_out:
        emit_json(rows)
        return
    if not rows:
        say("nothing is overdue")
        return
    table(
        f"Overdue ({len(rows)})",
        ["key", "obligation", "due", "requester", "title"],
        [[r["key"], r["obligation"], r["due_at"], r["requester"], r["title"]] for r in rows],
    )


@pir_app.command("record")
def record(
    key: str, as_: As, summary: Annotated[str, typer.Option()], json_out: Json = False
) -> None:
    """Record the post-implementation review of a change."""

    def use_case(ctx: Context) -> dict[str, Any]:
        review = lifecycle.record_pir(ctx, key, summary)
        return {"key": key.upper(), "review_id": review.id, "at": review.recorded_at.isoformat()}

    with runtime.app() as cg:
        out = cg.run(use_case, actor=as_)
    _report(out["key"], out, "post-implementation review recorded", json_out)
