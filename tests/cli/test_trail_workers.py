"""`trail ingest --workers N`: files read and classified by worker processes, stored in order
by the ingesting one (cli/trail_workers.py), giving exactly what reading them in one process
gives. Files are real records (tests/trail_logs.py): the organisation sample's and the user
guide's writes, with fresh eventIDs; enough of them that the workers start."""

from __future__ import annotations

import fcntl
import gc
import json
import multiprocessing
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from changegate.cli import trail_workers
from changegate.cli.trail_openers import open_file
from changegate.db.base import ANALYSE_AFTER_ROWS
from changegate.domain.errors import BadInput
from changegate.domain.trail.actors import AccountMapping, TrailRules
from changegate.services import trail_parse
from changegate.services.trail_parse import Source
from tests.conftest import Result
from tests.trail_logs import generated, operators, org_records, writes

Cli = Callable[..., Result]
OPS = ("--as", "ops@example.com")
FILES = trail_workers.CHUNK * 3 + 7  # past the few files read without workers
RULES = TrailRules(
    accounts=(AccountMapping("123456789012", "production"),), production=frozenset({"production"})
)


def logs(folder: Path) -> list[Path]:
    """FILES log files of 26 records each: the sample's 20 (not kept) and the guide's five
    writes in production (kept, none covered), then the sample's first again."""
    shapes = [*org_records(), *writes()]
    made = []
    for index in range(1, FILES + 1):
        key, body, _ = generated(index, 26, shapes)
        path = folder / f"{index:03d}-{key.rsplit('/', 1)[-1]}"
        path.write_bytes(body)
        made.append(path)
    return made


def sources(paths: list[Path]) -> list[Source]:
    return [(str(p), partial(open_file, p), None) for p in paths]


def test_workers_read_what_one_process_reads_in_the_same_order(tmp_path: Path) -> None:
    paths = logs(tmp_path)
    alone = list(trail_workers.parsed(sources(paths), RULES, 0))
    pooled = list(trail_workers.parsed(sources(paths), RULES, 2))
    assert len(alone) == len(pooled) == FILES
    assert [p.source for p in pooled] == [str(p) for p in paths]
    assert [(p.tally, p.rows, p.needing_cover) for p in pooled] == [
        (p.tally, p.rows, p.needing_cover) for p in alone
    ]
    assert sum(len(p.rows) for p in pooled) == 5 * FILES


def test_a_file_a_worker_cannot_open_stops_the_ingest_in_one_line(tmp_path: Path) -> None:
    paths = logs(tmp_path)
    paths[trail_workers.CHUNK + 2].unlink()  # gone after it was listed, read by a worker
    with pytest.raises(BadInput, match=r"cannot read .*: No such file or directory"):
        list(trail_workers.parsed(sources(paths), RULES, 2))


@pytest.fixture
def ops(cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    return operators(cli, monkeypatch, tmp_path)


def test_trail_ingest_with_workers_stores_each_event_once(ops: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    logs(folder)
    got = ops("trail", "ingest", str(folder), "--workers", "2", "--batch", "9", "--json", *OPS)
    assert got.code == 0, got.err
    first = json.loads(got.out)
    counts = ("files", "new", "seen", "changes", "services", "reads")
    # Per file: the guide's 5 writes kept; the sample's 17 services and 3 reads, and its
    # first record (a read) again, counted.
    assert tuple(first[k] for k in counts) == (
        FILES,
        5 * FILES,
        0,
        5 * FILES,
        17 * FILES,
        4 * FILES,
    )
    assert len(first["uncovered"]) == 5 * FILES
    again = json.loads(ops("trail", "ingest", str(folder), "--workers", "0", "--json", *OPS).out)
    assert (again["new"], again["seen"]) == (0, 5 * FILES)


def test_workers_is_a_bounded_number(ops: Cli, tmp_path: Path) -> None:
    got = ops("trail", "ingest", str(tmp_path), "--workers", "-1", *OPS)
    assert got.code == 2 and len(got.err.strip().splitlines()) == 1


def test_a_file_past_a_part_is_stored_a_part_at_a_time_and_proven(
    ops: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    """Memory stays bounded however large one file is: its kept records are stored PART at a
    time, each part under its own label with its own ledger proof, and counted as one file."""
    monkeypatch.setattr(trail_parse, "PART", 10)
    folder = tmp_path / "big"
    folder.mkdir()
    key, body, _ = generated(1, 25, writes())  # 25 kept records: parts of 10, 10 and 5
    (folder / key.rsplit("/", 1)[-1]).write_bytes(body)
    got = json.loads(ops("trail", "ingest", str(folder), "--json", *OPS).out)
    assert (got["files"], got["new"], got["changes"]) == (1, 25, 25)
    engine = create_engine(db_url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT source FROM trail_events")).scalars().all()
    engine.dispose()
    sources = Counter(s.rsplit("/", 1)[-1] for s in stored)
    name = key.rsplit("/", 1)[-1]
    assert sources == {name: 10, f"{name} (part 2)": 10, f"{name} (part 3)": 5}
    verified = ops("ledger", "verify", "--state")
    assert verified.code == 0, verified.out + verified.err


def test_a_worker_sends_back_a_file_past_a_part_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trail_parse, "PART", 10)
    paths = logs(tmp_path)[:2]  # 5 kept records each
    big = tmp_path / "big.json.gz"
    big.write_bytes(generated(99, 25, writes())[1])
    got = trail_parse.parse_files(sources([paths[0], big, paths[1]]), RULES)
    assert [type(g).__name__ for g in got] == ["Parsed", "tuple", "Parsed"]
    assert got[1][0] == str(big)


def test_an_ingest_of_many_small_groups_leaves_the_planner_statistics_current(
    ops: Cli, tmp_path: Path, db_url: str
) -> None:
    """No group of this run stores enough to analyse the table (db/base.ANALYSE_AFTER_ROWS);
    the run as a whole does, once, at its end (services/trail_ingest.settle)."""
    folder = tmp_path / "many"
    folder.mkdir()
    for index in range(1, 21):
        key, body, _ = generated(index, 60, writes())  # 60 kept records a file
        (folder / key.rsplit("/", 1)[-1]).write_bytes(body)
    got = json.loads(ops("trail", "ingest", str(folder), "--batch", "3", "--json", *OPS).out)
    assert got["new"] == 1_200 and 3 * 60 < ANALYSE_AFTER_ROWS <= 1_200
    engine = create_engine(db_url)
    with engine.connect() as conn:
        counted = (
            conn.execute(
                text("SELECT reltuples FROM pg_class WHERE relname = 'trail_events'")
                if engine.dialect.name == "postgresql"
                else text(
                    "SELECT CAST(stat AS INTEGER) FROM sqlite_stat1 WHERE tbl = 'trail_events'"
                )
            )
            .scalars()
            .first()
        )
    engine.dispose()
    assert counted is not None and counted >= 1_200 * 0.9


@pytest.mark.skipif(not hasattr(fcntl, "F_GETPIPE_SZ"), reason="pipe sizes are Linux's")
def test_the_workers_send_results_through_a_pipe_a_task_fits_in() -> None:
    """A task's result (CHUNK small files' rows, about 170 KiB) did not fit Linux's 64 KiB
    pipe, so each worker waited on this process to read it."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        trail_workers._roomier(pool)
        reader = pool._result_queue._reader  # type: ignore[attr-defined]
        assert fcntl.fcntl(reader.fileno(), fcntl.F_GETPIPE_SZ) == trail_workers.PIPE_BYTES
        assert pool.submit(sum, [1, 2]).result() == 3


def test_the_collector_runs_less_while_a_trail_is_stored_and_as_before_after() -> None:
    before = gc.get_threshold()
    with trail_workers.collecting_less():
        assert gc.get_threshold() == (trail_workers.ALLOCATIONS, *before[1:])
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
