"""`changegate evidence export|verify`: the auditor's package, and its offline check."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from changegate.cli.formats import plural
from changegate.cli.options import As, Json, group
from changegate.cli.output import emit_json, say
from changegate.domain import sampling
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
    json_out: Json = False,
) -> None:
    """Check a package offline: signature, hashes, ledger chain, populations, audit."""
    from changegate.services.evidence import verify as service  # noqa: PLC0415

    if not package.exists():
        raise BadInput(f"{package}: no such file or directory")
    checks = service.verify(package, trusted_key)
    failed = sum(len(c.problems) for c in checks)
    if json_out:
        emit_json(
            {
                "ok": not failed,
                "checks": [
                    {"name": c.name, "ok": c.ok, "note": c.note, "problems": list(c.problems)}
                    for c in checks
                ],
            }
        )
        if failed:
            raise typer.Exit(1)
        return
    for check in checks:
        if check.ok:
            say(f"ok: {check.name}" + (f" ({check.note})" if check.note else ""))
        for problem in check.problems:
            say(f"FAILED: {check.name}: {problem}")
    if failed:
        say(f"evidence FAILED: {plural(failed, 'problem')}")
        raise typer.Exit(1)
    say("evidence ok")


@app.command("sample")
def sample(
    package: Annotated[
        Path, typer.Argument(metavar="PACKAGE", help="The package: its directory or .zip file.")
    ],
    population: Annotated[
        str, typer.Option(metavar="NAME", help="A population of the package, e.g. deployments.")
    ],
    size: Annotated[
        str,
        typer.Option(
            metavar="N|auto",
            help="How many items; auto takes the sample-size table by the control's frequency "
            "and --risk (docs/evidence.md).",
        ),
    ],
    seed: Annotated[str, typer.Option(metavar="SEED", help="The auditor's seed, any text.")],
    risk: Annotated[
        sampling.Risk, typer.Option(case_sensitive=False, help="For --size auto.")
    ] = sampling.Risk.MODERATE,
    frequency: Annotated[
        sampling.Frequency | None,
        typer.Option(
            case_sensitive=False,
            help="For --size auto: how often the control operates (default: from the "
            "population's size over the period).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE.csv",
            help="Write the sampled rows here, and the record beside it (.json).",
        ),
    ] = None,
    json_out: Json = False,
) -> None:
    """Draw a reproducible sample from a package's population, offline (sha256-rank/1)."""
    from changegate.services.evidence import sample as service  # noqa: PLC0415

    if not package.exists():
        raise BadInput(f"{package}: no such file or directory")
    if out is not None and out.exists():
        raise BadInput(f"{out} already exists; refusing to overwrite it")
    drawn = service.draw(package, population, size, seed, risk, frequency)
    record = service.record(drawn)
    if out is not None:
        service.write(drawn, out)
    if json_out:
        emit_json(record)
        return
    say(
        f"{drawn.size} of {plural(drawn.population_size, 'row')} of {drawn.population} "
        f"({drawn.period}), seed {drawn.seed!r}, {drawn.algorithm} over "
        f"{'/'.join(drawn.key_columns)}; population SHA-256 {drawn.population_sha256}"
    )
    say(f"size: {drawn.size_basis}")
    for n, key in enumerate(drawn.keys, start=1):
        say(f"{n:>4}  {key}")
    if drawn.evidence:
        say("evidence folders: " + " ".join(drawn.evidence))
    if out is not None:
        say(f"written to {out} and {out.with_suffix('.json')}")
