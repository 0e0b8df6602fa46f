"""How `trail ingest` opens a log file: plain, picklable callables, so that a worker process
(cli/trail_workers.py) opens files itself. Kept apart from the rest of the command so that a
worker imports little (it starts in a fresh interpreter)."""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, closing
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO, Any

from changegate.domain.errors import BadInput


def open_file(path: Path) -> AbstractContextManager[IO[bytes]]:
    try:
        return path.open("rb")
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None


@dataclass(frozen=True)
class S3Object:
    """Opens one log file of the trail's bucket: plain data, so a worker process (which makes
    its own S3 client from the same environment) can open it too."""

    bucket: str
    key: str

    def __call__(self) -> AbstractContextManager[IO[bytes]]:
        from changegate.integrations.cloudtrail_s3 import TrailBucket  # noqa: PLC0415

        return closing(TrailBucket(s3(), self.bucket).open(self.key))


def s3() -> Any:
    """An S3 client for the AWS environment as it is now (credentials, region, endpoint),
    made once per environment: a client costs tens of milliseconds, a log file far less."""
    return _client(tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_"))))


@cache
def _client(_environment: tuple[tuple[str, str], ...]) -> Any:
    import boto3  # type: ignore[import-untyped]  # noqa: PLC0415

    return boto3.client("s3")
