"""What every part of an export is handed: the use case's context, the package being written,
the period, the signing key and where progress goes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from changegate.domain.audit.facts import Period
from changegate.services.context import Context
from changegate.services.evidence.package import Package

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

Progress = Callable[[str], None]


def quiet(message: str) -> None:
    return None


@dataclass(frozen=True)
class ExportRun:
    ctx: Context
    package: Package
    period: Period
    signer: Ed25519PrivateKey
    progress: Progress = quiet
    # Database writes a part needs, run once the package is sealed: a write takes the ledger's
    # head lock (and SQLite's only write lock) until the export's transaction ends, and gate
    # calls must not wait out the rest of a year's export for it.
    deferred: list[Callable[[], None]] = field(default_factory=list)


# A part writes its files (through `run.package.write`/`open`) and returns what it adds to the
# manifest (a mapping merged into it; {} for nothing).
Part = Callable[[ExportRun], dict[str, Any]]
