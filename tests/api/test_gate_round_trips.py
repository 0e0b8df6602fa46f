"""An allowed gate call's SQL, counted: the hot path stays at its few round trips (issue 11:
read the change with its decisions in one query, write the ledger record in one statement on
PostgreSQL). A new query on this path fails here and must be argued for; nothing is timed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from tests.api.conftest import Api, approved_change, gate, record_tests

# What one allowed call reads and writes, in order, after the token's last use is recorded:
# (how the statement starts, the table it names first).
READS = [
    ("SELECT", "api_tokens"),  # the token, its person and their roles
    ("SELECT", "changes"),  # the change with every decision on it
    ("SELECT", "test_runs"),  # the evidence the gate weighs
    ("INSERT INTO", "gate_decisions"),
    ("SELECT", "ledger_head"),  # the chain's tip, locked on PostgreSQL
]
EXPECTED = {
    # The tip moves and the record is inserted in one statement.
    "postgresql": [*READS, ("WITH head AS (UPDATE", "ledger_head")],
    # No round trips to save in-process; SQLite takes the write lock up front.
    "sqlite": [
        ("BEGIN IMMEDIATE", ""),
        *READS,
        ("INSERT INTO", "ledger"),
        ("UPDATE", "ledger_head"),
    ],
}


def test_an_allowed_gate_call_makes_only_its_round_trips(api: Api) -> None:
    key = approved_change(api, environments=["staging", "production"])
    assert record_tests(api, key).status_code == 201
    assert gate(api, key)["allowed"]  # the first use of the token is recorded; not counted
    sent: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(" ".join(statement.split()))

    engine = api.app.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert gate(api, key)["allowed"]
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    expected = EXPECTED[engine.dialect.name]
    assert len(sent) == len(expected), "\n".join(sent)
    for statement, (start, table) in zip(sent, expected, strict=True):
        assert statement.startswith(start), (start, statement)
        assert not table or f" {table}" in statement.split(" WHERE ")[0], (table, statement)
