"""`cab/` and `reviews/`: the CAB minutes of every meeting held in the period and the report of
every signed review recorded in it, each as HTML and as PDF (the same HTML laid out), as the
policy's artefact list asks: "CAB meeting minutes" and "quarterly and annual review reports by
the Information Security Officer"."""

from __future__ import annotations

from typing import Any

from changegate.services import cab, review_documents
from changegate.services.evidence.export_run import ExportRun


def write(run: ExportRun) -> dict[str, Any]:
    session, period = run.ctx.session, run.period
    meetings = cab.meetings_between(session, period.start, period.end)
    for m in meetings:
        html, pdf = cab.minutes_document(session, m.id)
        run.package.write(f"cab/meeting-{m.id}.html", html.encode())
        run.package.write(f"cab/meeting-{m.id}.pdf", pdf)
    reviews = review_documents.recorded_between(session, period.start, period.end)
    for r in reviews:
        html, pdf = review_documents.report_document(session, r.id)
        run.package.write(f"reviews/review-{r.id}-{r.kind}.html", html.encode())
        run.package.write(f"reviews/review-{r.id}-{r.kind}.pdf", pdf)
    run.progress(f"cab/ and reviews/: {len(meetings)} minutes, {len(reviews)} review reports")
    return {
        "documents": {
            "cab_meetings": [m.id for m in meetings],
            "reviews": [r.id for r in reviews],
        }
    }
