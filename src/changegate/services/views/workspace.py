"""Read models of where test runs are documented in Google Workspace."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from changegate.db.models import WorkspaceFile
from changegate.db.workspace import Workspace
from changegate.services.context import Context
from changegate.services.views.common import Instant, Out
from changegate.services.workspace import event_key

PENDING = "filing pending"


class DriveFileOut(Out):
    role: str  # report | summary | doc
    file_id: str
    name: str
    mime_type: str
    version: int
    modified_time: Instant
    link: str
    md5: str | None  # Drive's checksums of a filed file; none for a Google Doc or Sheet
    sha256: str | None
    content_sha256: str  # the bytes kept: the file as filed, or the Doc's PDF export


def drive_file(row: WorkspaceFile) -> DriveFileOut:
    modified: datetime = row.modified_at
    return DriveFileOut(
        role=row.role,
        file_id=row.file_id,
        name=row.name,
        mime_type=row.mime_type,
        version=row.version,
        modified_time=modified,
        link=row.link,
        md5=row.md5,
        sha256=row.sha256,
        content_sha256=row.content_sha256,
    )


def documentation(
    ctx: Context, run_ids: Sequence[int]
) -> dict[int, tuple[str | None, list[DriveFileOut]]]:
    """Per run: a one-line status ("filing pending", "filed: ...", "doc verified: ...") and
    its Drive files; runs with neither are absent."""
    repo = Workspace(ctx.session)
    files: dict[int, list[DriveFileOut]] = {}
    for row in repo.of_runs(run_ids):
        files.setdefault(row.test_run_id, []).append(drive_file(row))
    waiting = repo.pending([event_key(i) for i in run_ids])
    out: dict[int, tuple[str | None, list[DriveFileOut]]] = {}
    for run_id in run_ids:
        found = files.get(run_id, [])
        said = [_said(f) for f in found]
        said += [PENDING] if event_key(run_id) in waiting else []
        if said:
            out[run_id] = ("; ".join(said), found)
    return out


def _said(f: DriveFileOut) -> str:
    if f.role == "doc":
        return f"doc verified: {f.name!r} v{f.version}, PDF SHA-256 {f.content_sha256[:12]}"
    return f"{f.role} filed: {f.file_id} v{f.version}, SHA-256 {(f.sha256 or '')[:12]}"
