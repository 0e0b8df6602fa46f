"""`policy/`: the policy document in force and which documents the period's gate decisions
cite. changegate keeps the effective document, not its history: `policy/policy.json` is the
current one, written in the form its digest is taken over (so `sha256sum` of the file is the
digest), and `policy/digests.json` lists each digest the period's gate decisions name, how many
decisions name it, and which file holds it (`null`: not the current document)."""

from __future__ import annotations

import json
from typing import Any

from changegate.db import populations_detective as detective
from changegate.services.evidence.export_run import ExportRun
from changegate.services.evidence.formats import POLICY_DIGESTS as DIGESTS
from changegate.services.evidence.formats import POLICY_DOCUMENT as DOCUMENT


def write(run: ExportRun) -> dict[str, Any]:
    policy = run.ctx.policy
    current = policy.digest()
    text = json.dumps(policy.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    run.package.write(DOCUMENT, text.encode())
    stmt = detective.policy_digests(run.period.start, run.period.end)
    seen = {str(d): int(n) for d, n in run.ctx.session.execute(stmt).tuples()}
    run.package.write_json(
        DIGESTS,
        {
            "current": current,
            "gate_decisions": [
                {"digest": d, "decisions": n, "document": DOCUMENT if d == current else None}
                for d, n in sorted(seen.items())
            ],
        },
    )
    return {"policy": {"current": current, "seen": sorted(seen)}}
