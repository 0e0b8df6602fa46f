"""Read models of the evidence package: what an export wrote."""

from __future__ import annotations

from changegate.services.views.common import Out


class ExportOut(Out):
    """`files` counts the manifest too; `populations` is rows per population; the ledger lines
    run from seq `ledger_first` through `ledger_last`."""

    period: str
    path: str
    files: int
    manifest_sha256: str
    audit_digest: str
    findings: int
    populations: dict[str, int]
    ledger_first: int
    ledger_last: int
