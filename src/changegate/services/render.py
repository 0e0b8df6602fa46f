"""Printable documents (CAB minutes, signed review reports): one HTML template, two formats.

HTML comes from Jinja2 with autoescaping on, so a title or a note typed by a person is text, never
markup. The PDF is the same HTML laid out by xhtml2pdf (ReportLab underneath, pure Python), so
the two formats cannot disagree about what a document says.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

_ENV = Environment(
    loader=PackageLoader("changegate.services", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class RenderError(RuntimeError):
    """The PDF layout engine could not lay the document out (a defect, not bad input)."""


def html(template: str, context: Mapping[str, Any]) -> str:
    """The document as an HTML5 string (UTF-8 when encoded); `template` names a file in
    `changegate/services/templates/` that extends `base.html`."""
    return _ENV.get_template(template).render(**context)


def pdf(document: str) -> bytes:
    """`document` (HTML from `html`) as PDF 1.4 bytes, A4; raises RenderError if xhtml2pdf
    reports errors."""
    # Imported here: xhtml2pdf (with ReportLab) takes seconds to import, and the API and every
    # command would pay for it at start-up, not only the ones that print a PDF.
    from xhtml2pdf import pisa  # type: ignore[import-untyped]  # noqa: PLC0415

    out = io.BytesIO()
    status = pisa.CreatePDF(document, dest=out, encoding="utf-8")
    if status.err:
        raise RenderError(f"PDF layout failed with {status.err} error(s)")
    return out.getvalue()
