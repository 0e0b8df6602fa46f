"""`changegate baseline ...`: baselines from IaC or from what runs, approved by another
security engineer (CFG-1, CFG-3)."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from changegate import bootstrap
from changegate.cli import aws, transport
from changegate.cli.formats import plural, when
from changegate.cli.options import DEFAULT, As, Json, Limit, Offset, Quarter, group, read_input
from changegate.cli.output import Column, emit_json, footer, record, say, table
from changegate.domain.errors import BadInput
from changegate.services import baselines
from changegate.services.views import configuration as views
from changegate.services.views.common import Page
from changegate.services.views.configuration import (
    BaselineDetailOut,
    BaselineOut,
)
from changegate.services.views.reviews import ReviewOut, review

baseline_app = group("Approved configuration baselines (CFG-1, CFG-3).")

Name = Annotated[str, typer.Argument(metavar="NAME", help="The baseline's name.")]


def _pairs(raw: list[str] | None, option: str) -> dict[str, str]:
    out = {}
    for item in raw or []:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise BadInput(f"{option} wants NAME=VALUE, got {item!r}")
        out[name] = value
    return out


def _warn_unmatched(out: BaselineOut) -> None:
    for logical in out.unmatched:
        sys.stderr.write(
            f"warning: {logical}: no physical id or literal name, so no observation will ever "
            f"match it; give --physical {logical}=ID (or import with --stack NAME)\n"
        )
    if out.unverifiable:
        say(
            f"{plural(out.unverifiable, 'declared property', 'declared properties')} cannot be "
            f"verified from observed configuration (baseline show {out.name} lists them)"
        )


def _draft_note(out: BaselineOut, what: str) -> str:
    return (
        f"baseline {out.name} v{out.version}: {plural(out.resources, what)} "
        "(draft: a security engineer other than you must approve it)"
    )


@baseline_app.command("import")
def import_(
    template: Annotated[Path, typer.Argument(metavar="TEMPLATE")],
    name: Annotated[str, typer.Option(metavar="NAME")],
    physical: Annotated[
        list[str] | None,
        typer.Option(
            metavar="LOGICAL=ID",
            help="The physical id of a resource, e.g. from the stack's resources.",
        ),
    ] = None,
    parameter: Annotated[
        list[str] | None,
        typer.Option(
            metavar="NAME=VALUE", help="A template parameter's value (default: its Default)."
        ),
    ] = None,
    stack: Annotated[
        str | None,
        typer.Option(
            metavar="STACK",
            help="Read the physical ids of the deployed stack's resources from "
            "CloudFormation (DescribeStackResources; the standard AWS environment).",
        ),
    ] = None,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Import a CloudFormation template (YAML or JSON) as a new draft baseline version."""
    # Imported here: the template parser (and boto3's errors) only for this command.
    from changegate.integrations import cloudformation  # noqa: PLC0415

    data = read_input(template)
    ids, given = _pairs(physical, "--physical"), _pairs(parameter, "--parameter")
    if stack:
        ids = aws.stack_resources(stack) | ids
    declared = cloudformation.parse_template(data, str(template), given, ids)

    def local(ctx: Any) -> BaselineOut:
        return views.baseline(
            baselines.import_baseline(
                ctx,
                name,
                declared,
                str(template),
                hashlib.sha256(data).hexdigest(),
                bootstrap.vocabulary(),
                ids,
            )
        )

    out = transport.write(
        "baseline import",
        as_,
        BaselineOut,
        local,
        lambda r: r.call(
            "POST",
            "/api/v1/baselines",
            data={"name": name, "physical": json.dumps(ids), "parameters": json.dumps(given)},
            files={"template": (template.name, data, "application/octet-stream")},
        ),
    )
    if json_out:
        emit_json(out)
        return
    say(_draft_note(out, "resource"))
    _warn_unmatched(out)


@baseline_app.command("adopt")
def adopt(
    name: Annotated[str, typer.Option(metavar="NAME")],
    resource: Annotated[
        list[str],
        typer.Option(
            metavar="TYPE=ID", help="An observed resource, e.g. AWS::S3::Bucket=logs-prod."
        ),
    ],
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Adopt resources' last observed configuration as a new draft baseline version."""
    keys = []
    for item in resource:
        kind, sep, ident = item.partition("=")
        if not sep or not kind or not ident:
            raise BadInput(f"--resource wants TYPE=ID, got {item!r}")
        keys.append((kind, ident))
    out = transport.write(
        "baseline adopt",
        as_,
        BaselineOut,
        lambda ctx: views.baseline(baselines.adopt(ctx, name, keys, bootstrap.vocabulary())),
        lambda r: r.call(
            "POST",
            "/api/v1/baselines/adopt",
            json={"name": name, "resources": [{"type": k, "id": i} for k, i in keys]},
        ),
    )
    emit_json(out) if json_out else say(_draft_note(out, "observed resource"))


@baseline_app.command("approve")
def approve(
    name: Name,
    version: Annotated[int | None, typer.Option(metavar="N", min=1)] = None,
    change: Annotated[
        str | None,
        typer.Option(
            metavar="CHANGE", help="The approved change that replaces the current baseline."
        ),
    ] = None,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Approve a draft baseline (security engineer, not its author)."""
    out = transport.write(
        "baseline approve",
        as_,
        BaselineOut,
        lambda ctx: views.baseline(baselines.approve(ctx, name, version, change)),
        lambda r: r.call(
            "POST", f"/api/v1/baselines/{name}/approve", json={"version": version, "change": change}
        ),
    )
    if json_out:
        emit_json(out)
    else:
        say(f"baseline {out.name} v{out.version} approved; it is now in effect")


@baseline_app.command("list")
def list_(
    limit: Limit = DEFAULT, offset: Offset = 0, as_: As = None, json_out: Json = False
) -> None:
    """Every baseline version."""
    page = transport.read(
        "baseline list",
        as_,
        Page[BaselineOut],
        lambda ctx: views.baselines(ctx, limit, offset),
        lambda r: r.call("GET", "/api/v1/baselines", params={"limit": limit, "offset": offset}),
    )
    if json_out:
        emit_json(page)
        return
    table(
        f"Baselines ({page.total})",
        ["name", "v", "status", "resources", Column("source", wrap=True), "author", "approver"],
        [
            [b.name, b.version, b.status, b.resources, b.source_ref, b.author, b.approver]
            for b in page.items
        ],
        empty="no baselines",
    )
    footer(len(page.items), page.total, offset)


@baseline_app.command("show")
def show(
    name: Name,
    version: Annotated[int | None, typer.Option(metavar="N", min=1)] = None,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """One baseline with its declared resources."""
    query = {"version": version} if version else {}
    out = transport.read(
        "baseline show",
        as_,
        BaselineDetailOut,
        lambda ctx: views.show_baseline(ctx, name, version),
        lambda r: r.call("GET", f"/api/v1/baselines/{name}", params=query),
    )
    if json_out:
        emit_json(out)
        return
    record(
        f"baseline {out.name} v{out.version}",
        [
            ("status", out.status),
            ("source", out.source_ref),
            ("sha256", out.sha256),
            ("author", out.author),
            ("approver", out.approver),
            ("approved", when(out.approved_at)),
            ("change", out.change),
            ("resources", out.resources),
            ("never matched", out.unmatched or None),
        ],
    )
    say("")
    table(
        "Declared resources",
        ["type", "id", "matched by", "logical id", Column("properties", wrap=True)],
        [
            [r.type, r.id, r.id_source, r.logical_id, ", ".join(sorted(r.properties))]
            for r in out.declared
        ],
        empty="declared resources: none",
    )
    say("")
    table(
        f"Unverifiable ({plural(out.unverifiable, 'declared property', 'declared properties')})",
        ["logical id", "path", Column("why", wrap=True)],
        [[r.logical_id, u.path, u.reason] for r in out.declared for u in r.unverifiable],
        empty="unverifiable: none (every declared property is compared)",
    )


@baseline_app.command("verify")
def verify(quarter: Quarter, as_: As = None, json_out: Json = False) -> None:
    """Sign the quarterly verification of baselines and drift (CFG-3)."""
    out = transport.write(
        "baseline verify",
        as_,
        ReviewOut,
        lambda ctx: review(baselines.verify_quarter(ctx, quarter)),
        lambda r: r.call("POST", "/api/v1/baselines/verify", json={"quarter": quarter}),
    )
    if json_out:
        emit_json(out)
        return
    found = out.report["drift"]
    say(
        f"{out.period} verified (review {out.id}): "
        f"{plural(len(out.report['baselines']), 'baseline')}, "
        f"{found['found']} drift ({found['unauthorised']} unauthorised, "
        f"{found['late']} remediated late or still open past due)"
    )
