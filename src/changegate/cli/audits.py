"""`changegate audit ...` and `changegate finding ...`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from changegate.cli import transport
from changegate.cli.formats import deadline, plural, when
from changegate.cli.options import DEFAULT, As, Json, Limit, Offset, group, page_query
from changegate.cli.output import Column, emit_json, footer, record, say, table
from changegate.db.models import Finding
from changegate.domain.findings import DisciplinaryKind, FindingStatus, RemediationKind
from changegate.services import audits, findings
from changegate.services.context import Context
from changegate.services.views import audits as views
from changegate.services.views.audits import (
    AuditFindingOut,
    AuditOut,
    DisciplineOut,
    FindingDetailOut,
    FindingOut,
)
from changegate.services.views.common import Page

audit_app = group("Automated audits: re-perform every control.")
finding_app = group("Findings (violations) and disciplinary records.")

Key = Annotated[str, typer.Argument(metavar="FINDING", help="A finding key, e.g. FND-7.")]
READER = "findings name people, so reading them needs a reader"
COLUMNS: list[Column | str] = [
    "key",
    "control",
    "rule",
    "subject",
    "status",
    "waiver",
    "occurred",
    Column("summary", wrap=True),
]


def _rows(found: list[AuditFindingOut] | list[FindingOut]) -> list[list[object]]:
    return [
        [f.key, f.control, f.rule, f.subject, f.status, f.waiver, when(f.occurred_at), f.summary]
        for f in found
    ]


@audit_app.command("run")
def run(
    period: Annotated[
        str | None,
        typer.Option(
            metavar="PERIOD", help="A quarter (2026-Q3) or a year (2026); default: this quarter."
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Evaluate and print, store nothing (auditors re-perform this way)."
        ),
    ] = False,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Run every audit rule over the period. Exit 1 when an unwaived finding is open."""
    query = {"period": period} if period else {}
    if dry_run:
        out = transport.read(
            "audit run --dry-run",
            as_,
            AuditOut,
            lambda ctx: audits.preview(ctx, period),
            lambda r: r.call("GET", "/api/v1/audits/preview", params=query),
            reader="the audit is re-performed by a named person",
        )
    else:
        out = transport.write(
            "audit run",
            as_,
            AuditOut,
            lambda ctx: audits.summary(audits.run_requested(ctx, period)),
            lambda r: r.call("POST", "/api/v1/audits", json=query),
        )
    if json_out:
        emit_json(out)
    else:
        info = out.run
        table(
            f"Audit {info.period} as of {when(info.as_of)} (digest {info.digest[:12]})",
            COLUMNS,
            _rows(out.findings),
            empty=f"Audit {info.period}: no findings",
        )
        counts = info.counts
        say(
            f"{plural(counts.findings, 'finding')}: {counts.raised} new this run, "
            f"{counts.findings - counts.raised} raised before; of all, {counts.suppressed} "
            "suppressed by waivers"
        )
        for reason in info.not_checked:
            say(f"not checked: {reason}")
        for warning in info.warnings:
            say(f"warning: {warning}")
    if any(f.status == "open" for f in out.findings):
        raise typer.Exit(1)


@finding_app.command("list")
def list_(
    status: Annotated[FindingStatus | None, typer.Option(case_sensitive=False)] = None,
    control: Annotated[str | None, typer.Option(metavar="CONTROL", help="e.g. CM-2")] = None,
    limit: Limit = DEFAULT,
    offset: Offset = 0,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Findings, newest first."""
    query = page_query(limit, offset, status=status, control=control or None)
    page = transport.read(
        "finding list",
        as_,
        Page[FindingOut],
        lambda ctx: views.finding_page(ctx, status, control, limit, offset),
        lambda r: r.call("GET", "/api/v1/findings", params=query),
        reader=READER,
    )
    if json_out:
        emit_json(page)
        return
    table(f"Findings ({page.total})", COLUMNS, _rows(page.items), empty="no findings")
    footer(len(page.items), page.total, offset)


@finding_app.command("show")
def show(key: Key, as_: As = None, json_out: Json = False) -> None:
    """One finding with its evidence, notifications and (for the ISO and HR) discipline."""
    out = transport.read(
        "finding show",
        as_,
        FindingDetailOut,
        lambda ctx: views.show_finding(ctx, key),
        lambda r: r.call("GET", f"/api/v1/findings/{key}"),
        reader=READER,
    )
    emit_json(out) if json_out else show_finding(out)


def show_finding(f: FindingDetailOut) -> None:
    tz = (f.due_calendar or {}).get("tz")
    record(
        f"{f.key}  {f.control} {f.rule}",
        [
            ("status", f.status),
            ("subject", f.subject),
            ("summary", f.summary),
            ("waiver", f.waiver),
            ("evidence", f.evidence),
            ("occurred", when(f.occurred_at)),
            ("first detected", when(f.first_detected_at)),
            ("last detected", when(f.last_detected_at)),
            ("reported", when(f.reported_at)),
            ("decided by", f.decided_by),
            ("decided", when(f.decided_at)),
            ("dismissal reason", f.dismissal_reason),
            ("remediation due", deadline(f.remediation_due_at, tz)),
            ("remediation", f.remediation and f"{f.remediation_kind}: {f.remediation}"),
            ("remediated by", f.remediated_by),
            ("remediated", when(f.remediated_at)),
            # Those who may not read the records still learn that they exist.
            (
                "disciplinary actions",
                plural(f.disciplinary_action_count, "record")
                if f.disciplinary_actions is None
                else None,
            ),
        ],
    )
    say("")
    table(
        "Notifications",
        ["channel", "recipient", "role", "status", "delivered"],
        [[n.channel, n.recipient, n.role, n.status, when(n.delivered_at)] for n in f.notifications],
        empty="notifications: none",
    )
    if f.disciplinary_actions is not None:
        say("")
        table(
            "Disciplinary actions",
            ["id", "person", "action", "by", "at", Column("notes", wrap=True)],
            [
                [a.id, a.person, a.action, a.recorded_by, when(a.recorded_at), a.notes]
                for a in f.disciplinary_actions
            ],
            empty="disciplinary actions: none",
        )


def _act(
    key: str,
    as_: str | None,
    json_out: bool,
    verb: str,
    path: str,
    body: object,
    use_case: Callable[[Context], Finding],
) -> None:
    out = transport.write(
        f"finding {path}",
        as_,
        FindingOut,
        lambda ctx: views.finding(ctx, use_case(ctx)),
        lambda r: r.call("POST", f"/api/v1/findings/{key}/{path}", json=body),
    )
    if json_out:
        emit_json(out)
        return
    tz = (out.due_calendar or {}).get("tz")
    due = f"; remediation due {deadline(out.remediation_due_at, tz)}" if verb == "confirmed" else ""
    say(f"{out.key} {verb} by {out.decided_by or out.remediated_by}; status {out.status}{due}")


@finding_app.command("confirm")
def confirm(
    key: Key, comment: Annotated[str, typer.Option()] = "", as_: As = None, json_out: Json = False
) -> None:
    """The ISO confirms a violation: remediation falls due in 3 business days."""
    _act(
        key,
        as_,
        json_out,
        "confirmed",
        "confirm",
        {"comment": comment},
        lambda ctx: findings.confirm(ctx, key, comment),
    )


@finding_app.command("dismiss")
def dismiss(
    key: Key, reason: Annotated[str, typer.Option()], as_: As = None, json_out: Json = False
) -> None:
    """The ISO dismisses a finding, with the reason on record."""
    _act(
        key,
        as_,
        json_out,
        "dismissed",
        "dismiss",
        {"reason": reason},
        lambda ctx: findings.dismiss(ctx, key, reason),
    )


@finding_app.command("remediate")
def remediate(
    key: Key,
    kind: Annotated[RemediationKind, typer.Option(case_sensitive=False)],
    description: Annotated[str, typer.Option()],
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Record the rollback or fix; the finding closes."""
    _act(
        key,
        as_,
        json_out,
        "remediated",
        "remediate",
        {"kind": kind.value, "description": description},
        lambda ctx: findings.remediate(ctx, key, kind, description),
    )


@finding_app.command("discipline")
def discipline(
    key: Key,
    person: Annotated[str, typer.Option(metavar="EMAIL")],
    action: Annotated[DisciplinaryKind, typer.Option(case_sensitive=False)],
    notes: Annotated[str, typer.Option()] = "",
    as_: As = None,
    json_out: Json = False,
) -> None:
    """HR records a disciplinary action against a person for a confirmed finding."""
    body = {"person": person, "action": action.value, "notes": notes}
    out = transport.write(
        "finding discipline",
        as_,
        DisciplineOut,
        lambda ctx: DisciplineOut(
            finding=key.strip().upper(),
            action_id=findings.discipline(ctx, key, person, action, notes).id,
        ),
        lambda r: r.call("POST", f"/api/v1/findings/{key}/disciplinary-actions", json=body),
    )
    if json_out:
        emit_json(out)
    else:
        say(f"disciplinary action {out.action_id} recorded against {person} for {out.finding}")
