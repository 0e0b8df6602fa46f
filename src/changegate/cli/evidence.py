"""`changegate evidence export|verify`: the auditor's package, and its offline check."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from changegate.cli.formats import plural
from changegate.cli.options import As, Json, group
from changegate.cli.output import emit_json, say
from changegate.domain.errors import BadInput
from changegate.domain.users import normalise_email

if TYPE_CHECKING:
    from changegate.services.context import Context
    from changegate.services.views.evidence import ExportOut

app = group("The evidence package for auditors: export, verify offline.")


@app.command("export")
def export(
    period: Annotated[
        str, typer.Option(metavar="PERIOD", help="A quarter (2026-Q3) or a year (2026).")
    ],
    out: Annotated[
        Path,
        typer.Option(
            metavar="DIR|FILE.zip", help="A new directory (or an empty one), or a new .zip file."
        ),
    ],
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress lines on stderr.")] = False,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Write the period's signed evidence package (auditors, the ISO and admins)."""
    # Here, not at the top: `verify` must run with no database and no settings.
    from changegate.cli import runtime, transport  # noqa: PLC0415
    from changegate.services.evidence import export as service  # noqa: PLC0415

    transport.local_only("evidence export")
    if not as_:
        raise BadInput("give --as EMAIL: an export is made by a named auditor, ISO or admin")
    loud = not quiet and sys.stderr.isatty()

    def progress(message: str) -> None:
        if loud:
            sys.stderr.write(message + "\n")
            sys.stderr.flush()

    with runtime.app() as cg:
        signer = cg.signer

        def use_case(ctx: Context) -> ExportOut:
            return service.export(ctx, period, out, signer, progress)

        done = cg.run(use_case, actor=normalise_email(as_))
    if json_out:
        emit_json(done)
        return
    say(
        f"evidence for {done.period} written to {done.path}: {plural(done.files, 'file')}, "
        f"{plural(sum(done.populations.values()), 'population row')}, ledger seq "
        f"{done.ledger_first} to {done.ledger_last}, audit digest {done.audit_digest[:16]} "
        f"({plural(done.findings, 'finding')}); manifest SHA-256 {done.manifest_sha256}"
    )


@app.command("verify")
def verify(
    package: Annotated[
        Path, typer.Argument(metavar="PACKAGE", help="The package: its directory or .zip file.")
    ],
    trusted_key: Annotated[
        str | None,
        typer.Option(
            metavar="PUBKEY",
            help="The signing key's public half (base64, as `ledger keygen` prints it); the "
            "manifest must be signed by it.",
        ),
    ] = None,
) -> None:
    """Check a package offline: signature, hashes, ledger chain, populations, audit."""
    from changegate.services.evidence import verify as service  # noqa: PLC0415

    if not package.exists():
        raise BadInput(f"{package}: no such file or directory")
    checks = service.verify(package, trusted_key)
    for check in checks:
        if check.ok:
            say(f"ok: {check.name}" + (f" ({check.note})" if check.note else ""))
        for problem in check.problems:
            say(f"FAILED: {check.name}: {problem}")
    failed = sum(len(c.problems) for c in checks)
    if failed:
        say(f"evidence FAILED: {plural(failed, 'problem')}")
        raise typer.Exit(1)
    say("evidence ok")
