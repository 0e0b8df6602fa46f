"""Signed reviews as printable report documents (HTML and PDF), and the reviews of a period.

The document shows who signed, when, the digests the ledger record carries, the notes and the
data exactly as stored; it is laid out from the stored report only, so it prints the same
whenever it is made.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from changegate import ledger
from changegate.db.reviews import Reviews
from changegate.services.views.reviews import ReviewOut, review

TEMPLATE = "review.html"
TITLES: Final[dict[str, str]] = {
    "quarterly_metrics": "Quarterly review of change-management metrics (CM-6)",
    "baseline_verification": "Quarterly verification of configuration baselines (CFG-3)",
    "waiver_quarterly": "Quarterly review of waivers (EXC-1)",
    "policy_annual": "Annual review of the change-management policy (POL-1)",
    "config_annual": "Annual review of configuration-management reports (CFG-5)",
}
ANNUAL = frozenset({"policy_annual", "config_annual"})


@dataclass(frozen=True)
class Cell:
    text: str
    pre: bool = False  # a nested value, shown as indented JSON


@dataclass(frozen=True)
class Section:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    count: int | None = None  # a population's row count
    sha256: str | None = None  # and its digest


def recorded_between(session: Session, start: datetime, end: datetime) -> list[ReviewOut]:
    """Every signed periodic review (not PIRs) recorded in [start, end), oldest first, as the
    API shows it (`report` as stored, `sha256` of the stored document)."""
    return [review(r) for r in Reviews(session).recorded_between(start, end)]


def report_document(session: Session, review_id: int) -> tuple[str, bytes]:
    """(HTML, PDF) of signed review `review_id`. NotFound for an unknown id or a PIR;
    render.RenderError if the PDF cannot be laid out."""
    # Imported here: the PDF engine takes seconds to import, and every `review` command and
    # the API's start-up would pay for it, not only those that print a document.
    from changegate.services import render  # noqa: PLC0415

    out = review(Reviews(session).get(review_id))
    html = render.html(TEMPLATE, context(out))
    return html, render.pdf(html)


def context(out: ReviewOut) -> dict[str, Any]:
    stored = out.report
    annual = out.kind in ANNUAL
    data = dict(stored.get("report", {})) if annual else {**stored}
    notes = str(data.pop("notes", "") if not annual else stored.get("notes", ""))
    pinned = stored.get("report_sha256") if annual else None
    if out.kind == "quarterly_metrics":
        pinned = hashlib.sha256(ledger.canonical(data).encode()).hexdigest()
    return {
        "review": out,
        "title": TITLES.get(out.kind, out.kind),
        "report_sha256": pinned,
        "notes": notes,
        "summary": [(k, _cell(v)) for k, v in data.items() if _scalar(v)],
        "sections": sections(data),
    }


def sections(data: Mapping[str, Any]) -> list[Section]:
    """Every non-scalar value of the report as a table: populations with their count and
    digest, lists of records, and mappings (of mappings) as rows."""
    out: list[Section] = []
    for key, value in data.items():
        if _scalar(value):
            continue
        if key == "populations" and isinstance(value, Mapping):
            out.extend(_population(f"population: {k}", v) for k, v in value.items())
        elif _is_population(value):
            out.append(_population(key, value))
        else:
            out.append(_table(key, value))
    return out


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _is_population(value: Any) -> bool:
    return isinstance(value, Mapping) and {"rows", "sha256", "items"} <= value.keys()


def _population(title: str, value: Any) -> Section:
    table = _table(title, value.get("items", []) if isinstance(value, Mapping) else value)
    if not _is_population(value):
        return table
    return Section(title, table.columns, table.rows, int(value["rows"]), str(value["sha256"]))


def _table(title: str, value: Any) -> Section:
    if isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
        columns = tuple(dict.fromkeys(k for item in value for k in item))
        rows = tuple(tuple(_cell(item.get(c)) for c in columns) for item in value)
        return Section(title, columns, rows)
    nested = isinstance(value, Mapping) and all(isinstance(v, Mapping) for v in value.values())
    inners = [tuple(v) for v in value.values()] if nested else []
    if inners and len(set(inners)) == 1:
        inner = inners[0]
        rows = tuple((Cell(str(k)), *(_cell(v.get(c)) for c in inner)) for k, v in value.items())
        return Section(title, ("", *inner), rows)
    if isinstance(value, Mapping):
        return Section(title, ("", ""), tuple((Cell(str(k)), _cell(v)) for k, v in value.items()))
    return Section(title, ("",), ((_cell(value),),))


def _cell(value: Any) -> Cell:
    if value is None:
        return Cell("-")
    if isinstance(value, bool):
        return Cell("yes" if value else "no")
    if _scalar(value):
        return Cell(str(value))
    if isinstance(value, list) and all(_scalar(v) for v in value):
        return Cell(", ".join("-" if v is None else str(v) for v in value))
    if isinstance(value, Mapping) and all(_scalar(v) for v in value.values()):
        return Cell(", ".join(f"{k}: {v}" for k, v in value.items()) or "-")
    return Cell(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True), pre=True)
