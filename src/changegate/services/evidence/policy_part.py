"""`policy/`: every policy document in force at some point of the period, and when.

- `policy/policy.json`: the document in force at export, in the form its digest is taken
  over, so `sha256sum` of the file is the digest;
- `policy/documents/<digest>.json`: each document in force during the period or cited by one
  of its gate decisions, as changegate stored it when first put in force (same form);
- `policy/in_force.json`: `intervals` (`digest`, `from`, `to` (null: still in force), the
  ledger `seq` that put it in force, the `document` file or null when changegate never stored
  it) and `gate_decisions` (each digest the period's decisions cite, how many, its file);
- `policy/ledger.jsonl`: those `policy.in_force` ledger records, exactly as `ledger export`
  writes them, so their hashes re-compute even when they precede the package's chain.
"""

from __future__ import annotations

import io
import json
from typing import Any

from changegate import ledger
from changegate.db import populations_detective as detective
from changegate.db.documents import Documents
from changegate.services.evidence.export_run import ExportRun
from changegate.services.evidence.formats import (
    POLICY_DOCUMENT,
    POLICY_IN_FORCE,
    POLICY_IN_FORCE_ACTION,
    POLICY_LEDGER,
    cell,
    policy_file,
)


def write(run: ExportRun) -> dict[str, Any]:
    ctx, start, end = run.ctx, run.period.start, run.period.end
    repo = Documents(ctx.session)
    current, text = ctx.policy.digest(), ctx.policy.canonical()
    run.package.write(POLICY_DOCUMENT, text.encode())
    records = [
        (seq, at, str(json.loads(payload)["digest"]))
        for seq, at, payload in repo.in_force_records(POLICY_IN_FORCE_ACTION, start, end)
    ]
    cited = {str(d): int(n) for d, n in ctx.session.execute(detective.policy_digests(start, end))}
    digests = {digest for _, _, digest in records} | set(cited)
    stored = {d.digest: d.document for d in repo.policies(sorted(digests))}
    stored.setdefault(current, text)
    kept = digests & set(stored)
    for digest in sorted(kept):
        run.package.write(policy_file(digest), stored[digest].encode())
    lines = io.StringIO()
    for seq, _, _ in records:
        ledger.export(ctx.session, lines, first=seq, last=seq)
    run.package.write(POLICY_LEDGER, lines.getvalue().encode())

    def document(digest: str) -> str | None:
        return policy_file(digest) if digest in kept else None

    intervals = [
        {
            "digest": digest,
            "from": cell(at),
            "to": cell(records[i + 1][1]) if i + 1 < len(records) else None,
            "seq": seq,
            "document": document(digest),
        }
        for i, (seq, at, digest) in enumerate(records)
    ]
    decisions = [
        {"digest": d, "decisions": n, "document": document(d)} for d, n in sorted(cited.items())
    ]
    body = {"current": current, "intervals": intervals, "gate_decisions": decisions}
    run.package.write_json(POLICY_IN_FORCE, body)
    return {"policy": {"current": current, "in_force": [d for _, _, d in records]}}
