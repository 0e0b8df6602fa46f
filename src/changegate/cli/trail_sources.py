"""Where `trail ingest` reads from: files and directories, a trail's S3 bucket after each
cursor, and (through a server) files whose records are posted to the API in batches."""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from changegate.cli import transport
from changegate.cli.trail_openers import S3Object, open_file, s3
from changegate.domain.errors import BadInput
from changegate.services import trail_ingest, trail_parse
from changegate.services.trail_parse import CursorAt
from changegate.services.views.trail import TrailIngestOut

Opener = trail_parse.Opener


def files(paths: list[Path]) -> Iterator[tuple[str, Opener, None]]:
    """The log files of `paths` (files, and directories walked in name order, a folder at a
    time), after every path is checked (BadInput names the first missing one), so a mistyped
    path stores nothing. Only the folder being walked is held: an organisation's trail keeps a
    few hundred files a folder (`.../REGION/YYYY/MM/DD/`) and millions in all, so listing a
    whole tree first held memory in proportion to the archive."""
    for path in paths:
        if not path.is_dir() and not path.is_file():
            raise BadInput(f"cannot read {path}: no such file or directory")
    return _files(paths)


def _files(paths: list[Path]) -> Iterator[tuple[str, Opener, None]]:
    for path in paths:
        for file in _walk(path) if path.is_dir() else iter([path]):
            yield str(file), partial(open_file, file), None


def _walk(folder: Path) -> Iterator[Path]:
    """The log files under `folder`, depth first, each folder's entries in name order."""
    with os.scandir(folder) as listing:
        entries = sorted(listing, key=lambda e: e.name)
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(Path(entry.path))
        elif entry.is_file() and is_log(entry.name):
            yield Path(entry.path)


def is_log(name: str) -> bool:
    return name.endswith((".json", ".json.gz", ".ndjson", ".jsonl"))


def bucket_files(
    run: Any, bucket: str, prefix: str, actor: str
) -> Iterator[tuple[str, Opener, CursorAt]]:
    """Every log file after each account and region's cursor, oldest first."""
    from changegate.integrations.cloudtrail_s3 import TrailBucket  # noqa: PLC0415

    source = TrailBucket(s3(), bucket, prefix)
    for t in source.trails():
        after = run(
            lambda ctx, t=t: trail_ingest.cursor(ctx, bucket, t.base, t.account, t.region),
            actor=actor,
        )
        for key in source.keys(t, after):
            cursor = CursorAt(bucket, t.base, t.account, t.region, key)
            yield f"s3://{bucket}/{key}", S3Object(bucket, key), cursor


def remote_ingest(paths: list[Path]) -> TrailIngestOut:
    """Through a server: each file is read here and its records go, a batch at a time, to
    POST /api/v1/trail/events; what does not parse is reported here, as locally."""
    from changegate.cli.remote import Remote  # noqa: PLC0415
    from changegate.integrations import cloudtrail  # noqa: PLC0415

    settings = transport.remote_settings()
    assert settings is not None and settings.server_url is not None
    server = Remote(settings.server_url, settings.token)
    totals: dict[str, Any] = {}
    for name, opener, _ in files(paths):
        with opener() as stream:
            local: dict[str, Any] = {"files": 1, "malformed": [], "skipped": 0}
            for batch in _batches(cloudtrail.read(stream), name, local):
                got = server.call(
                    "POST", "/api/v1/trail/events", params={"source": name}, json=batch
                )
                # Each batch is a delivery to the server; here a file is what counts.
                _merge(totals, {k: v for k, v in got.items() if k != "files"})
        _merge(totals, local)
    return TrailIngestOut.model_validate(_complete(totals))


def _batches(reads: Iterator[Any], name: str, local: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The file's records a batch at a time; what is known here (what does not parse, what
    is not a record) is counted into `local`, as the service counts it locally."""
    from changegate.integrations.cloudtrail import Item, Malformed  # noqa: PLC0415

    batch: list[dict[str, Any]] = []
    for read in reads:
        if isinstance(read, Malformed):
            local["malformed"].append(f"{name}: {read.where}: {read.detail}")
        elif isinstance(read, Item):
            batch.append(read.record)
        else:
            local["skipped"] += 1
        if len(batch) >= REMOTE_BATCH:
            yield {"Records": batch}
            batch = []
    if batch:
        yield {"Records": batch}


REMOTE_BATCH = 1000


def _merge(totals: dict[str, Any], got: dict[str, Any]) -> None:
    for key, value in got.items():
        if isinstance(value, int | list):
            totals[key] = totals.get(key, 0 if isinstance(value, int) else []) + value
        elif key == "notice":
            totals[key] = value


def _complete(totals: dict[str, Any]) -> dict[str, Any]:
    counts = ("new", "seen", "changes", "attempts", "reads", "data", "services", "skipped")
    return {k: 0 for k in counts} | {"uncovered": []} | totals
