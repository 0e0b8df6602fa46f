"""`trail ingest`'s worker processes: log files read and classified in parallel, handed back in
order to the one process that stores them.

Reading a file (gunzip, parse, classify: services/trail_parse.py) is pure CPU and needs nothing
from the database, so worker processes do it for every file past the first few; the ingesting
process stores each group in its transaction as before (services/trail_ingest.store). Workers
are spawned, not forked (the ingesting process holds database connections), take `CHUNK` files
a task, and read at most `AHEAD` files ahead of the storing, so memory stays bounded. A worker
ends when the ingesting process does, even when that one is killed with SIGKILL.
"""

from __future__ import annotations

import fcntl
import gc
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager, suppress
from itertools import chain, islice

from changegate.domain.trail.actors import TrailRules
from changegate.services.trail_parse import Parsed, Source, parse_file, parse_files

CHUNK = 20  # files a task: a task's round trip costs about what reading one small file does
GROUP_ROWS = 20_000  # kept records a transaction stores at most (and a part more)
AHEAD = 1200  # files read ahead of the storing: more than a transaction's group (cli/trail.py
# FILES_PER_TRANSACTION), so workers keep reading while a group is stored
WATCH_SECONDS = 0.5
PIPE_BYTES = 1 << 20  # Linux's default pipe-max-size for an unprivileged process
# Allocations between two collections of CPython's youngest generation while a trail is read
# and stored (CPython's default: 700).
ALLOCATIONS = 50_000


def default_workers() -> int:
    """One worker per CPU, at most 4 (the storing process needs one too)."""
    return max(1, min(4, os.cpu_count() or 1))


def parsed(sources: Iterable[Source], rules: TrailRules, workers: int) -> Iterator[Parsed]:
    """Each source read and classified, in their order: by `workers` processes, or here when
    `workers` is 0 or there are fewer than `CHUNK` files (starting workers costs more)."""
    remaining = iter(sources)
    first = list(islice(remaining, CHUNK))
    if workers <= 0 or len(first) < CHUNK:
        for source in chain(first, remaining):
            yield from parse_file(source, rules)
        return
    for found in _pooled(chain([first], _chunks(remaining)), rules, workers):
        # A file too large to send back whole is read here, a part at a time.
        yield from (found,) if isinstance(found, Parsed) else parse_file(found, rules)


def groups(read: Iterator[Parsed], files: int, rows: int = GROUP_ROWS) -> Iterator[list[Parsed]]:
    """`read` in groups of at most `files` files (or parts of one) and about `rows` kept
    records: what one transaction stores."""
    group: list[Parsed] = []
    held = 0
    for found in read:
        group.append(found)
        held += len(found.rows)
        if len(group) >= files or held >= rows:
            yield group
            group, held = [], 0
    if group:
        yield group


def _chunks(sources: Iterator[Source]) -> Iterator[list[Source]]:
    while chunk := list(islice(sources, CHUNK)):
        yield chunk


def _pooled(
    chunks: Iterator[list[Source]], rules: TrailRules, workers: int
) -> Iterator[Parsed | Source]:
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_watch,
        initargs=(os.getpid(),),
    )
    _roomier(pool)
    pending: deque[Future[list[Parsed | Source]]] = deque()
    try:
        for chunk in chunks:
            pending.append(pool.submit(parse_files, chunk, rules))
            if len(pending) * CHUNK > AHEAD:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _roomier(pool: ProcessPoolExecutor) -> None:
    """On Linux, the pipe the workers send their results back through raised from 64 KiB to
    `PIPE_BYTES`. A task's result (`CHUNK` files' rows, about 170 KiB) did not fit, so a worker
    waited for this process to read the pipe empty, and the other worker for the first one's
    lock: a quarter of the workers' time at two CPUs (bench/trail_bench.py). The executor keeps
    the pipe private; where it is not there, or the system refuses (pipe-max-size below it),
    the pipe stays as it was."""
    reader = getattr(getattr(pool, "_result_queue", None), "_reader", None)
    setpipe = getattr(fcntl, "F_SETPIPE_SZ", None)
    if reader is None or setpipe is None:
        return
    with suppress(OSError):
        fcntl.fcntl(reader.fileno(), setpipe, PIPE_BYTES)


@contextmanager
def collecting_less() -> Iterator[None]:
    """CPython's cycle collector run less often for the duration: what the ingesting process
    (and each worker, for its life) holds then is set aside (`gc.freeze`), and the youngest
    generation collected every `ALLOCATIONS` allocations. Every parsed record is a few dicts,
    none part of a cycle, yet each 700 of them started a collection: a tenth of the storing
    process's time, and more of it as a group's records piled up (bench/trail_bench.py).
    Reference counting still frees everything as before; the previous settings come back
    after."""
    threshold = _collect_less()
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _collect_less() -> tuple[int, int, int]:
    """The collector's settings before."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(ALLOCATIONS, *threshold[1:])
    return threshold


def _watch(parent: int) -> None:
    """In each worker: collect less (`collecting_less`, for the worker's life), and exit once
    the ingesting process is gone. A worker blocks reading its task queue, whose other end a
    SIGKILLed parent never closes, so it would wait for ever."""
    _collect_less()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="changegate-parent-watch", daemon=True).start()
