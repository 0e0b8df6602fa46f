"""`changegate baseline ...`, `config ingest` and `drift ...` (CFG-1..CFG-4)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Annotated

import typer

from changegate.cli import aws, runtime
from changegate.cli.output import emit_json, say, table
from changegate.domain.configuration import ObservedItem
from changegate.domain.drift import DriftStatus
from changegate.domain.errors import BadInput
from changegate.integrations import awsconfig, cloudformation
from changegate.services import baselines, drift, reviews

baseline_app = typer.Typer(help="Approved configuration baselines.", no_args_is_help=True)
config_app = typer.Typer(help="Observed configuration (AWS Config).", no_args_is_help=True)
drift_app = typer.Typer(help="Drift from the baselines.", no_args_is_help=True)

As = Annotated[str, typer.Option("--as", help="Act as this user (email).")]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None


def _pairs(raw: list[str] | None) -> dict[str, str]:
    out = {}
    for item in raw or []:
        logical, sep, physical = item.partition("=")
        if not sep or not logical or not physical:
            raise BadInput(f"--physical wants LOGICAL=PHYSICAL, got {item!r}")
        out[logical] = physical
    return out


@baseline_app.command("import")
def import_(
    template: Path,
    name: Annotated[str, typer.Option()],
    as_: As,
    physical: Annotated[
        list[str] | None, typer.Option(help="LOGICAL=PHYSICAL id, e.g. from the stack's resources.")
    ] = None,
    json_out: Json = False,
) -> None:
    """Import a CloudFormation template (YAML or JSON) as a new draft baseline version."""
    data = _read(template)
    declared = cloudformation.parse_template(data, str(template))
    ids = _pairs(physical)
    with runtime.app() as cg:
        out = cg.run(
            lambda ctx: baselines.view(
                baselines.import_baseline(
                    ctx, name, declared, str(template), hashlib.sha256(data).hexdigest(), ids
                )
            ),
            actor=as_,
        )
    if json_out:
        emit_json(out)
    else:
        say(
            f"baseline {out['name']} v{out['version']}: {out['resources']} resources "
            "(draft: a security engineer other than you must approve it)"
        )


@baseline_app.command("adopt")
def adopt(
    name: Annotated[str, typer.Option()],
    as_: As,
    resource: Annotated[
        list[str],
        typer.Option(help="TYPE=ID of an observed resource, e.g. AWS::S3::Bucket=logs-prod."),
    ],
    json_out: Json = False,
) -> None:
    """Adopt resources' last observed configuration as a new draft baseline version."""
    keys = []
    for item in resource:
        kind, sep, ident = item.partition("=")
        if not sep or not kind or not ident:
            raise BadInput(f"--resource wants TYPE=ID, got {item!r}")
        keys.append((kind, ident))
    with runtime.app() as cg:
        out = cg.run(lambda ctx: baselines.view(baselines.adopt(ctx, name, keys)), actor=as_)
    if json_out:
        emit_json(out)
    else:
        say(
            f"baseline {out['name']} v{out['version']}: {out['resources']} observed resources "
            "adopted (draft: a security engineer other than you must approve it)"
        )


@baseline_app.command("approve")
def approve(
    name: str,
    as_: As,
    version: Annotated[int | None, typer.Option()] = None,
    change: Annotated[
        str | None, typer.Option(help="The approved change that replaces the current baseline.")
    ] = None,
) -> None:
    """Approve a draft baseline (security engineer, not its author)."""
    with runtime.app() as cg:
        out = cg.run(
            lambda ctx: baselines.view(baselines.approve(ctx, name, version, change)), actor=as_
        )
    say(f"baseline {out['name']} v{out['version']} approved; it is now in effect")


@baseline_app.command("list")
def list_(json_out: Json = False) -> None:
    """Every baseline version."""
    with runtime.app() as cg:
        rows = cg.read(lambda ctx: [baselines.view(b) for b in baselines.list_baselines(ctx)])
    if json_out:
        emit_json(rows)
        return
    table(
        "Baselines",
        ["name", "v", "status", "resources", "source", "author", "approver"],
        [
            [
                r["name"],
                r["version"],
                r["status"],
                r["resources"],
                r["source_ref"],
                r["author"],
                r["approver"],
            ]
            for r in rows
        ],
    )


@baseline_app.command("show")
def show(
    name: str, version: Annotated[int | None, typer.Option()] = None, json_out: Json = False
) -> None:
    """One baseline with its declared resources."""
    with runtime.app() as cg:
        out = cg.read(lambda ctx: baselines.view(baselines.get(ctx, name, version), True))
    if json_out:
        emit_json(out)
        return
    say(f"{out['name']} v{out['version']} ({out['status']}) from {out['source_ref']}")
    table(
        "Resources",
        ["type", "id", "logical id", "declared properties"],
        [
            [r["type"], r["id"], r["logical_id"], ", ".join(sorted(r["properties"]))]
            for r in out["resources"]
        ],
    )


@baseline_app.command("verify")
def verify(
    quarter: Annotated[str, typer.Option(help="e.g. 2026-Q3")], as_: As, json_out: Json = False
) -> None:
    """Sign the quarterly verification of baselines and drift (CFG-3)."""
    with runtime.app() as cg:
        out = cg.run(
            lambda ctx: reviews.report_of(baselines.verify_quarter(ctx, quarter)), actor=as_
        )
    if json_out:
        emit_json(out)
        return
    found = out["drift"]
    say(
        f"{out['quarter']} verified (review {out['review_id']}): {len(out['baselines'])} "
        f"baselines, {found['found']} drift ({found['unauthorised']} unauthorised, "
        f"{found['late']} remediated late or still open past due)"
    )


def _from_files(paths: list[Path]) -> tuple[list[ObservedItem], list[str]]:
    items: list[ObservedItem] = []
    problems: list[str] = []
    for path in paths:
        found, skipped = awsconfig.read_file(_read(path), str(path))
        items.extend(found)
        problems.extend(skipped)
    return items, problems


@config_app.command("ingest")
def ingest(
    as_: As,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Snapshot, history or notification files (--source files)."),
    ] = None,
    source: Annotated[
        str,
        typer.Option(
            help="files, aws (AWS Config API or its S3 delivery) or cloudformation (drift)."
        ),
    ] = "files",
    resource_type: Annotated[
        list[str] | None, typer.Option(help="aws: resource types to read, e.g. AWS::S3::Bucket.")
    ] = None,
    bucket: Annotated[str | None, typer.Option(help="aws: Config's S3 bucket.")] = None,
    prefix: Annotated[str, typer.Option(help="aws: key prefix in the bucket.")] = "",
    stack: Annotated[
        list[str] | None, typer.Option(help="cloudformation: stacks to run drift detection on.")
    ] = None,
) -> None:
    """Ingest observed configuration; malformed items are reported and skipped."""
    if source == "files":
        if not paths:
            raise BadInput("give the files to ingest")
        items, problems = _from_files(paths)
        label = ",".join(map(str, paths))
    elif source in ("aws", "cloudformation"):
        items, problems = aws.read(source, resource_type or [], bucket, prefix, stack or [])
        label = source
    else:
        raise BadInput(f"unknown --source {source!r}; use files, aws or cloudformation")
    for problem in problems:
        sys.stderr.write(f"skipped: {problem}\n")
    with runtime.app() as cg:
        result = cg.run(lambda ctx: drift.ingest(ctx, items, label), actor=as_)
    say(f"ingested {result.added} configuration items ({result.duplicates} already known)")


@drift_app.command("scan")
def scan(
    as_: As,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Compare every resource, not only those observed or re-baselined "
            "since the last scan (after a change to the comparison rules).",
        ),
    ] = False,
    json_out: Json = False,
) -> None:
    """Compare approved baselines with the latest observations (incremental by default)."""
    with runtime.app() as cg:
        result = cg.run(lambda ctx: drift.scan(ctx, full), actor=as_)
    if json_out:
        emit_json(result.__dict__)
        return
    say(
        f"checked {result.checked} resources ({result.compared} compared, "
        f"{result.unobserved} never observed): "
        f"{len(result.opened)} new drift, {len(result.reopened)} reopened, "
        f"{len(result.closed)} remediated, {result.still_open} still open"
    )


@drift_app.command("list")
def list_drifts(
    status: Annotated[DriftStatus | None, typer.Option()] = None, json_out: Json = False
) -> None:
    """Drift findings, newest last."""
    wanted = status.value if status else None
    with runtime.app() as cg:
        rows = cg.read(
            lambda ctx: [baselines.drift_view(d) for d in drift.list_drifts(ctx, wanted)]
        )
    if json_out:
        emit_json(rows)
        return
    table(
        f"Drift ({len(rows)})",
        ["id", "status", "type", "resource", "authorised by", "detected", "due"],
        [
            [
                r["id"],
                r["status"],
                r["resource_type"],
                r["resource_id"],
                r["authorised_by"],
                r["detected_at"],
                r["due_at"],
            ]
            for r in rows
        ],
    )


@drift_app.command("show")
def show_drift(drift_id: int, json_out: Json = False) -> None:
    """One drift with its property-level differences."""
    with runtime.app() as cg:
        out = cg.read(lambda ctx: baselines.drift_view(drift.get(ctx, drift_id)))
    if json_out:
        emit_json(out)
        return
    say(
        f"drift {out['id']}: {out['resource_type']} {out['resource_id']} is {out['status']}; "
        f"authorised by {out['authorised_by'] or 'no change'}; due {out['due_at']}"
    )
    table(
        "Differences",
        ["path", "baseline", "observed"],
        [[d["path"], d["expected"], d["actual"]] for d in out["differences"]],
    )
