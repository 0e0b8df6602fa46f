"""`changegate audit ...`, `changegate finding ...` and `changegate review ...`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from changegate.cli import runtime
from changegate.cli.output import emit_json, say, table
from changegate.domain.findings import DisciplinaryKind, RemediationKind
from changegate.services import audits, findings, reviews
from changegate.services.context import Context

audit_app = typer.Typer(help="Automated audits: re-perform every control.", no_args_is_help=True)
finding_app = typer.Typer(
    help="Findings (violations) and disciplinary records.", no_args_is_help=True
)
review_app = typer.Typer(help="Signed periodic reviews.", no_args_is_help=True)

As = Annotated[str, typer.Option("--as", help="Act as this user (email).")]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
COLUMNS = ("key", "control", "rule", "subject", "status", "waiver", "occurred", "summary")


def _rows(found: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [
            f["key"],
            f["control"],
            f["rule"],
            f["subject"],
            f["status"],
            f["waiver"],
            f["occurred_at"][:16],
            f["summary"],
        ]
        for f in found
    ]


@audit_app.command("run")
def run(
    as_: As,
    period: Annotated[
        str | None,
        typer.Option(help="A quarter (2026-Q3) or a year (2026); default: the current quarter."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Evaluate and print, store nothing (auditors re-perform this way)."
        ),
    ] = False,
    json_out: Json = False,
) -> None:
    """Run every audit rule over the period. Exit 1 when an unwaived finding is open."""
    with runtime.app() as cg:
        if dry_run:
            out = cg.read(lambda ctx: audits.preview(ctx.acting_as(as_), period))
        else:
            out = cg.run(
                lambda ctx: audits.summary(ctx, audits.run_requested(ctx, period)), actor=as_
            )
    if json_out:
        emit_json(out)
    else:
        run_info = out["run"]
        table(
            f"Audit {run_info['period']} as of {run_info['as_of'][:16]} "
            f"(digest {run_info['digest'][:12]})",
            COLUMNS,
            _rows(out["findings"]),
        )
        counts = run_info["counts"]
        say(
            f"{counts['findings']} finding(s): {counts['suppressed']} suppressed by waivers, "
            f"{counts['raised']} newly raised"
        )
    if any(f["status"] == "open" for f in out["findings"]):
        raise typer.Exit(1)


@finding_app.command("list")
def list_(
    as_: As,
    status: Annotated[str | None, typer.Option(help="open, suppressed, confirmed, ...")] = None,
    control: Annotated[str | None, typer.Option(help="e.g. CM-2")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 1000,
    json_out: Json = False,
) -> None:
    """Findings, newest first."""

    def use_case(ctx: Context) -> list[dict[str, Any]]:
        roles = findings.reader_roles(ctx)
        return [
            findings.view(ctx, f, roles)
            for f in findings.list_findings(ctx, status, control, limit)
        ]

    with runtime.app() as cg:
        out = cg.read(lambda ctx: findings.as_reader(ctx, as_, use_case))
    if json_out:
        emit_json(out)
    else:
        table("Findings", COLUMNS, _rows(out))


@finding_app.command("show")
def show(key: str, as_: As, json_out: Json = False) -> None:
    """One finding with its evidence, notifications and (for the ISO and HR) discipline."""

    def use_case(ctx: Context) -> dict[str, Any]:
        return findings.view(ctx, findings.get(ctx, key), findings.reader_roles(ctx), True)

    with runtime.app() as cg:
        out = cg.read(lambda ctx: findings.as_reader(ctx, as_, use_case))
    if json_out:
        emit_json(out)
        return
    for name, value in out.items():
        say(f"{name}: {value}")


def _act(key: str, as_: str, json_out: bool, verb: str, use_case: Any) -> None:
    with runtime.app() as cg:
        out = cg.run(lambda ctx: findings.view(ctx, use_case(ctx), frozenset()), actor=as_)
    if json_out:
        emit_json(out)
    else:
        due = f"; remediation due {out['remediation_due_at']}" if verb == "confirmed" else ""
        say(f"{out['key']} {verb} by {as_}; status {out['status']}{due}")


@finding_app.command("confirm")
def confirm(
    key: str, as_: As, comment: Annotated[str, typer.Option()] = "", json_out: Json = False
) -> None:
    """The ISO confirms a violation: remediation falls due in 3 business days."""
    _act(key, as_, json_out, "confirmed", lambda ctx: findings.confirm(ctx, key, comment))


@finding_app.command("dismiss")
def dismiss(
    key: str, as_: As, reason: Annotated[str, typer.Option()], json_out: Json = False
) -> None:
    """The ISO dismisses a finding, with the reason on record."""
    _act(key, as_, json_out, "dismissed", lambda ctx: findings.dismiss(ctx, key, reason))


@finding_app.command("remediate")
def remediate(
    key: str,
    as_: As,
    kind: Annotated[RemediationKind, typer.Option()],
    description: Annotated[str, typer.Option()],
    json_out: Json = False,
) -> None:
    """Record the rollback or fix; the finding closes."""
    _act(
        key,
        as_,
        json_out,
        "remediated",
        lambda ctx: findings.remediate(ctx, key, kind, description),
    )


@finding_app.command("discipline")
def discipline(
    key: str,
    as_: As,
    person: Annotated[str, typer.Option(help="Email.")],
    action: Annotated[DisciplinaryKind, typer.Option()],
    notes: Annotated[str, typer.Option()] = "",
    json_out: Json = False,
) -> None:
    """HR records a disciplinary action against a person for a confirmed finding."""
    with runtime.app() as cg:
        out = cg.run(lambda ctx: findings.discipline(ctx, key, person, action, notes).id, actor=as_)
    if json_out:
        emit_json({"finding": key.upper(), "action_id": out})
    else:
        say(f"disciplinary action {out} recorded against {person} for {key.upper()}")


@review_app.command("metrics")
def metrics(
    quarter: Annotated[str, typer.Option(help="e.g. 2026-Q3")],
    as_: As,
    notes: Annotated[str, typer.Option()] = "",
    json_out: Json = False,
) -> None:
    """The ISO's signed quarterly review of change-management metrics (CM-6)."""
    with runtime.app() as cg:
        out = cg.run(
            lambda ctx: reviews.view(reviews.review_quarter(ctx, quarter, notes)), actor=as_
        )
    if json_out:
        emit_json(out)
    else:
        say(f"quarterly metrics review {out['id']} for {quarter.upper()} signed by {as_}")
