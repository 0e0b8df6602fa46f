"""`evidence export`: the package as a sequence of parts, each writing its files and adding
to the manifest; then the manifest is signed and the export recorded in the ledger.

Adding a part (a sample, an OSCAL document, the CAB minutes) is one line in `PARTS`: a
function taking the `ExportRun` that writes through `run.package.write(path, bytes)` (or
`open`/`write_json`) and returns what it adds to the manifest.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from changegate import ledger
from changegate.domain.errors import BadInput
from changegate.domain.users import Role
from changegate.services import audits
from changegate.services.context import Context
from changegate.services.evidence import (
    audit_part,
    changes,
    documents_part,
    ledger_part,
    policy_part,
    populations,
)
from changegate.services.evidence.export_run import ExportRun, Part, Progress, quiet
from changegate.services.evidence.package import Package, check_target
from changegate.services.views.evidence import ExportOut

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PARTS: tuple[Part, ...] = (
    populations.write,
    changes.write,
    ledger_part.write,
    policy_part.write,
    documents_part.write,
    audit_part.write,  # last: its OSCAL document cites every file above by SHA-256
)
NO_KEY = (
    "the evidence package is signed with the ledger's key and none is configured: create one "
    "with `changegate ledger keygen --out KEY.pem` and set CHANGEGATE_SIGNING_KEY to its path"
)


def export(
    ctx: Context,
    period_text: str,
    target: Path,
    signer: Ed25519PrivateKey | None,
    progress: Progress = quiet,
) -> ExportOut:
    """Write the period's package to `target` (a directory, or a `.zip` file). Auditors, the
    ISO and admins only (Forbidden otherwise); BadInput for a bad period, an occupied target,
    or no signing key, before anything is written."""
    ctx.user_with(Role.AUDITOR, Role.ISO, Role.ADMIN)
    if signer is None:
        raise BadInput(NO_KEY)
    period = audits.period_for(ctx, period_text)
    check_target(target)
    package = Package(target)
    run = ExportRun(ctx, package, period, signer, progress)
    try:
        fields: dict[str, Any] = {
            "period": {
                "name": period.name,
                "start": ledger.stamp(period.start),
                "end": ledger.stamp(period.end),
            },
            "as_of": ledger.stamp(period.as_of),
            "exported_at": ledger.stamp(ctx.now),
            "exported_by": ctx.actor,
        }
        for part in PARTS:
            fields |= part(run)
        manifest = package.seal(fields, signer)
    except BaseException:
        package.discard()
        raise
    for write in run.deferred:
        write()
    digest = hashlib.sha256(manifest).hexdigest()
    ctx.record(
        "evidence.exported",
        f"evidence:{period.name}",
        {"period": period.name, "as_of": fields["as_of"], "manifest_sha256": digest},
    )
    return ExportOut(
        period=period.name,
        path=str(target),
        files=len(package.entries) + 1,
        manifest_sha256=digest,
        audit_digest=fields["audit"]["digest"],
        findings=fields["audit"]["counts"]["findings"],
        populations=fields["populations"],
        ledger_first=fields["ledger"]["first_seq"],
        ledger_last=fields["ledger"]["last_seq"],
    )
