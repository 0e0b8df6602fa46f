"""`changegate change ...` and `changegate pir ...`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import typer

from changegate.cli import seen, transport
from changegate.cli.formats import deadline, plural, when
from changegate.cli.options import (
    DEFAULT,
    As,
    ChangeKey,
    Instant,
    Json,
    Limit,
    Offset,
    group,
    page_query,
)
from changegate.cli.output import Column, emit_json, footer, record, say, table
from changegate.config import parse_instant
from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.changes import ChangeFields, ChangeStatus, ChangeType, Risk, Window
from changegate.domain.errors import BadInput
from changegate.services import approvals, changes, lifecycle
from changegate.services.views import changes as views
from changegate.services.views.changes import ChangeOut, ChangeSummaryOut, OverdueOut, PirOut
from changegate.services.views.common import Page

app = group("Change requests: create, submit, approve, implement, close.")
pir_app = group("Post-implementation reviews.")

Text = Annotated[str | None, typer.Option()]
Many = Annotated[list[str] | None, typer.Option()]
RiskOpt = Annotated[Risk, typer.Option(case_sensitive=False)]
TypeOpt = Annotated[ChangeType, typer.Option("--type", case_sensitive=False)]
RoleOpt = Annotated[ApprovalRole, typer.Option(case_sensitive=False, help="cab or iso.")]
Email = Annotated[list[str] | None, typer.Option(metavar="EMAIL", help="Commit author email.")]
VersionOpt = Annotated[
    int | None,
    typer.Option(
        min=1, max=2**31 - 1, metavar="N", help="The version you read (`change show` prints it)."
    ),
]


def _instant(raw: str | None, what: str) -> Any:
    return parse_instant(raw, what) if raw else None


@app.command("create")
def create(
    title: Annotated[str, typer.Option()],
    scope: Annotated[str, typer.Option()] = "",
    impact: Annotated[str, typer.Option(help="Impact assessment.")] = "",
    rollback: Annotated[str, typer.Option(help="Rollback plan.")] = "",
    risk: RiskOpt = Risk.MEDIUM,
    type_: TypeOpt = ChangeType.NORMAL,
    justification: Annotated[str, typer.Option(help="Required for emergencies.")] = "",
    ticket: Annotated[str, typer.Option(metavar="REF", help="Linear key or URL.")] = "",
    author: Email = None,
    service: Annotated[list[str] | None, typer.Option(help="Affected service.")] = None,
    env: Annotated[
        list[str] | None, typer.Option(metavar="ENV", help="Target environment.")
    ] = None,
    customer_impact: Annotated[str, typer.Option()] = "",
    downtime: Annotated[
        int, typer.Option(metavar="MINUTES", min=0, max=100_000, help="Expected downtime.")
    ] = 0,
    window_start: Instant = None,
    window_end: Instant = None,
    as_: As = None,
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
    body = {
        "title": title,
        "scope": scope,
        "impact": impact,
        "rollback_plan": rollback,
        "risk": risk.value,
        "type": type_.value,
        "justification": justification,
        "ticket": ticket,
        "commit_authors": author or [],
        "affected_services": service or [],
        "environments": env or [],
        "customer_impact": customer_impact,
        "expected_downtime_minutes": downtime,
        "window_start": window_start,
        "window_end": window_end,
    }
    made = transport.write(
        "change create",
        as_,
        ChangeOut,
        lambda ctx: views.detail(ctx, changes.create(ctx, fields)),
        lambda r: r.call("POST", "/api/v1/changes", json=body),
    )
    emit_json(made) if json_out else say(made.key)


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
API_NAMES = {"change_type": "type"}


@app.command("edit")
def edit(
    key: ChangeKey,
    title: Text = None,
    scope: Text = None,
    impact: Text = None,
    rollback: Text = None,
    risk: Annotated[Risk | None, typer.Option(case_sensitive=False)] = None,
    type_: Annotated[ChangeType | None, typer.Option("--type", case_sensitive=False)] = None,
    justification: Text = None,
    ticket: Text = None,
    author: Email = None,
    service: Many = None,
    env: Many = None,
    customer_impact: Text = None,
    downtime: Annotated[int | None, typer.Option(metavar="MINUTES", min=0, max=100_000)] = None,
    as_: As = None,
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
    body = {API_NAMES.get(k, k): list(v) if isinstance(v, tuple) else v for k, v in updates.items()}
    out = transport.write(
        "change edit",
        as_,
        ChangeOut,
        lambda ctx: views.detail(ctx, changes.edit(ctx, key, updates)),
        lambda r: r.call("PATCH", f"/api/v1/changes/{key}", json=body),
    )
    _report(out, f"is now version {out.version} ({out.status})", json_out)


def _report(change: ChangeOut, message: str, json_out: bool) -> None:
    emit_json(change) if json_out else say(f"{change.key} {message}")


def _transition(key: str, as_: str | None, json_out: bool, verb: str, use_case: Any) -> None:
    out = transport.write(
        f"change {verb}",
        as_,
        ChangeOut,
        lambda ctx: views.detail(ctx, use_case(ctx, key)),
        lambda r: r.call("POST", f"/api/v1/changes/{key}/{verb}"),
    )
    _report(out, f"{_past(verb)} (version {out.version}, status {out.status})", json_out)


def _past(verb: str) -> str:
    return {
        "submit": "submitted",
        "implement": "implemented",
        "close": "closed",
        "cancel": "cancelled",
    }[verb]


@app.command("submit")
def submit(key: ChangeKey, as_: As = None, json_out: Json = False) -> None:
    """Submit for CAB and ISO approval (CM-1 completeness is checked)."""
    _transition(key, as_, json_out, "submit", changes.submit)


@app.command("implement")
def implement(key: ChangeKey, as_: As = None, json_out: Json = False) -> None:
    """Mark implemented: an approved change, or an emergency before approval (CM-3)."""
    _transition(key, as_, json_out, "implement", lifecycle.implement)


@app.command("close")
def close(key: ChangeKey, as_: As = None, json_out: Json = False) -> None:
    """Close after implementation (an emergency needs its retro approvals and PIR)."""
    _transition(key, as_, json_out, "close", lifecycle.close)


@app.command("cancel")
def cancel(key: ChangeKey, as_: As = None, json_out: Json = False) -> None:
    """Cancel a change that has not been implemented."""
    _transition(key, as_, json_out, "cancel", changes.cancel)


def _seen(key: str, version: int | None) -> int:
    if version is not None:
        return version
    shown = seen.last_shown(key)
    if shown is None:
        raise BadInput(
            f"say which version of {key.upper()} you decide on: --version N, as "
            f"`changegate change show {key.upper()}` prints it (after a show, it is the default)"
        )
    return shown


def _decide(d: _Decision) -> None:
    version = _seen(d.key, d.version)
    body = {"role": d.role.value, "decision": d.decision.value, "comment": d.comment}
    out = transport.write(
        f"change {'approve' if d.decision is Decision.APPROVED else 'reject'}",
        d.as_,
        ChangeOut,
        lambda ctx: views.detail(
            ctx, approvals.decide(ctx, d.key, d.role, d.decision, version, d.comment)
        ),
        lambda r: r.call(
            "POST", f"/api/v1/changes/{d.key}/approvals", json=body | {"version": version}
        ),
    )
    if d.json_out:
        emit_json(out)
        return
    mine = out.approvals[-1] if out.approvals else None
    who = mine.approver if mine else "you"
    waiting = f"; awaiting {' and '.join(out.awaiting)}" if out.awaiting else ""
    say(
        f"{out.key}: {d.role.value} {d.decision.value} version {version} by {who}; "
        f"status {out.status}{waiting}"
    )


@dataclass(frozen=True)
class _Decision:
    key: str
    as_: str | None
    role: ApprovalRole
    decision: Decision
    version: int | None
    comment: str
    json_out: bool


@app.command("approve")
def approve(
    key: ChangeKey,
    role: RoleOpt,
    comment: Annotated[str, typer.Option()] = "",
    version: VersionOpt = None,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Approve the version you read as a CAB member or as the ISO (default: the version
    `change show` last showed you)."""
    _decide(_Decision(key, as_, role, Decision.APPROVED, version, comment, json_out))


@app.command("reject")
def reject(
    key: ChangeKey,
    role: RoleOpt,
    comment: Annotated[str, typer.Option()],
    version: VersionOpt = None,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Reject the version you read, saying why (default version: as for approve)."""
    _decide(_Decision(key, as_, role, Decision.REJECTED, version, comment, json_out))


@app.command("show")
def show(key: ChangeKey, as_: As = None, json_out: Json = False) -> None:
    """Status, version, approvals and due dates of one change."""
    out = transport.read(
        "change show",
        as_,
        ChangeOut,
        lambda ctx: views.show(ctx, key),
        lambda r: r.call("GET", f"/api/v1/changes/{key}"),
    )
    emit_json(out) if json_out else show_change(out)
    seen.remember(out.key, out.version)


def show_change(c: ChangeOut) -> None:
    tz = (c.due.calendar or {}).get("tz")
    record(
        f"{c.key}  {c.title}",
        [
            ("status", c.status),
            ("type", c.type),
            ("risk", c.risk),
            ("version", f"{c.version}  {c.version_hash[:12]}"),
            ("requester", c.requester),
            ("ticket", c.ticket),
            ("scope", c.scope),
            ("impact", c.impact),
            ("rollback plan", c.rollback_plan),
            ("justification", c.justification),
            ("services", c.affected_services),
            ("environments", c.environments),
            ("window", _window(c)),
            ("commit authors", c.commit_authors),
            ("awaiting", c.awaiting or None),
            ("created", when(c.created_at)),
            ("submitted", when(c.submitted_at)),
            ("approved", when(c.approved_at)),
            ("implemented", when(c.implemented_at)),
            ("closed", when(c.closed_at)),
            ("retro approval due", deadline(c.due.retro_approval, tz)),
            ("retro approved", when(c.due.retro_approved_at)),
            ("PIR due", deadline(c.due.pir, tz)),
            ("PIR recorded", when(c.due.pir_recorded_at)),
        ],
    )
    say("")
    table(
        f"Decisions ({len(c.approvals)})",
        ["role", "decision", "by", "version", "counts", "at", Column("comment", wrap=True)],
        [
            [
                a.role,
                a.decision,
                a.approver,
                a.version,
                "yes" if a.counts else "no (older version)",
                when(a.at),
                a.comment,
            ]
            for a in c.approvals
        ],
        empty="decisions: none",
    )
    if c.code_reviews:
        say("")
        table(
            f"Code review on GitHub ({len(c.code_reviews)})",
            ["pull request", "author", "kind", "by", "commit", "at"],
            [
                [
                    f"{r.repository}#{r.pull_request}",
                    r.author,
                    r.kind,
                    r.by,
                    r.commit[:12],
                    when(r.at),
                ]
                for r in c.code_reviews
            ],
            empty="",
        )
    for review in c.reviews:
        say(f"\n{review.kind.upper()} by {review.author} at {when(review.at)}:\n  {review.summary}")


def _window(c: ChangeOut) -> str | None:
    if not c.window.start and not c.window.end:
        return None
    return f"{when(c.window.start) or '?'} to {when(c.window.end) or '?'}"


@app.command("list")
def list_(
    status: Annotated[ChangeStatus | None, typer.Option(case_sensitive=False)] = None,
    limit: Limit = DEFAULT,
    offset: Offset = 0,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Changes in key order, or those in one status."""
    query = page_query(limit, offset, status=status)
    page = transport.read(
        "change list",
        as_,
        Page[ChangeSummaryOut],
        lambda ctx: views.page(ctx, status, limit, offset),
        lambda r: r.call("GET", "/api/v1/changes", params=query),
    )
    if json_out:
        emit_json(page)
        return
    table(
        f"Changes ({page.total})",
        ["key", "status", "type", "risk", "v", Column("title", wrap=True), "requester"],
        [[c.key, c.status, c.type, c.risk, c.version, c.title, c.requester] for c in page.items],
        empty="no changes",
    )
    footer(len(page.items), page.total, offset)


@app.command("overdue")
def overdue(
    limit: Limit = DEFAULT, offset: Offset = 0, as_: As = None, json_out: Json = False
) -> None:
    """Emergency changes whose retroactive approval or PIR is overdue now (CM-3)."""
    query = {"limit": limit, "offset": offset}
    page = transport.read(
        "change overdue",
        as_,
        Page[OverdueOut],
        lambda ctx: views.overdue(ctx, limit, offset),
        lambda r: r.call("GET", "/api/v1/changes/overdue", params=query),
    )
    if json_out:
        emit_json(page)
        return
    table(
        f"Overdue ({plural(page.total, 'obligation')})",
        ["key", "obligation", "due", "requester", Column("title", wrap=True)],
        [
            [r.key, r.obligation, deadline(r.due_at, r.due_tz), r.requester, r.title]
            for r in page.items
        ],
        empty="nothing is overdue",
    )
    footer(len(page.items), page.total, offset)


@pir_app.command("record")
def record_pir(
    key: ChangeKey, summary: Annotated[str, typer.Option()], as_: As = None, json_out: Json = False
) -> None:
    """Record the post-implementation review of a change."""
    out = transport.write(
        "pir record",
        as_,
        PirOut,
        lambda ctx: views.pir(key.strip().upper(), lifecycle.record_pir(ctx, key, summary)),
        lambda r: r.call("POST", f"/api/v1/changes/{key}/pir", json={"summary": summary}),
    )
    emit_json(out) if json_out else say(f"{out.change} post-implementation review recorded")
