"""Read models of the ledger: a verification report and a checkpoint."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from changegate import ledger
from changegate.db.models import Checkpoint
from changegate.services import ledger_state
from changegate.services.views.common import Out

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class ProblemOut(Out):
    seq: int
    kind: str  # edited, deleted, inserted, reordered, checkpoint
    detail: str


class MismatchOut(Out):
    """A live row that differs from what the ledger implies (`ledger verify --state`)."""

    table: str
    key: str
    field: str
    ledger: str
    live: str


class StateOut(Out):
    checked: list[str]  # the tables compared with the ledger
    mismatches: list[MismatchOut]


class VerificationOut(Out):
    ok: bool
    count: int
    head_seq: int
    head_hash: str
    checkpoints: int
    problem: ProblemOut | None
    state: StateOut | None = None  # asked for: the live tables against the ledger
    # Asked to record a passing state check (`ledger.state_verified`): whether it was.
    recorded: bool | None = None


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


def verified(
    session: Session,
    state: bool = False,
    anchors: list[Checkpoint] | None = None,
    trusted: Ed25519PublicKey | None = None,
) -> VerificationOut:
    """`ledger verify` for every entry point: the chain (and checkpoints), and with `state`
    the live tables against the ledger; not ok when either finds a difference."""
    out = verification(ledger.verify(session, anchors, trusted))
    return _with_state(out, ledger_state.check(session)) if state else out


def _with_state(out: VerificationOut, mismatches: list[ledger_state.Mismatch]) -> VerificationOut:
    state = StateOut(
        checked=list(ledger_state.CHECKED),
        mismatches=[MismatchOut(**vars(m)) for m in mismatches],
    )
    return out.model_copy(update={"state": state, "ok": out.ok and not mismatches})


def checkpoint(cp: Checkpoint) -> CheckpointOut:
    return CheckpointOut(**ledger.checkpoint_json(cp))
