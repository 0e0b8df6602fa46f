"""`changegate review ...`: sign the ISO's quarterly metrics review, and read past reviews."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from changegate.cli import transport
from changegate.cli.formats import when
from changegate.cli.options import DEFAULT, As, Json, Limit, Offset, Quarter, group
from changegate.cli.output import emit_json, footer, record, say, table
from changegate.services import reviews
from changegate.services.views import reviews as views
from changegate.services.views.common import Page
from changegate.services.views.reviews import ReviewOut

app = group("Signed periodic reviews: sign, list, show.")


@app.command("metrics")
def metrics(
    quarter: Quarter,
    notes: Annotated[str, typer.Option()] = "",
    as_: As = None,
    json_out: Json = False,
) -> None:
    """The ISO's signed quarterly review of change-management metrics (CM-6)."""
    out = transport.write(
        "review metrics",
        as_,
        ReviewOut,
        lambda ctx: views.review(reviews.review_quarter(ctx, quarter, notes)),
        lambda r: r.call(
            "POST", "/api/v1/reviews/quarterly-metrics", json={"quarter": quarter, "notes": notes}
        ),
    )
    if json_out:
        emit_json(out)
    else:
        say(f"quarterly metrics review {out.id} for {out.period} signed by {out.author}")


@app.command("list")
def list_(
    kind: Annotated[
        list[str] | None,
        typer.Option(
            metavar="KIND",
            help="quarterly_metrics, baseline_verification, "
            "waiver_quarterly, ...; repeat for several.",
        ),
    ] = None,
    limit: Limit = DEFAULT,
    offset: Offset = 0,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Signed reviews, newest first."""
    kinds = [k.lower() for k in kind or []]
    page = transport.read(
        "review list",
        as_,
        Page[ReviewOut],
        lambda ctx: views.page(ctx, kinds, limit, offset),
        lambda r: r.call(
            "GET", "/api/v1/reviews", params={"limit": limit, "offset": offset, "kind": kinds}
        ),
    )
    if json_out:
        emit_json(page)
        return
    table(
        f"Signed reviews ({page.total})",
        ["id", "kind", "period", "signed by", "at", "sha256"],
        [
            [r.id, r.kind, r.period, r.author, when(r.recorded_at), r.sha256[:16]]
            for r in page.items
        ],
        empty="no signed reviews",
    )
    footer(len(page.items), page.total, offset)


@app.command("show")
def show(
    review_id: Annotated[int, typer.Argument(metavar="ID", min=1, max=2**31 - 1)],
    as_: As = None,
    json_out: Json = False,
) -> None:
    """One signed review: who signed it, when, and the report exactly as signed."""
    out = transport.read(
        "review show",
        as_,
        ReviewOut,
        lambda ctx: views.show(ctx, review_id),
        lambda r: r.call("GET", f"/api/v1/reviews/{review_id}"),
    )
    emit_json(out) if json_out else show_review(out)


def show_review(r: ReviewOut) -> None:
    record(
        f"review {r.id}  {r.kind} {r.period or ''}".rstrip(),
        [("signed by", r.author), ("at", when(r.recorded_at)), ("sha256", r.sha256)],
    )
    say("report:")
    say(
        "\n".join(
            "  " + line for line in json.dumps(r.report, indent=2, ensure_ascii=False).splitlines()
        )
    )
