"""The ledger from a signed anchor: `ledger/ledger.jsonl` (exactly `ledger export`'s lines)
and `ledger/checkpoint.json` (`ledger checkpoint`'s format).

The anchor is the newest checkpoint signed with the export's key before the period starts;
the lines then run from the record after it through the last record made before the period
ends, and the first line's `prev` must be the checkpoint's hash. Without such a checkpoint the
lines start at genesis and are anchored at their end: a checkpoint already signed at the
last exported record, or one the export signs now (kept in the database and recorded in the
ledger like any other), so the chain is tied to the key either way.
"""

from __future__ import annotations

from typing import IO, Any, cast

from changegate import ledger
from changegate.db.evidence import Evidence
from changegate.db.models import Checkpoint
from changegate.services.evidence import signing
from changegate.services.evidence.export_run import ExportRun
from changegate.services.evidence.formats import CHECKPOINT, JSONL


def write(run: ExportRun) -> dict[str, Any]:
    ctx = run.ctx
    repo = Evidence(ctx.session)
    last = repo.last_seq_before(run.period.end)
    key = signing.key_text(run.signer.public_key())
    anchor = repo.anchor(key, before=run.period.start)
    if anchor is not None and anchor.seq <= last:
        first, checkpoint, kind = anchor.seq + 1, anchor, "start"
    else:
        # An earlier export of the period signed its end already: the same anchor serves.
        end = repo.anchor(key, seq=last) if last else None
        first, checkpoint, kind = 1, end or _sign_end(run, repo, last), "end"
    with run.package.open(JSONL) as sink:
        count = ledger.export(ctx.session, cast(IO[str], sink), first=first, last=last)
    run.package.write_json(CHECKPOINT, ledger.checkpoint_json(checkpoint))
    run.progress(f"{JSONL}: {count:,} records, seq {first} to {last}")
    return {
        "ledger": {
            "first_seq": first,
            "last_seq": last,
            "records": count,
            "checkpoint": {"seq": checkpoint.seq, "anchors": kind},
        }
    }


def _sign_end(run: ExportRun, repo: Evidence, last: int) -> Checkpoint:
    head = repo.ledger_hash(last) if last else ledger.GENESIS
    at = run.ctx.now
    message = ledger.checkpoint_message(last, head or ledger.GENESIS, last, at)
    checkpoint = Checkpoint(
        seq=last,
        head_hash=head or ledger.GENESIS,
        count=last,
        at=at,
        signature=signing.b64(run.signer.sign(message)),
        public_key=signing.key_text(run.signer.public_key()),
    )
    if last:  # a checkpoint of the empty chain names no record `ledger verify` could find
        run.deferred.append(lambda: _keep(run, checkpoint))
    return checkpoint


def _keep(run: ExportRun, checkpoint: Checkpoint) -> None:
    run.ctx.session.add(checkpoint)
    run.ctx.session.flush()
    run.ctx.record("ledger.checkpoint", "ledger", ledger.checkpoint_json(checkpoint))
