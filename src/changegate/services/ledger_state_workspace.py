"""The Drive files documenting test runs as the live table holds them (CM-4 "documented in
Google Workspace"), keyed as the ledger's `test_run.filed` and `test_run.doc_verified` records
name them (`ledger_replay.workspace_key`).

A row inserted behind changegate's back would make an undocumented run count as documented at
the gate and in the audit: `ledger verify --state` names it, and any row edited or deleted.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from changegate import ledger
from changegate.db.models import WorkspaceFile
from changegate.services.ledger_replay import workspace_key


def files(session: Session) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for row in session.execute(select(WorkspaceFile)).scalars():
        key = workspace_key(row.test_run_id, {"role": row.role, "file_id": row.file_id})
        out[key] = {
            "content_sha256": row.content_sha256,
            "sha256": str(row.sha256),
            "version": str(row.version),
            "drive_id": row.drive_id,
            "recorded_at": ledger.stamp(row.recorded_at),
        }
    return out
