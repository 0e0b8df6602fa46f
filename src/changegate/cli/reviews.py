"""`changegate review ...`: preview and sign the ISO's quarterly metrics review and annual
reviews (policy, configuration), read past reviews, print one as a document."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from changegate.cli import transport
from changegate.cli.formats import when
from changegate.cli.options import DEFAULT, As, Json, Limit, Offset, Quarter, group
from changegate.cli.output import emit_json, footer, record, say, table
from changegate.domain.errors import BadInput
from changegate.domain.periods import quarter_bounds, quarter_of, year_bounds
from changegate.services import annual_reviews, reviews
from changegate.services.annual_reviews import AnnualKind
from changegate.services.context import Context
from changegate.services.views import reviews as views
from changegate.services.views.common import Page
from changegate.services.views.reviews import ReviewOut, ReviewPreviewOut

app = group("Signed periodic reviews: preview, sign, list, show, print.")
NOUNS = {AnnualKind.POLICY: "policy", AnnualKind.CONFIG: "config"}


class DocFormat(StrEnum):
    HTML = "html"
    PDF = "pdf"


Preview = Annotated[
    bool, typer.Option("--preview", help="Print the report and its SHA-256; sign nothing.")
]
Sha256 = Annotated[
    str | None,
    typer.Option(metavar="HEX", help="The SHA-256 --preview printed: sign only that report."),
]
Notes = Annotated[str, typer.Option(metavar="TEXT", help="The signer's notes.")]
Year = Annotated[str, typer.Option(metavar="YEAR", help="A year that has ended, e.g. 2025.")]


@app.command("metrics")
def metrics(
    quarter: Quarter,
    notes: Notes = "",
    preview: Preview = False,
    sha256: Sha256 = None,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """The ISO's signed quarterly review of change-management metrics (CM-6): --preview, then
    sign with --sha256 (signing without it still works, unpinned)."""
    name = quarter_of(quarter_bounds(quarter)[0])
    wanted = _pinned(preview, sha256)
    if preview:
        _show_preview(
            transport.read(
                "review metrics",
                as_,
                ReviewPreviewOut,
                lambda ctx: reviews.preview_quarter(ctx, name),
                lambda r: r.call("GET", f"/api/v1/reviews/quarterly-metrics/{name}/preview"),
            ),
            f"changegate review metrics --quarter {name}",
            json_out,
        )
        return
    out = transport.write(
        "review metrics",
        as_,
        ReviewOut,
        lambda ctx: views.review(reviews.review_quarter(ctx, name, notes, wanted)),
        lambda r: r.call(
            "POST",
            "/api/v1/reviews/quarterly-metrics",
            json={"quarter": name, "notes": notes} | ({"sha256": wanted} if wanted else {}),
        ),
    )
    if json_out:
        emit_json(out)
    else:
        say(f"quarterly metrics review {out.id} for {out.period} signed by {out.author}")


@app.command("policy")
def policy(
    year: Year,
    notes: Notes = "",
    preview: Preview = False,
    sha256: Sha256 = None,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """The ISO's signed annual review of this policy (POL-1): --preview, then --sha256."""
    _annual(AnnualKind.POLICY, year, notes, preview, sha256, as_, json_out)


@app.command("config")
def config(
    year: Year,
    notes: Notes = "",
    preview: Preview = False,
    sha256: Sha256 = None,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """The ISO's signed annual review of configuration-management reports (CFG-5)."""
    _annual(AnnualKind.CONFIG, year, notes, preview, sha256, as_, json_out)


def _pinned(preview: bool, sha256: str | None) -> str | None:
    if preview and sha256 is not None:
        raise BadInput("give --preview (to read the report) or --sha256 (to sign it), not both")
    return None if sha256 is None else reviews.pinned(sha256)


def _annual(
    kind: AnnualKind,
    year: str,
    notes: str,
    preview: bool,
    sha256: str | None,
    as_: str | None,
    json_out: bool,
) -> None:
    name = str(year_bounds(year)[0].year)
    wanted = _pinned(preview, sha256)
    noun, route = NOUNS[kind], f"/api/v1/reviews/{kind.value.replace('_', '-')}"
    if preview:
        _show_preview(
            transport.read(
                f"review {noun}",
                as_,
                ReviewPreviewOut,
                lambda ctx: annual_reviews.preview(ctx, kind, name),
                lambda r: r.call("GET", f"{route}/{name}/preview"),
            ),
            f"changegate review {noun} --year {name}",
            json_out,
        )
        return
    if wanted is None:
        raise BadInput(f"give --sha256 HEX from `changegate review {noun} --year {name} --preview`")
    out = transport.write(
        f"review {noun}",
        as_,
        ReviewOut,
        lambda ctx: views.review(annual_reviews.sign(ctx, kind, name, wanted, notes)),
        lambda r: r.call("POST", route, json={"year": name, "sha256": wanted, "notes": notes}),
    )
    if json_out:
        emit_json(out)
    else:
        say(f"{kind.value} review {out.id} for {out.period} signed by {out.author}")
        say(f"sha256 {out.sha256}")


def _show_preview(out: ReviewPreviewOut, command: str, json_out: bool) -> None:
    if json_out:
        emit_json(out)
        return
    say(_indented(out.report))
    say(f"sha256 {out.sha256}")
    if out.signable:
        say(f"to sign this report: {command} --sha256 {out.sha256} --as EMAIL")
    else:
        say(f"not signable yet: {out.why_not}")


def _indented(report: object) -> str:
    text = json.dumps(report, indent=2, ensure_ascii=False)
    return "\n".join("  " + line for line in text.splitlines())


@app.command("list")
def list_(
    kind: Annotated[
        list[str] | None,
        typer.Option(
            metavar="KIND",
            help="quarterly_metrics, baseline_verification, "
            "waiver_quarterly, policy_annual, config_annual; repeat for several.",
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
    say(_indented(r.report))


@app.command("doc")
def doc(
    review_id: Annotated[int, typer.Argument(metavar="ID", min=1, max=2**31 - 1)],
    out: Annotated[Path, typer.Option(metavar="FILE", help="Where to write the document.")],
    format_: Annotated[DocFormat, typer.Option("--format")] = DocFormat.PDF,
    as_: As = None,
) -> None:
    """One signed review as a report document (HTML or PDF): who signed, when, the SHA-256,
    the notes and the data signed."""
    data = transport.read(
        "review doc",
        as_,
        bytes,
        lambda ctx: _document(ctx, review_id, format_),
        lambda r: r.content("GET", f"/api/v1/reviews/{review_id}/report.{format_.value}"),
    )
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise BadInput(f"cannot write {out}: {exc.strerror}") from None
    say(f"review {review_id}: {len(data):,} bytes of {format_.value.upper()} written to {out}")


def _document(ctx: Context, review_id: int, format_: DocFormat) -> bytes:
    html, pdf = reviews.report_document(ctx.session, review_id)
    return html.encode() if format_ is DocFormat.HTML else pdf
