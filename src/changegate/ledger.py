"""The hash-chained ledger: append in the caller's transaction, verify, export, checkpoint.

Each record's hash is SHA-256 over canonical JSON of its content and the previous record's hash.
The position (seq) is not hashed: the chain itself proves the order, which is what lets `verify`
tell an edit (own hash wrong) from a deletion, insertion or reordering (link wrong).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any, cast

import rfc8785
from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from changegate.db.engine import check_storable, on_postgres
from changegate.db.models import Checkpoint, LedgerHead, LedgerRecord
from changegate.domain import limits
from changegate.domain.errors import BadInput
from changegate.domain.wording import clip

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

GENESIS = "0" * 64
BATCH = 10_000


# The canonical form records are hashed in from now on: 2, RFC 8785 (JCS). Form 1, Python's
# json with sorted keys, is how records before migration 0010 were hashed; they verify as stored.
CANON = 2


def canonical(value: Any) -> str:
    """RFC 8785 (JSON Canonicalization Scheme) text of `value`, through the `rfc8785` library.

    Raises BadInput for what JCS cannot represent exactly: NaN, infinities, and integers
    beyond 2**53 - 1 (RFC 8785 section 3.2.2.3: numbers are IEEE 754 doubles)."""
    try:
        return rfc8785.dumps(value).decode()
    except rfc8785.CanonicalizationError as exc:
        raise BadInput(f"not representable in canonical JSON (RFC 8785): {exc}") from None


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def record_hash(
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    payload: str,
    clock_override: bool,
    prev_hash: str,
    canon: int = CANON,
) -> str:
    """SHA-256 of the canonical JSON object; `payload` is already canonical JSON text in form
    `canon` (docs/ledger.md gives both forms)."""
    return _digest(stamp(at), actor, action, subject, payload, clock_override, prev_hash, canon)


def _digest(
    at: str,
    actor: str,
    action: str,
    subject: str,
    payload: str,
    clock_override: bool,
    prev_hash: str,
    canon: int = CANON,
) -> str:
    """`record_hash` with `at` already stamped: what verify runs a million times. Both forms
    write these keys and strings alike (ASCII keys in the same order; JSON.stringify's escapes,
    which are Python's with non-ASCII unescaped); form 2 also hashes the form itself."""
    form = f'"canon":{canon},' if canon >= 2 else ""
    body = (
        f'{{"action":{_string(action)},"actor":{_string(actor)},"at":"{at}",{form}'
        f'"clock_override":{"true" if clock_override else "false"},'
        f'"payload":{payload},"prev":"{prev_hash}","subject":{_string(subject)}}}'
    )
    return hashlib.sha256(body.encode()).hexdigest()


# What `canonical` does with a str, without the encoder's dispatch (three calls per record).
_string = json.encoder.encode_basestring


@dataclass(frozen=True)
class Entry:
    at: datetime
    actor: str
    action: str
    subject: str
    payload: Mapping[str, Any]
    clock_override: bool = False


def append(session: Session, entry: Entry) -> int:
    """Append in the caller's transaction; the head row lock serialises concurrent writers.
    Returns the record's seq. Raises BadInput (from `check_storable`) for text the record's
    columns cannot hold, before anything is written."""
    session.flush()  # the caller's pending rows first, as before: their ids may be in payloads
    seq, prev = _head(session, lock=True)
    payload = canonical(dict(entry.payload))
    # A subject is a label to find records by; text from a peer may exceed it (see `limits`).
    subject = clip(entry.subject, limits.LEDGER_SUBJECT)
    digest = record_hash(
        entry.at, entry.actor, entry.action, subject, payload, entry.clock_override, prev
    )
    row = {
        "seq": seq + 1,
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "subject": subject,
        "payload": payload,
        "clock_override": entry.clock_override,
        "prev_hash": prev,
        "hash": digest,
        "canon": CANON,
    }
    check_storable(_RECORDS, row)
    if on_postgres(session):
        # The head's move and the record in one statement: one round trip under the lock.
        session.execute(_APPEND_PG, row)
    else:
        session.execute(_RECORDS.insert(), row)
        session.execute(_HEAD.update().where(_HEAD.c.id == 1).values(seq=seq + 1, hash=digest))
    return seq + 1


_RECORDS = cast(Table, LedgerRecord.__table__)
_HEAD = cast(Table, LedgerHead.__table__)
_APPEND_PG = text(
    "WITH head AS (UPDATE ledger_head SET seq = :seq, hash = :hash WHERE id = 1) "
    "INSERT INTO ledger (seq, at, actor, action, subject, payload, clock_override, prev_hash, "
    "hash, canon) VALUES (:seq, :at, :actor, :action, :subject, :payload, :clock_override, "
    ":prev_hash, :hash, :canon)"
)


# The chain's tip (seq, hash), read from the table itself, never from an ORM object a Core
# append may have left stale.
_TIP = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1)


def _head(session: Session, lock: bool = False) -> tuple[int, str]:
    seq, digest = session.execute(_TIP.with_for_update() if lock else _TIP).one()
    return int(seq), str(digest)


@dataclass(frozen=True)
class Problem:
    seq: int
    kind: str
    detail: str


@dataclass(frozen=True)
class Report:
    count: int
    head_seq: int
    head_hash: str
    checkpoints: int
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


Row = tuple[int, str, str, str, str, str, bool, str, str, int]
# PostgreSQL formats `at` as `stamp` does, in C: parsing a datetime and formatting it again in
# Python was a third of verify's time. The known-answer test holds both to the same text.
_PG_STAMP = 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'


def _rows(session: Session, batch: int, first: int = 1, last: int | None = None) -> Iterator[Row]:
    """Every record in seq order (from `first` through `last`), `at` as `stamp` text."""
    cols = _RECORDS.c
    pg = on_postgres(session)
    at = func.to_char(func.timezone("UTC", cols.at), _PG_STAMP) if pg else cols.at
    stmt = (
        select(
            cols.seq,
            at,
            cols.actor,
            cols.action,
            cols.subject,
            cols.payload,
            cols.clock_override,
            cols.prev_hash,
            cols.hash,
            cols.canon,
        )
        .order_by(cols.seq)
        .execution_options(yield_per=batch)
    )
    if first > 1:
        stmt = stmt.where(cols.seq >= first)
    if last is not None:
        stmt = stmt.where(cols.seq <= last)
    rows = session.execute(stmt).tuples()
    if pg:
        yield from rows
        return
    for seq, when, *rest in rows:
        yield (seq, stamp(when), *rest)


def _seq_of_hash(session: Session, digest: str) -> int | None:
    return session.execute(
        select(LedgerRecord.seq).where(LedgerRecord.hash == digest)
    ).scalar_one_or_none()


def _link_problem(session: Session, seq: int, prev_seq: int, linked: str) -> Problem:
    target = _seq_of_hash(session, linked)
    if target is None:
        return Problem(seq, "deleted", f"the record before seq {seq} is missing from the chain")
    if target < prev_seq:
        return Problem(
            prev_seq, "inserted", f"seq {prev_seq} was inserted: seq {seq} links to seq {target}"
        )
    return Problem(seq, "reordered", f"seq {seq} links to seq {target}, which comes after it")


def _walk(session: Session, batch: int) -> tuple[int, int, str, Problem | None]:
    count, prev_seq, prev_hash = 0, 0, GENESIS
    for seq, at, actor, action, subject, payload, override, linked, digest, canon in _rows(
        session, batch
    ):
        count += 1
        if _digest(at, actor, action, subject, payload, override, linked, canon) != digest:
            return count, seq, digest, Problem(seq, "edited", f"seq {seq} does not match its hash")
        if seq != prev_seq + 1:
            gap = f"seq {prev_seq + 1}" + (f" to {seq - 1}" if seq - 1 > prev_seq + 1 else "")
            return count, seq, digest, Problem(prev_seq + 1, "deleted", f"{gap} deleted")
        if linked != prev_hash:
            return count, seq, digest, _link_problem(session, seq, prev_seq, linked)
        prev_seq, prev_hash = seq, digest
    return count, prev_seq, prev_hash, None


def _head_problem(session: Session, last_seq: int, last_hash: str) -> Problem | None:
    head = session.execute(_TIP).first()
    if head is None or (head.seq, head.hash) != (last_seq, last_hash):
        at = head.seq if head else 0
        return Problem(
            last_seq + 1, "deleted", f"the head says seq {at} but the chain ends at seq {last_seq}"
        )
    return None


def verify(
    session: Session,
    anchors: list[Checkpoint] | None = None,
    public_key: Ed25519PublicKey | None = None,
    batch: int = BATCH,
) -> Report:
    """Walk the chain from genesis; name the first record that was tampered with."""
    count, last_seq, last_hash, problem = _walk(session, batch)
    stored = list(session.execute(select(Checkpoint).order_by(Checkpoint.seq)).scalars())
    # A checkpoint file an auditor kept is usually one the database holds too: count it once.
    unique = {(c.seq, c.head_hash, c.signature or ""): c for c in stored + (anchors or [])}
    checks = list(unique.values())
    if problem is None:
        problem = _head_problem(session, last_seq, last_hash)
    if problem is None:
        problem = next(
            filter(None, (check_anchor(session, c, last_seq, public_key) for c in checks)), None
        )
    return Report(count, last_seq, last_hash, len(checks), problem)


def check_anchor(
    session: Session, cp: Checkpoint, last_seq: int, public_key: Ed25519PublicKey | None
) -> Problem | None:
    if public_key is not None and not cp.signature:
        # With a key configured, only what it signed is trusted: anyone can write an unsigned one.
        return Problem(
            cp.seq, "checkpoint", f"the checkpoint at seq {cp.seq} is not signed by the signing key"
        )
    if cp.signature and not signature_ok(cp, public_key):
        return Problem(cp.seq, "checkpoint", f"the checkpoint at seq {cp.seq} has a bad signature")
    if cp.seq > last_seq:
        return Problem(
            last_seq + 1,
            "deleted",
            f"a checkpoint covers seq {cp.seq} but the chain ends at seq {last_seq}",
        )
    digest = session.execute(
        select(LedgerRecord.hash).where(LedgerRecord.seq == cp.seq)
    ).scalar_one_or_none()
    if digest != cp.head_hash:
        return Problem(
            cp.seq, "rewritten", f"seq {cp.seq} differs from the checkpoint taken at {stamp(cp.at)}"
        )
    return None


def checkpoint_message(seq: int, head_hash: str, count: int, at: datetime) -> bytes:
    return canonical({"count": count, "head_hash": head_hash, "seq": seq, "at": stamp(at)}).encode()


def signature_ok(cp: Checkpoint, trusted: Ed25519PublicKey | None) -> bool:
    """Trust a configured key when there is one; else the key the checkpoint carries."""
    from cryptography.exceptions import InvalidSignature  # noqa: PLC0415  (only when signed)

    try:
        key = trusted or load_public_key(cp.public_key or "")
        key.verify(
            base64.b64decode(cp.signature or ""),
            checkpoint_message(cp.seq, cp.head_hash, cp.count, cp.at),
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def checkpoint(session: Session, at: datetime, signer: Ed25519PrivateKey | None) -> Checkpoint:
    seq, head_hash = _head(session)
    count = session.execute(select(func.count()).select_from(LedgerRecord)).scalar_one()
    cp = Checkpoint(seq=seq, head_hash=head_hash, count=count, at=at)
    if signer is not None:
        message = checkpoint_message(cp.seq, cp.head_hash, count, at)
        cp.signature = base64.b64encode(signer.sign(message)).decode()
        cp.public_key = public_key_text(signer.public_key())
    session.add(cp)
    session.flush()
    return cp


def public_key_text(key: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def load_public_key(text: str) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: PLC0415
        Ed25519PublicKey,
    )

    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text))


def checkpoint_json(cp: Checkpoint) -> dict[str, Any]:
    return {
        "seq": cp.seq,
        "head_hash": cp.head_hash,
        "count": cp.count,
        "at": stamp(cp.at),
        "signature": cp.signature,
        "public_key": cp.public_key,
    }


def checkpoint_from_json(data: Mapping[str, Any]) -> Checkpoint:
    return Checkpoint(
        seq=int(data["seq"]),
        head_hash=str(data["head_hash"]),
        count=int(data["count"]),
        at=datetime.fromisoformat(str(data["at"])),
        signature=data.get("signature"),
        public_key=data.get("public_key"),
    )


def export(
    session: Session, out: IO[str], batch: int = BATCH, first: int = 1, last: int | None = None
) -> int:
    """JSON Lines (records `first` through `last`, default all); each line re-hashes to `hash`
    as documented in docs/ledger.md. The payload is written as stored, byte for byte: a form-1
    record's `100.0` stays `100.0`, which a JCS re-serialisation of the whole line would turn
    into `100` and so break its hash."""
    count = 0
    for seq, at, actor, action, subject, payload, override, linked, digest, canon in _rows(
        session, batch, first, last
    ):
        out.write(
            f'{{"action":{_string(action)},"actor":{_string(actor)},"at":"{at}",'
            f'"canon":{canon},"clock_override":{"true" if override else "false"},'
            f'"hash":"{digest}","payload":{payload},"prev":"{linked}","seq":{seq},'
            f'"subject":{_string(subject)}}}\n'
        )
        count += 1
    return count
