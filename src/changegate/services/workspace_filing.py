"""The worker's filing of test runs in the shared drive (the outbox's `drive` channel).

Each queued run gets a folder per change (`CHG-42/`, found by name and appProperties, made if
missing), its JUnit report as recorded and a rendered HTML summary, each tagged with
appProperties (change, test run, role, commit, environment). Drive's sha256Checksum of each
file must be the SHA-256 of the bytes sent; the file id, version, checksums and link are
recorded with the run, and the bytes kept for the evidence package.

At least once, never twice: a worker killed after an upload but before its transaction
committed leaves the file in Drive and the row due again; the next attempt finds the file by
its appProperties (test run and role) and records it instead of uploading a second copy.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Final

from changegate.db.documents import Documents
from changegate.db.models import TestRun, WorkspaceFile
from changegate.db.workspace import Workspace
from changegate.domain.errors import BadInput, NotFound
from changegate.integrations.ports import Drive, DriveFile, IntegrationError
from changegate.services import outbox, render
from changegate.services.context import Context
from changegate.services.jobs import Job
from changegate.services.workspace import DRIVE, described, keep_file, shared_drive

NAME: Final = "drive-filing"  # the job, its lease, and the name on its outbox claims
BATCH: Final = 10
PREFIX: Final = "changegate"  # appProperties keys: changegateChange, changegateTestRun, ...


class FilingError(Exception):
    """Drive answered, but not with what was sent (the checksum differs): retried later."""


def job(drive: Drive) -> Job:
    """Every tick: file what is due. The lease keeps two workers from filing the same run."""
    return Job(NAME, lambda ctx: file_due(ctx, drive), hold=timedelta(minutes=15))


def file_due(ctx: Context, drive: Drive) -> int:
    """File up to BATCH due runs; the number filed. A run that fails backs off (the outbox's
    schedule); when Drive does not answer at all, the rest of the batch waits for the next tick
    without an attempt counted."""
    claims = outbox.claim(ctx, NAME, [DRIVE], BATCH)
    filed = 0
    for i, claim in enumerate(claims):
        try:
            with ctx.session.begin_nested():
                file_run(ctx, drive, int(json.loads(claim.message.body)["test_run_id"]))
        except (IntegrationError, FilingError, BadInput, NotFound) as exc:
            outbox.failed(ctx, claim, NAME, str(exc))
            if isinstance(exc, IntegrationError) and exc.status is None:
                for rest in claims[i + 1 :]:
                    outbox.release(ctx, rest, NAME)
                break
            continue
        outbox.delivered(ctx, claim, NAME)
        filed += 1
    return filed


def file_run(ctx: Context, drive: Drive, run_id: int) -> list[WorkspaceFile]:
    """File run `run_id`'s report and summary (what is not filed yet) and record them."""
    repo = Workspace(ctx.session)
    run = repo.run(run_id)
    key = run.change.key
    root = ctx.policy.workspace.folder or shared_drive(ctx.policy)
    folder = drive.folder(root, key, {f"{PREFIX}Change": key})
    have = {row.role for row in repo.of_run(run.id)}
    rows = []
    for role, name, mime, content in _documents(ctx, run, key):
        if role in have:
            continue
        digest = hashlib.sha256(content).hexdigest()
        found = drive.find(folder, {f"{PREFIX}TestRun": str(run.id), f"{PREFIX}Role": role})
        filed = found or drive.upload(folder, name, mime, content, _tags(run, key, role))
        _check(filed, digest)
        Documents(ctx.session).keep_file(digest, content, ctx.now)
        rows.append(keep_file(ctx, run, role, filed, digest))
    if rows:
        ctx.record(
            "test_run.filed",
            key,
            {"test_run_id": run.id, "folder": folder, "files": [described(r) for r in rows]},
        )
    return rows


def _documents(ctx: Context, run: TestRun, key: str) -> list[tuple[str, str, str, bytes]]:
    report = Documents(ctx.session).file(run.report_sha256)
    if report is None:
        raise BadInput(f"test run {run.id}: its report's bytes were not kept; nothing to file")
    summary = render.html(
        "test_run.html",
        {"run": run, "change": run.change, "recorded_by": run.recorded_by.email},
    ).encode()
    stem = f"{key}-run-{run.id}-{run.environment}"
    return [
        ("report", f"{stem}-junit.xml", "application/xml", report),
        ("summary", f"{stem}-summary.html", "text/html", summary),
    ]


def _tags(run: TestRun, key: str, role: str) -> dict[str, str]:
    return {
        f"{PREFIX}Change": key,
        f"{PREFIX}TestRun": str(run.id),
        f"{PREFIX}Role": role,
        f"{PREFIX}Commit": run.commit,
        f"{PREFIX}Environment": run.environment,
    }


def _check(filed: DriveFile, digest: str) -> None:
    if filed.sha256 != digest:
        raise FilingError(
            f"Drive holds {filed.name!r} ({filed.id}) with SHA-256 {filed.sha256}, "
            f"not the {digest} sent"
        )
