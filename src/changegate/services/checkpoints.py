"""Anchor signed ledger checkpoints outside the database, and check the chain against them.

The worker's `ledger-checkpoint` job takes a signed checkpoint (head seq, head hash, count: the
`ledger checkpoint --out` file, byte for byte) every `every` (hourly by default) and writes it
to a CheckpointStore (S3 under Object Lock in compliance mode), as CloudTrail writes its digest
files. Whoever can rewrite the whole ledger table consistently cannot rewrite those objects, so
`ledger verify --checkpoints-from` catches the rewrite, naming the object that no longer
matches.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Final

from sqlalchemy.orm import Session

from changegate import ledger
from changegate.domain.documents import loads_json
from changegate.domain.errors import BadInput
from changegate.integrations.ports import CheckpointStore
from changegate.services.context import Context
from changegate.services.jobs import Job
from changegate.services.views import ledger as views
from changegate.services.views.common import Out
from changegate.services.views.ledger import VerificationOut

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

JOB: Final = "ledger-checkpoint"


def job(
    store: CheckpointStore, signer: Ed25519PrivateKey, retention: timedelta, every: timedelta
) -> Job:
    return Job(JOB, partial(anchor, store=store, signer=signer, retention=retention), every=every)


def anchor(
    ctx: Context, store: CheckpointStore, signer: Ed25519PrivateKey, retention: timedelta
) -> list[str]:
    """Take a signed checkpoint, store it locked until now + `retention`, and record where
    (the key, in a list: the worker logs how many a job did).
    A store that fails raises IntegrationError and the transaction (checkpoint row and ledger
    record) rolls back: the next tick tries again."""
    cp = ledger.checkpoint(ctx.session, ctx.now, signer)
    data = views.checkpoint(cp).model_dump(mode="json")
    body = (json.dumps(data, indent=2) + "\n").encode()
    key = store.put(ctx.now, cp.seq, body, ctx.now + retention)
    ctx.record("ledger.checkpoint", "ledger", {**data, "stored_in": store.location, "key": key})
    return [key]


class AnchorProblemOut(Out):
    key: str
    detail: str


class AnchoredOut(Out):
    """`ledger verify --checkpoints-from`: the chain, and every stored checkpoint against it."""

    ok: bool
    verification: VerificationOut
    location: str
    checked: int
    problems: list[AnchorProblemOut]


def check(
    session: Session,
    verification: VerificationOut,
    location: str,
    objects: Iterable[tuple[str, bytes]],
    trusted: Ed25519PublicKey | None,
) -> AnchoredOut:
    """Each stored checkpoint must be signed (by `trusted` when given) and name a record the
    chain still holds with the same hash; every one that does not is named by its key."""
    checked, problems = 0, []
    for key, body in objects:
        checked += 1
        detail = _problem(session, body, key, verification.head_seq, trusted)
        if detail is not None:
            problems.append(AnchorProblemOut(key=key, detail=detail))
    return AnchoredOut(
        ok=verification.ok and not problems,
        verification=verification,
        location=location,
        checked=checked,
        problems=problems,
    )


def _problem(
    session: Session, body: bytes, key: str, head_seq: int, trusted: Ed25519PublicKey | None
) -> str | None:
    try:
        cp = ledger.checkpoint_from_json(loads_json(body, key))
    except (ValueError, KeyError, TypeError, BadInput):
        return "not a checkpoint written by changegate"
    if not cp.signature:
        return f"the checkpoint at seq {cp.seq} is not signed"
    problem = ledger.check_anchor(session, cp, head_seq, trusted)
    return None if problem is None else problem.detail
