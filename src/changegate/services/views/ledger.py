"""Read models of the ledger: a verification report and a checkpoint."""

from __future__ import annotations

from changegate import ledger
from changegate.db.models import Checkpoint
from changegate.services.views.common import Out


class ProblemOut(Out):
    seq: int
    kind: str  # edited, deleted, inserted, reordered, checkpoint
    detail: str


class VerificationOut(Out):
    ok: bool
    count: int
    head_seq: int
    head_hash: str
    checkpoints: int
    problem: ProblemOut | None


class CheckpointOut(Out):
    """A checkpoint as written by `ledger checkpoint --out` (the file format auditors keep)."""

    seq: int
    head_hash: str
    count: int
    at: str
    signature: str | None
    public_key: str | None


def verification(report: ledger.Report) -> VerificationOut:
    p = report.problem
    return VerificationOut(
        ok=report.ok,
        count=report.count,
        head_seq=report.head_seq,
        head_hash=report.head_hash,
        checkpoints=report.checkpoints,
        problem=ProblemOut(seq=p.seq, kind=p.kind, detail=p.detail) if p else None,
    )


def checkpoint(cp: Checkpoint) -> CheckpointOut:
    return CheckpointOut(**ledger.checkpoint_json(cp))
