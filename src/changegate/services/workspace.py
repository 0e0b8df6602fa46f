"""Test runs documented in Google Workspace (CM-4: regression results "documented in Google
Workspace"): a Doc or Sheet verified and frozen when the run is recorded, and the filing of a
run's report and summary in the shared drive queued in the same transaction.

Verification reads Drive before the transaction opens (`verify_doc`), so a database transaction
never waits on Google; what it found is written with the run (`keep_doc`). Filing goes through
the outbox (channel `drive`), delivered by the worker (services/workspace_filing.py): a run is
recorded whether or not Drive answers, and shows "filing pending" until its files are in.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qs, urlsplit

from changegate import ledger
from changegate.db.documents import Documents
from changegate.db.models import TestRun, WorkspaceFile
from changegate.db.outbox import Outbox
from changegate.db.workspace import Workspace
from changegate.domain.errors import BadInput
from changegate.integrations.ports import Drive, DriveFile, DriveNotFound
from changegate.policy import Policy
from changegate.services.context import Context

DRIVE: Final = "drive"  # the outbox channel
EDITORS: Final = {
    "application/vnd.google-apps.document": "Google Doc",
    "application/vnd.google-apps.spreadsheet": "Google Sheet",
}
HOSTS: Final = {"docs.google.com", "drive.google.com"}
FILE_ID: Final = re.compile(r"/(?:document|spreadsheets|file|presentation)/d/([-\w]{10,200})")
EXPORT_LIMIT: Final = 10 * 1024 * 1024  # Drive's files.export maximum


@dataclass(frozen=True)
class FrozenDoc:
    """A Doc or Sheet as verified: its metadata and its PDF export, the evidence kept."""

    file: DriveFile
    pdf: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()


def event_key(run_id: int) -> str:
    return f"drive:test_run:{run_id}"


def shared_drive(policy: Policy) -> str:
    if policy.workspace.shared_drive is None:
        raise BadInput(
            "no shared drive configured: set workspace.shared_drive in the policy "
            "(docs/workspace.md)"
        )
    return policy.workspace.shared_drive


def doc_file_id(url: str) -> str:
    """The Drive file id in a Docs, Sheets or Drive link; BadInput if it is none of those."""
    parts = urlsplit(url.strip())
    found = FILE_ID.search(parts.path)
    if parts.scheme == "https" and (parts.hostname or "") in HOSTS:
        if found:
            return found.group(1)
        ids = parse_qs(parts.query).get("id")
        if ids and re.fullmatch(r"[-\w]{10,200}", ids[0]):
            return ids[0]
    raise BadInput(f"--doc {url[:200]!r} is not a Google Docs, Sheets or Drive link to a file")


def verify_doc(drive: Drive, policy: Policy, url: str) -> FrozenDoc:
    """The Doc or Sheet `url` names, checked to be in the policy's shared drive, exported to
    PDF. BadInput when it is missing, elsewhere, or not a Doc or Sheet; IntegrationError when
    Drive fails."""
    home = shared_drive(policy)
    file_id = doc_file_id(url)
    try:
        found = drive.get(file_id)
    except DriveNotFound:
        raise BadInput(
            f"--doc: Drive has no file {file_id} that changegate's service account can see"
        ) from None
    if found.drive_id != home:
        raise BadInput(
            f"--doc: {found.name!r} is not in the shared drive {home} the policy names "
            "(workspace.shared_drive)"
        )
    if found.mime_type not in EDITORS:
        raise BadInput(f"--doc: {found.name!r} is not a Google Doc or Sheet ({found.mime_type})")
    pdf = drive.export_pdf(file_id)
    if not pdf.startswith(b"%PDF-") or len(pdf) > EXPORT_LIMIT:
        raise BadInput(f"--doc: Drive's PDF export of {found.name!r} is not a PDF document")
    return FrozenDoc(found, pdf)


def keep_doc(ctx: Context, run: TestRun, key: str, doc: FrozenDoc) -> WorkspaceFile:
    """Record the verified Doc with the run; its PDF is kept by SHA-256 for the package."""
    Documents(ctx.session).keep_file(doc.sha256, doc.pdf, ctx.now)
    row = keep_file(ctx, run, "doc", doc.file, doc.sha256)
    ctx.record("test_run.doc_verified", key, {"test_run_id": run.id, **described(row)})
    return row


def keep_file(
    ctx: Context, run: TestRun, role: str, found: DriveFile, content_sha256: str
) -> WorkspaceFile:
    return Workspace(ctx.session).add(
        WorkspaceFile(
            test_run_id=run.id,
            role=role,
            file_id=found.id,
            name=found.name,
            mime_type=found.mime_type,
            version=found.version,
            modified_at=found.modified_time,
            drive_id=found.drive_id or "",
            link=found.link,
            md5=found.md5,
            sha256=found.sha256,
            content_sha256=content_sha256,
            recorded_at=ctx.now,
        )
    )


def described(row: WorkspaceFile) -> dict[str, object]:
    """A Drive file as the ledger, the views and the evidence package name it."""
    return {
        "role": row.role,
        "file_id": row.file_id,
        "name": row.name,
        "mime_type": row.mime_type,
        "version": row.version,
        "modified_time": ledger.stamp(row.modified_at),
        "drive_id": row.drive_id,
        "link": row.link,
        "md5": row.md5,
        "sha256": row.sha256,
        "content_sha256": row.content_sha256,
    }


def queue_filing(ctx: Context, run: TestRun, key: str) -> None:
    """Queue the filing of `run` in the shared drive, in the transaction that records it."""
    drive = shared_drive(ctx.policy)
    Outbox(ctx.session).add_many(
        [
            {
                "event_key": event_key(run.id),
                "channel": DRIVE,
                "recipient": drive,
                "recipient_role": None,
                "subject": f"file test run {run.id} of {key} in Google Drive",
                "body": ledger.canonical({"test_run_id": run.id, "change": key}),
                "status": "pending",
                "attempts": 0,
                "created_at": ctx.now,
                "next_attempt_at": ctx.now,
                "claimed_by": None,
                "claimed_until": None,
                "delivered_at": None,
                "last_error": None,
                "lock_version": 1,
            }
        ]
    )
