"""`changegate config ...`: observed configuration in (AWS Config, Cloud Control,
CloudFormation drift), and the inventory of what runs out (CFG-1)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from changegate import bootstrap
from changegate.cli import aws, transport
from changegate.cli.formats import plural, when
from changegate.cli.options import DEFAULT, As, Json, Limit, Offset, group, page_query, read_input
from changegate.cli.output import emit_json, footer, say, table
from changegate.domain.configuration import ObservedItem
from changegate.domain.errors import BadInput
from changegate.services import drift
from changegate.services.views import configuration as views
from changegate.services.views.common import Page
from changegate.services.views.configuration import BaselineDetailOut, IngestOut, ObservedOut

config_app = group("Observed configuration (AWS Config).")


def awsconfig_unreadable(problem: str) -> bool:
    from changegate.integrations import awsconfig  # noqa: PLC0415

    return awsconfig.is_unreadable(problem)


def _from_files(paths: list[Path]) -> tuple[list[ObservedItem], list[str]]:
    from changegate.integrations import awsconfig  # noqa: PLC0415

    items: list[ObservedItem] = []
    problems: list[str] = []
    for path in paths:
        found, skipped = awsconfig.read_file(
            read_input(path, limit=awsconfig.MAX_FILE_BYTES), str(path)
        )
        items.extend(found)
        problems.extend(skipped)
    return items, problems


@dataclass(frozen=True)
class Wanted:
    """What to read from AWS: types, identifiers, baselines' resources, Config's bucket."""

    types: list[str]
    identifiers: list[str]
    baselines: list[str]
    bucket: str | None
    prefix: str


def _read_source(
    source: str, paths: list[Path], wanted: Wanted, stacks: list[str], as_: str | None
) -> tuple[list[ObservedItem], list[str], str]:
    """(items, problems, label) from the files or the AWS service `source` names."""
    if source == "files":
        if not paths:
            raise BadInput("give the files to ingest")
        items, problems = _from_files(paths)
        return items, problems, ",".join(map(str, paths))
    if source not in ("aws", "cloudformation", "cloudcontrol"):
        raise BadInput(
            f"unknown --source {source!r}; use files, aws, cloudcontrol or cloudformation"
        )
    transport.local_only(f"config ingest --source {source}")
    if source == "cloudcontrol":
        targets = _declared(wanted.baselines, as_)
        return aws.cloud_control(wanted.types, wanted.identifiers, targets), [], source
    items, problems = aws.read(source, wanted.types, wanted.bucket, wanted.prefix, stacks)
    return items, problems, source


def _declared(names: list[str], as_: str | None) -> list[tuple[str, str]]:
    """(type, id) of every resource the newest version of each named baseline declares."""
    return [
        (r.type, r.id)
        for name in names
        for r in transport.read(
            "config ingest",
            as_,
            BaselineDetailOut,
            lambda ctx, name=name: views.show_baseline(ctx, name, None),  # type: ignore[misc]
        ).declared
    ]


@config_app.command("ingest")
def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="FILE...", help="Snapshot, history or notification files (--source files)."
        ),
    ] = None,
    source: Annotated[
        str,
        typer.Option(
            help="files, aws (AWS Config API or its S3 delivery), cloudcontrol (live "
            "properties from AWS Cloud Control) or cloudformation (drift detection)."
        ),
    ] = "files",
    resource_type: Annotated[
        list[str] | None,
        typer.Option(
            metavar="TYPE", help="aws, cloudcontrol: resource types to read, e.g. AWS::S3::Bucket."
        ),
    ] = None,
    identifier: Annotated[
        list[str] | None,
        typer.Option(
            metavar="ID", help="cloudcontrol: only these resources of the one --resource-type."
        ),
    ] = None,
    baseline: Annotated[
        list[str] | None,
        typer.Option(metavar="NAME", help="cloudcontrol: every resource this baseline declares."),
    ] = None,
    bucket: Annotated[
        str | None, typer.Option(metavar="BUCKET", help="aws: Config's S3 bucket.")
    ] = None,
    prefix: Annotated[
        str, typer.Option(metavar="PREFIX", help="aws: key prefix in the bucket.")
    ] = "",
    stack: Annotated[
        list[str] | None,
        typer.Option(metavar="STACK", help="cloudformation: stacks to run drift detection on."),
    ] = None,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Ingest observed configuration; malformed items are reported and skipped."""
    source = source.lower()
    wanted = Wanted(resource_type or [], identifier or [], baseline or [], bucket, prefix)
    items, problems, label = _read_source(source, paths or [], wanted, stack or [], as_)
    for problem in problems:
        sys.stderr.write(f"skipped: {problem}\n")

    def remote(r: Any) -> Any:
        from changegate.integrations import awsconfig  # noqa: PLC0415

        totals = {"added": 0, "duplicates": 0, "skipped": []}
        for path in paths or []:
            try:  # decompressed and parsed here; an unreadable file is already a problem
                document = awsconfig.load_document(
                    read_input(path, limit=awsconfig.MAX_FILE_BYTES), str(path)
                )
            except BadInput:
                continue
            got = r.call("POST", "/api/v1/config/items", json=document)
            totals["added"] += got["added"]
            totals["duplicates"] += got["duplicates"]
        return totals | {"skipped": problems}

    out = transport.write(
        "config ingest",
        as_,
        IngestOut,
        lambda ctx: views.ingest(drift.ingest(ctx, items, label, bootstrap.vocabulary()), problems),
        remote,
    )
    if json_out:
        emit_json(out)
    else:
        say(
            f"ingested {plural(out.added, 'configuration item')} "
            f"({out.duplicates} already known, {len(out.skipped)} skipped)"
        )
    if any(awsconfig_unreadable(problem) for problem in problems):
        raise typer.Exit(1)  # what was readable is kept; the rest needs a look


@config_app.command("list")
def list_observed(
    resource_type: Annotated[
        str | None, typer.Option("--type", metavar="TYPE", help="e.g. AWS::S3::Bucket")
    ] = None,
    account: Annotated[str | None, typer.Option(metavar="ACCOUNT", help="12 digits")] = None,
    limit: Limit = DEFAULT,
    offset: Offset = 0,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Every observed resource as last seen, and the approved baseline declaring it (CFG-1)."""
    query = page_query(limit, offset, type=resource_type or None, account=account or None)
    page = transport.read(
        "config list",
        as_,
        Page[ObservedOut],
        lambda ctx: views.observed(ctx, resource_type, account, limit, offset),
        lambda r: r.call("GET", "/api/v1/config/items", params=query),
    )
    if json_out:
        emit_json(page)
        return
    table(
        f"Observed resources ({page.total})",
        ["type", "id", "account", "region", "status", "last seen", "baseline"],
        [
            [
                o.resource_type,
                o.resource_id,
                o.account_id,
                o.region,
                o.status,
                when(o.captured_at),
                o.baseline or "NONE",
            ]
            for o in page.items
        ],
        empty="nothing observed yet: `changegate config ingest`",
    )
    footer(len(page.items), page.total, offset)
