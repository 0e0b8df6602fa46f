"""Reading a package, directory or zip, as the offline verifier does: names and bytes only."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from changegate.domain.errors import BadInput

CHUNK = 1 << 20


class Unreadable(ValueError):
    """A file of the package that is not what its name says (not JSON, not CSV, not UTF-8)."""


class PackageReader:
    """The files of a package (directory or zip), by their POSIX path inside it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        if path.is_dir():
            self.names = {p.relative_to(path).as_posix() for p in path.rglob("*") if not p.is_dir()}
            return
        try:
            self._zip = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile) as exc:
            why = getattr(exc, "strerror", None) or "not a zip file or a directory"
            raise BadInput(f"{path}: {why}") from None
        self.names = {i.filename for i in self._zip.infolist() if not i.is_dir()}

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        if name not in self.names:
            raise Unreadable(f"{name}: missing")
        if self._zip is not None:
            with self._zip.open(name) as handle:
                yield handle
            return
        with (self.path / name).open("rb") as handle:
            yield handle

    def read(self, name: str) -> bytes:
        with self.open(name) as handle:
            return handle.read()

    def json(self, name: str) -> Any:
        try:
            return json.loads(self.read(name))
        except (ValueError, UnicodeDecodeError):
            raise Unreadable(f"{name}: not valid JSON") from None

    def lines(self, name: str) -> Iterator[tuple[int, str]]:
        """(line number, text) of a UTF-8 text file."""
        with self.open(name) as handle:
            text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
            try:
                yield from enumerate(text, start=1)
            except UnicodeDecodeError:
                raise Unreadable(f"{name}: not UTF-8") from None

    def rows(self, name: str) -> Iterator[dict[str, str]]:
        """A CSV file's rows (RFC 4180, header first) as dicts."""
        with self.open(name) as handle:
            text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
            try:
                yield from csv.DictReader(text)
            except (UnicodeDecodeError, csv.Error):
                raise Unreadable(f"{name}: not a UTF-8 CSV file") from None
