"""The package writer: a directory or a zip file, every file hashed into the signed manifest.

Files go into a hidden sibling (`.NAME.partial-PID`) that becomes NAME only when the manifest
is sealed, so a failed export leaves nothing an auditor could mistake for a package.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from changegate.domain.errors import BadInput
from changegate.services.evidence import signing
from changegate.services.evidence.formats import FORMAT, MANIFEST, compact, dumps

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

FLUSH_BYTES = 1 << 20
# Every member carries the same time (the manifest says when): the same records give the same
# bytes, and nothing below the entry point reads the clock.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class FileEntry:
    path: str
    sha256: str
    size: int


class Sink:
    """A text stream into one package file: UTF-8, hashed and counted as it is written."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out, self._hash, self._buffer, self.size = out, hashlib.sha256(), bytearray(), 0

    def write(self, text: str) -> int:
        self._buffer += text.encode()
        if len(self._buffer) >= FLUSH_BYTES:
            self.flush()
        return len(text)

    def write_bytes(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            self._out.write(self._buffer)
            self._hash.update(self._buffer)
            self.size += len(self._buffer)
            self._buffer.clear()

    def entry(self, path: str) -> FileEntry:
        self.flush()
        return FileEntry(path, self._hash.hexdigest(), self.size)


def check_target(target: Path) -> None:
    """Refuse (BadInput) a target that holds something: a file, or a non-empty directory."""
    if target.suffix.lower() == ".zip":
        if target.exists():
            raise BadInput(f"{target} already exists; refusing to overwrite it")
    elif target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BadInput(f"{target} exists and is not an empty directory; choose a new --out")
    if not target.parent.is_dir():
        raise BadInput(f"{target.parent} is not a directory")


def _member(path: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _check_path(path: str) -> str:
    parts = path.split("/")
    if path.startswith("/") or "\\" in path or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"not a package path: {path!r}")
    return path


class Package:
    """Files written once each, then `seal` signs the manifest and publishes the package."""

    def __init__(self, target: Path) -> None:
        check_target(target)
        self.target = target
        self.is_zip = target.suffix.lower() == ".zip"
        self._partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
        self._entries: dict[str, FileEntry] = {}
        self._zip: zipfile.ZipFile | None = None
        if self.is_zip:
            self._zip = zipfile.ZipFile(self._partial, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        else:
            self._partial.mkdir()

    @property
    def entries(self) -> list[FileEntry]:
        return sorted(self._entries.values(), key=lambda e: e.path)

    @contextmanager
    def open(self, path: str) -> Iterator[Sink]:
        """A new file at `path` (POSIX, relative), registered in the manifest when closed."""
        if path in self._entries or path == MANIFEST:
            raise ValueError(f"{path} is already in the package")
        _check_path(path)
        with self._raw(path) as raw:
            sink = Sink(raw)
            yield sink
            self._entries[path] = sink.entry(path)

    def write(self, path: str, data: bytes) -> FileEntry:
        """Write `data` to `path` and register it: the one way a part adds a file."""
        if path in self._entries or path == MANIFEST:
            raise ValueError(f"{path} is already in the package")
        _check_path(path)
        if self._zip is not None:
            # One call per small file: a year's export writes sixty thousand of them.
            self._zip.writestr(_member(path), data, compresslevel=1)
        else:
            file = self._partial / path
            file.parent.mkdir(parents=True, exist_ok=True)
            with file.open("xb") as handle:
                handle.write(data)
        entry = FileEntry(path, hashlib.sha256(data).hexdigest(), len(data))
        self._entries[path] = entry
        return entry

    def write_json(self, path: str, value: Any, pretty: bool = True) -> FileEntry:
        """`value` as JSON: indented for reading, or compact (`pretty=False`) where there are
        tens of thousands of files and the indenting encoder would cost seconds."""
        return self.write(path, dumps(value) if pretty else compact(value))

    def copy_in(self, path: str, source: Path) -> FileEntry:
        with self.open(path) as sink, source.open("rb") as handle:
            while chunk := handle.read(FLUSH_BYTES):
                sink.write_bytes(chunk)
        return self._entries[path]

    @contextmanager
    def _raw(self, path: str) -> Iterator[IO[bytes]]:
        if self._zip is not None:
            with self._zip.open(_member(path), "w", force_zip64=True) as handle:
                yield handle
            return
        file = self._partial / path
        file.parent.mkdir(parents=True, exist_ok=True)
        with file.open("xb") as handle:
            yield handle

    def seal(self, fields: dict[str, Any], signer: Ed25519PrivateKey) -> bytes:
        """Write the signed manifest (`fields` plus the file list) and publish the package.
        Returns the manifest's bytes."""
        files = [{"path": e.path, "sha256": e.sha256, "size": e.size} for e in self.entries]
        manifest = signing.sign({"format": FORMAT, **fields, "files": files}, signer)
        data = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False).encode() + b"\n"
        if self._zip is not None:
            self._zip.writestr(_member(MANIFEST), data)
            self._zip.close()
        else:
            (self._partial / MANIFEST).write_bytes(data)
        if self.target.is_dir():
            self.target.rmdir()  # empty, as `check_target` found it
        self._partial.rename(self.target)
        return data

    def discard(self) -> None:
        if self._zip is not None:
            self._zip.close()
        if self._partial.is_dir():
            shutil.rmtree(self._partial)
        else:
            self._partial.unlink(missing_ok=True)
