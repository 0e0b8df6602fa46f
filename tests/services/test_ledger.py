"""The ledger names the first record that was edited, deleted, inserted or reordered."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from changegate import ledger
from changegate.bootstrap import App
from changegate.services.context import Context
from tests.builders import T0
from tests.unit.test_ledger_known_answer import PINNED_2, PINNED_OVERRIDE_2

N = 8


@pytest.fixture(autouse=True)
def _policy_already_in_force(app: App) -> None:
    # These tests count and renumber the records they append themselves; the record the first
    # write makes when it puts the policy in force is tested in test_policy_history.py.
    app.policy_in_force = True


def _event(i: int, ctx: Context) -> None:
    ctx.record("test.event", f"CHG-{i}", {"i": i, "note": "é"})


@pytest.fixture
def chain(app: App) -> App:
    for i in range(N):
        app.run(partial(_event, i), actor="tester", at=T0 + timedelta(seconds=i))
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
    head = chain.run(
        lambda ctx: ctx.session.execute(text("SELECT hash FROM ledger_head")).scalar_one()
    )
    assert report.head_hash == head and report.checkpoints == 0


def test_an_empty_chain_verifies(app: App) -> None:
    assert verify(app) == ledger.Report(0, 0, "0" * 64, 0, None)


def test_edit_is_named(chain: App) -> None:
    sql(chain, "UPDATE ledger SET actor = 'mallory' WHERE seq = 4")
    problem = verify(chain).problem
    assert problem == ledger.Problem(4, "edited", "seq 4 does not match its hash")


def test_payload_edit_is_named(chain: App) -> None:
    with chain.engine.begin() as conn:
        conn.execute(text("UPDATE ledger SET payload = :p WHERE seq = 6"), {"p": '{"i":9}'})
    problem = verify(chain).problem
    assert problem == ledger.Problem(6, "edited", "seq 6 does not match its hash")


def test_deletion_in_the_middle_is_named(chain: App) -> None:
    sql(chain, "DELETE FROM ledger WHERE seq = 5")
    problem = verify(chain).problem
    assert problem == ledger.Problem(5, "deleted", "seq 5 deleted")


@pytest.mark.parametrize(
    ("where", "detail"),
    [("seq IN (5, 6)", "seq 5 to 6 deleted"), ("seq BETWEEN 4 AND 7", "seq 4 to 7 deleted")],
)
def test_a_run_of_deleted_records_is_named_as_a_range(chain: App, where: str, detail: str) -> None:
    sql(chain, f"DELETE FROM ledger WHERE {where}")
    problem = verify(chain).problem
    assert problem is not None and (problem.kind, problem.detail) == ("deleted", detail)


def test_deletion_with_renumbering_is_named(chain: App) -> None:
    sql(
        chain,
        "DELETE FROM ledger WHERE seq = 5",
        "UPDATE ledger SET seq = seq + 1000 WHERE seq > 5",
        "UPDATE ledger SET seq = seq - 1001 WHERE seq > 1000",
    )
    problem = verify(chain).problem
    assert problem == ledger.Problem(
        5, "deleted", "the record before seq 5 is missing from the chain"
    )


def test_deleting_the_tail_is_named(chain: App) -> None:
    sql(chain, f"DELETE FROM ledger WHERE seq = {N}")
    problem = verify(chain).problem
    assert problem == ledger.Problem(
        N, "deleted", "the head says seq 8 but the chain ends at seq 7"
    )


def test_a_missing_head_row_is_named(chain: App) -> None:
    sql(chain, "DELETE FROM ledger_head")
    problem = verify(chain).problem
    assert problem == ledger.Problem(
        N + 1, "deleted", "the head says seq 0 but the chain ends at seq 8"
    )


def _hash_of(app: App, seq: int) -> str:
    return str(
        app.run(
            lambda ctx: ctx.session.execute(
                text("SELECT hash FROM ledger WHERE seq = :s"), {"s": seq}
            ).scalar_one()
        )
    )


def test_deleting_the_tail_and_moving_the_head_back_is_caught_by_a_checkpoint(
    chain: App,
) -> None:
    chain.run(lambda ctx: ledger.checkpoint(ctx.session, T0, None))
    before = _hash_of(chain, N - 1)
    with chain.engine.begin() as conn:
        conn.execute(text(f"DELETE FROM ledger WHERE seq = {N}"))
        conn.execute(text("UPDATE ledger_head SET seq = :s, hash = :h"), {"s": N - 1, "h": before})
    report = verify(chain)
    assert (report.count, report.head_seq, report.checkpoints) == (N - 1, N - 1, 1)
    assert report.problem == ledger.Problem(
        N, "deleted", "a checkpoint covers seq 8 but the chain ends at seq 7"
    )


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
                "prev_hash, hash, canon) VALUES (4, :at, 'mallory', 'test.event', 'CHG-x', :p, "
                ":f, :prev, :hash, 2)"
            ),
            {"at": T0, "f": False, "prev": row, "hash": forged, "p": '{"i":99}'},
        )
    problem = verify(chain).problem
    assert problem == ledger.Problem(4, "inserted", "seq 4 was inserted: seq 5 links to seq 3")


def test_reordering_is_named(chain: App) -> None:
    sql(
        chain,
        "UPDATE ledger SET seq = 1000 WHERE seq = 5",
        "UPDATE ledger SET seq = 5 WHERE seq = 6",
        "UPDATE ledger SET seq = 6 WHERE seq = 1000",
    )
    problem = verify(chain).problem
    assert problem == ledger.Problem(5, "reordered", "seq 5 links to seq 6, which comes after it")


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
                    ":override, :prev, :hash, 2)"
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
    assert problem == ledger.Problem(
        N,
        "rewritten",
        "seq 8 differs from the checkpoint taken at 2026-11-02T09:00:00.000000+00:00",
    )


def test_of_two_rewritten_checkpoints_the_earliest_is_named(chain: App) -> None:
    chain.run(lambda ctx: ledger.checkpoint(ctx.session, T0, None))
    # An older checkpoint, stored after the newer one.
    sixth = _hash_of(chain, 6)
    with chain.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO ledger_checkpoints (seq, head_hash, count, at) VALUES (6, :h, 6, :at)"
            ),
            {"h": sixth, "at": T0 - timedelta(hours=1)},
        )
    _rewrite_whole_table(chain)
    problem = verify(chain).problem
    assert problem is not None and (problem.kind, problem.seq) == ("rewritten", 6)


def test_a_forged_checkpoint_signature_is_caught(chain: App) -> None:
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    chain.run(lambda ctx: ledger.checkpoint(ctx.session, T0, other))
    assert verify(chain).ok, "a checkpoint verifies against its own key when none is trusted"
    problem = verify(chain, key=key.public_key()).problem
    assert problem == ledger.Problem(N, "checkpoint", "the checkpoint at seq 8 has a bad signature")


def test_a_signed_checkpoint_file_verifies_with_the_key_it_carries(chain: App) -> None:
    key = Ed25519PrivateKey.generate()
    kept = chain.run(lambda ctx: ledger.checkpoint_json(ledger.checkpoint(ctx.session, T0, key)))
    sql(chain, "DELETE FROM ledger_checkpoints")
    anchor = ledger.checkpoint_from_json(json.loads(json.dumps(kept)))
    assert anchor.public_key == ledger.public_key_text(key.public_key())
    report = verify(chain, [anchor])
    assert report.ok and report.checkpoints == 1


def test_two_signatures_of_one_head_are_two_checkpoints(chain: App) -> None:
    keys = (Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate())
    chain.run(lambda ctx: [ledger.checkpoint(ctx.session, T0, key) for key in keys])
    report = verify(chain)
    assert report.ok and report.checkpoints == 2


def _auditor_recipe() -> str:
    """The Python block of docs/ledger.md, exactly as an auditor would copy it."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "ledger.md").read_text()
    return text.split("```python\n", 1)[1].split("```", 1)[0]


def _run_recipe(folder: Path) -> subprocess.CompletedProcess[str]:
    """The recipe run as an auditor would, on the `ledger.jsonl` in `folder`."""
    return subprocess.run(
        [sys.executable, "-c", _auditor_recipe()],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_auditors_recipe_in_the_docs_verifies_an_export(chain: App, tmp_path: Path) -> None:
    # The oracle is the documented recipe (Python and the rfc8785 package), not the code under test.
    with (tmp_path / "ledger.jsonl").open("w", encoding="utf-8") as out:
        assert chain.run(lambda ctx: ledger.export(ctx.session, out)) == N
    done = _run_recipe(tmp_path)
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
    again = _run_recipe(tmp_path)
    assert again.returncode != 0 and "seq 4 was edited" in again.stderr


def test_with_a_signing_key_an_unsigned_checkpoint_is_reported_not_matched(chain: App) -> None:
    key = Ed25519PrivateKey.generate()
    chain.run(lambda ctx: ledger.checkpoint(ctx.session, T0, None))
    assert verify(chain).ok, "without a key, an unsigned checkpoint is all there is to check"
    problem = verify(chain, key=key.public_key()).problem
    assert problem == ledger.Problem(
        N, "checkpoint", "the checkpoint at seq 8 is not signed by the signing key"
    )


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
    assert lines[0]["hash"] == PINNED_2
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


def test_a_record_under_a_simulated_clock_says_so_and_verifies(app: App) -> None:
    """The known-answer records, appended: the second under a simulated clock."""
    app.run(
        lambda ctx: ctx.record("change.created", "CHG-1", {"title": "Düsseldorf → 東京"}),
        actor="zoë@example.com",
        at=datetime(2026, 11, 30, 12, tzinfo=UTC),
    )
    app.run(
        lambda ctx: ctx.record("change.approved", "CHG-1", {"version": 2}),
        actor="ivy@example.com",
        at=datetime(2026, 11, 30, 13, 0, 0, 1, tzinfo=timezone(timedelta(hours=1))),
        simulated=True,
    )
    lines = [json.loads(line) for line in _export(app).splitlines()]
    assert [(x["clock_override"], x["hash"]) for x in lines] == [
        (False, PINNED_2),
        (True, PINNED_OVERRIDE_2),
    ]
    stored = app.run(
        lambda ctx: ctx.session.execute(
            text("SELECT clock_override FROM ledger ORDER BY seq")
        ).all()
    )
    assert [bool(x) for (x,) in stored] == [False, True]
    assert verify(app) == ledger.Report(2, 2, PINNED_OVERRIDE_2, 0, None)


def test_append_continues_from_the_head_and_returns_the_new_seq(chain: App) -> None:
    """The head row, not the table, says where the chain ends: a record appended after the
    tail was deleted leaves the gap visible."""
    sql(chain, f"DELETE FROM ledger WHERE seq = {N}")
    entry = ledger.Entry(T0 + timedelta(hours=1), "tester", "test.event", "CHG-9", {"i": 9})
    assert chain.run(lambda ctx: ledger.append(ctx.session, entry)) == N + 1
    assert chain.run(lambda ctx: ledger.append(ctx.session, entry)) == N + 2
    report = verify(chain)
    assert (report.count, report.problem) == (N, ledger.Problem(N, "deleted", "seq 8 deleted"))


def _older_records(app: App, count: int = 2) -> None:
    """Records as changegate wrote them before migration 0010: form 1, a float as `100.0`."""

    def write(ctx: Context) -> None:
        prev = ledger.GENESIS
        for seq in range(1, count + 1):
            payload, at = f'{{"i":{seq},"ratio":100.0}}', T0 + timedelta(seconds=seq)
            digest = ledger.record_hash(
                at, "tester", "test.event", f"CHG-{seq}", payload, False, prev, canon=1
            )
            ctx.session.execute(
                text(
                    "INSERT INTO ledger (seq, at, actor, action, subject, payload, "
                    "clock_override, prev_hash, hash, canon) VALUES (:seq, :at, 'tester', "
                    "'test.event', :subject, :payload, :f, :prev, :hash, 1)"
                ),
                {
                    "seq": seq,
                    "at": at,
                    "subject": f"CHG-{seq}",
                    "payload": payload,
                    "f": False,
                    "prev": prev,
                    "hash": digest,
                },
            )
            prev = digest
        ctx.session.execute(
            text("UPDATE ledger_head SET seq = :s, hash = :h WHERE id = 1"), {"s": count, "h": prev}
        )

    app.run(write)


@pytest.fixture
def mixed(app: App) -> App:
    """Two form-1 records, then two appended now in form 2 (RFC 8785), one chain."""
    _older_records(app)
    for i in (3, 4):
        app.run(
            lambda ctx, i=i: ctx.record("test.event", f"CHG-{i}", {"i": i, "ratio": 100.0}),
            actor="tester",
            at=T0 + timedelta(seconds=i),
        )
    return app


def test_a_chain_of_both_forms_verifies_and_the_recipe_agrees(mixed: App, tmp_path: Path) -> None:
    assert verify(mixed).ok and verify(mixed).count == 4
    out = io.StringIO()
    mixed.read(lambda ctx: ledger.export(ctx.session, out))
    lines = out.getvalue().splitlines()
    # Each payload exactly as it was hashed: 100.0 in form 1, 100 in RFC 8785.
    assert [json.loads(x)["canon"] for x in lines] == [1, 1, 2, 2]
    assert '"payload":{"i":1,"ratio":100.0}' in lines[0]
    assert '"payload":{"i":3,"ratio":100}' in lines[2]
    (tmp_path / "ledger.jsonl").write_text(out.getvalue(), encoding="utf-8")
    done = _run_recipe(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("chain intact")


@pytest.mark.parametrize(("seq", "form"), [(2, 2), (3, 1)])
def test_switching_a_records_form_is_an_edit(mixed: App, seq: int, form: int) -> None:
    sql(mixed, f"UPDATE ledger SET canon = {form} WHERE seq = {seq}")
    problem = verify(mixed).problem
    assert problem is not None and (problem.kind, problem.seq) == ("edited", seq)
