"""The ledger names the first record that was edited, deleted, inserted or reordered."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from changegate import ledger
from changegate.bootstrap import App
from changegate.services.context import Context
from tests.builders import T0
from tests.unit.test_ledger_known_answer import PINNED

N = 8


@pytest.fixture
def chain(app: App) -> App:
    for i in range(N):
        app.run(
            lambda ctx, i=i: ctx.record("test.event", f"CHG-{i}", {"i": i, "note": "é"}),
            actor="tester",
            at=T0 + timedelta(seconds=i),
        )
    return app


def verify(app: App, anchors: list[Any] | None = None, key: Any = None) -> ledger.Report:
    return app.run(lambda ctx: ledger.verify(ctx.session, anchors, key))


def sql(app: App, *statements: str) -> None:
    with app.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def test_an_untouched_chain_verifies(chain: App) -> None:
    report = verify(chain)
    assert report.ok and report.count == N and report.head_seq == N


def test_an_empty_chain_verifies(app: App) -> None:
    assert verify(app).ok


def test_edit_is_named(chain: App) -> None:
    sql(chain, "UPDATE ledger SET actor = 'mallory' WHERE seq = 4")
    problem = verify(chain).problem
    assert problem is not None and (problem.kind, problem.seq) == ("edited", 4)


def test_payload_edit_is_named(chain: App) -> None:
    with chain.engine.begin() as conn:
        conn.execute(text("UPDATE ledger SET payload = :p WHERE seq = 6"), {"p": '{"i":9}'})
    problem = verify(chain).problem
    assert problem is not None and (problem.kind, problem.seq) == ("edited", 6)


def test_deletion_in_the_middle_is_named(chain: App) -> None:
    sql(chain, "DELETE FROM ledger WHERE seq = 5")
    problem = verify(chain).problem
    assert problem is not None and (problem.kind, problem.seq) == ("deleted", 5)


def test_deletion_with_renumbering_is_named(chain: App) -> None:
    sql(
        chain,
        "DELETE FROM ledger WHERE seq = 5",
        "UPDATE ledger SET seq = seq + 1000 WHERE seq > 5",
        "UPDATE ledger SET seq = seq - 1001 WHERE seq > 1000",
    )
    problem = verify(chain).problem
    assert problem is not None and (problem.kind, problem.seq) == ("deleted", 5)


def test_deleting_the_tail_is_named(chain: App) -> None:
    sql(chain, f"DELETE FROM ledger WHERE seq = {N}")
    problem = verify(chain).problem
    assert problem is not None and (problem.kind, problem.seq) == ("deleted", N)


def test_insertion_is_named(chain: App) -> None:
    # A forged record with a valid own hash, linked to seq 3, slipped in as seq 4.
    row = chain.run(
        lambda ctx: ctx.session.execute(text("SELECT hash FROM ledger WHERE seq = 3")).scalar_one()
    )
    forged = ledger.record_hash(T0, "mallory", "test.event", "CHG-x", '{"i":99}', False, row)
    sql(
        chain,
        "UPDATE ledger SET seq = seq + 1000 WHERE seq > 3",
        "UPDATE ledger SET seq = seq - 999 WHERE seq > 1000",
    )
    with chain.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO ledger (seq, at, actor, action, subject, payload, clock_override, "
                "prev_hash, hash) VALUES (4, :at, 'mallory', 'test.event', 'CHG-x', :p, "
                ":f, :prev, :hash)"
            ),
            {"at": T0, "f": False, "prev": row, "hash": forged, "p": '{"i":99}'},
        )
    problem = verify(chain).problem
    assert problem is not None and (problem.kind, problem.seq) == ("inserted", 4)


def test_reordering_is_named(chain: App) -> None:
    sql(
        chain,
        "UPDATE ledger SET seq = 1000 WHERE seq = 5",
        "UPDATE ledger SET seq = 5 WHERE seq = 6",
        "UPDATE ledger SET seq = 6 WHERE seq = 1000",
    )
    problem = verify(chain).problem
    assert problem is not None and (problem.kind, problem.seq) == ("reordered", 5)


def _rewrite_whole_table(app: App) -> None:
    """An attacker with the database rewrites everything consistently, head row included."""

    def rewrite(ctx: Context) -> None:
        rows = ctx.session.execute(
            text(
                "SELECT seq, at, actor, action, subject, payload, clock_override FROM ledger "
                "ORDER BY seq"
            )
        ).all()
        ctx.session.execute(text("DELETE FROM ledger"))
        prev = ledger.GENESIS
        for seq, _, actor, action, subject, payload, override in rows:
            at = T0 - timedelta(days=1, seconds=-seq)
            digest = ledger.record_hash(at, actor, action, subject, payload, override, prev)
            ctx.session.execute(
                text(
                    "INSERT INTO ledger VALUES (:seq, :at, :actor, :action, :subject, :payload, "
                    ":override, :prev, :hash)"
                ),
                {
                    "seq": seq,
                    "at": at,
                    "actor": actor,
                    "action": action,
                    "subject": subject,
                    "payload": payload,
                    "override": override,
                    "prev": prev,
                    "hash": digest,
                },
            )
            prev = digest
        ctx.session.execute(text("UPDATE ledger_head SET hash = :h"), {"h": prev})

    app.run(rewrite)


def test_a_whole_table_rewrite_is_caught_by_an_exported_checkpoint(chain: App) -> None:
    key = Ed25519PrivateKey.generate()
    exported = json.dumps(
        chain.run(lambda ctx: ledger.checkpoint_json(ledger.checkpoint(ctx.session, T0, key)))
    )
    sql(chain, "DELETE FROM ledger_checkpoints")
    _rewrite_whole_table(chain)
    assert verify(chain).ok, "without an outside anchor a full rewrite is undetectable"
    anchor = ledger.checkpoint_from_json(json.loads(exported))
    problem = verify(chain, [anchor], key.public_key()).problem
    assert problem is not None and (problem.kind, problem.seq) == ("rewritten", N)


def test_a_forged_checkpoint_signature_is_caught(chain: App) -> None:
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    chain.run(lambda ctx: ledger.checkpoint(ctx.session, T0, other))
    assert verify(chain).ok, "a checkpoint verifies against its own key when none is trusted"
    problem = verify(chain, key=key.public_key()).problem
    assert problem is not None and problem.kind == "checkpoint"


def _auditor_recipe() -> str:
    """The Python block of docs/ledger.md, exactly as an auditor would copy it."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "ledger.md").read_text()
    return text.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_auditors_recipe_in_the_docs_verifies_an_export(chain: App, tmp_path: Path) -> None:
    # The oracle is the documented recipe (standard library only), not the code under test.
    with (tmp_path / "ledger.jsonl").open("w", encoding="utf-8") as out:
        assert chain.run(lambda ctx: ledger.export(ctx.session, out)) == N
    done = subprocess.run(
        [sys.executable, "-c", _auditor_recipe()],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    head = chain.run(
        lambda ctx: ctx.session.execute(text("SELECT hash FROM ledger_head")).scalar_one()
    )
    assert done.stdout.strip() == f"chain intact; head {head}"
    # ... and it notices an edit, as it says it will.
    lines = (tmp_path / "ledger.jsonl").read_text(encoding="utf-8").splitlines()
    edited = json.loads(lines[3])
    edited["payload"]["note"] = "e"
    lines[3] = json.dumps(edited, ensure_ascii=False)
    (tmp_path / "ledger.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    recipe = [sys.executable, "-c", _auditor_recipe()]
    again = subprocess.run(recipe, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert again.returncode != 0 and "seq 4 was edited" in again.stderr


def test_with_a_signing_key_an_unsigned_checkpoint_is_reported_not_matched(chain: App) -> None:
    key = Ed25519PrivateKey.generate()
    chain.run(lambda ctx: ledger.checkpoint(ctx.session, T0, None))
    assert verify(chain).ok, "without a key, an unsigned checkpoint is all there is to check"
    problem = verify(chain, key=key.public_key()).problem
    assert problem is not None and problem.kind == "checkpoint"
    assert problem.detail == f"the checkpoint at seq {N} is not signed by the signing key"


def test_a_checkpoint_file_the_database_also_holds_counts_once(chain: App) -> None:
    kept = chain.run(lambda ctx: ledger.checkpoint_json(ledger.checkpoint(ctx.session, T0, None)))
    anchor = ledger.checkpoint_from_json(json.loads(json.dumps(kept)))
    assert verify(chain, [anchor]).checkpoints == 1


def test_the_stored_record_hashes_to_the_known_answer_on_this_database(app: App) -> None:
    """What verify and export read back (PostgreSQL formats the timestamp itself) is the text
    the writer hashed: the pinned record, then instants whose offset and microseconds vary."""
    first = datetime(2026, 11, 30, 12, tzinfo=UTC)
    app.run(
        lambda ctx: ctx.record("change.created", "CHG-1", {"title": "Düsseldorf → 東京"}),
        actor="zoë@example.com",
        at=first,
    )
    kolkata = timezone(timedelta(hours=5, minutes=30))
    for at in (
        datetime(2026, 12, 1, 3, 4, 5, 7, tzinfo=kolkata),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ):
        app.run(lambda ctx: ctx.record("test.event", "CHG-2", {"n": 1}), actor="tester", at=at)
    lines = [json.loads(line) for line in _export(app).splitlines()]
    assert lines[0]["hash"] == PINNED
    assert [x["at"] for x in lines] == [
        "2026-11-30T12:00:00.000000+00:00",
        "2026-11-30T21:34:05.000007+00:00",
        "1999-12-31T23:59:59.999999+00:00",
    ]
    assert verify(app).ok


def _export(app: App) -> str:
    out = io.StringIO()
    app.read(lambda ctx: ledger.export(ctx.session, out))
    return out.getvalue()


def test_a_subject_longer_than_its_column_is_cut_on_purpose_and_still_verifies(app: App) -> None:
    """A peer's text (a repository name GitHub sends) may exceed the subject's width: the
    record keeps the first 499 characters and an ellipsis, and hashes what it keeps."""
    app.run(lambda ctx: ctx.record("test.event", "r" * 600, {"whole": "r" * 600}), actor="t")
    [line] = [json.loads(x) for x in _export(app).splitlines()]
    assert line["subject"] == "r" * 499 + "…" and line["payload"]["whole"] == "r" * 600
    assert verify(app).ok
