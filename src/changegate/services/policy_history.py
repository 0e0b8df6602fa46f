"""Which policy document was in force when: every decision is judged by a policy, and an
auditor must be able to read the one in force at any point of a period, not only today's.

The first ledger record a process makes under a policy whose digest differs from the one last
put in force is preceded by one that puts it in force: the document is stored (once per
digest) and `policy.in_force` appended to the ledger, `{"digest", "previous"}`. Reads put
nothing in force. The ledger's `policy.in_force` records are then the history: the document in
force at time t is the digest of the last such record at or before t.
"""

from __future__ import annotations

from dataclasses import dataclass

from changegate import ledger
from changegate.db.documents import Documents
from changegate.db.installation import Installation
from changegate.services.context import SYSTEM, Context
from changegate.services.evidence.formats import POLICY_IN_FORCE_ACTION as ACTION

IN_FORCE = "policy_in_force"


def note_in_force(ctx: Context, source: str) -> bool:
    """Put the context's policy in force if it is not already; True if it was put in force."""
    digest = ctx.policy.digest()
    facts = Installation(ctx.session)
    previous = facts.fact(IN_FORCE)
    if previous == digest:
        return False
    Documents(ctx.session).keep_policy(digest, ctx.policy.canonical(), source[:1000], ctx.now)
    facts.put(IN_FORCE, digest, ctx.now)
    entry = ledger.Entry(
        ctx.now,
        SYSTEM,
        ACTION,
        "policy",
        {"digest": digest, "previous": previous},
        ctx.simulated_clock,
    )
    ledger.append(ctx.session, entry)
    return True


@dataclass
class InForce:
    """A transaction's hook (`Context.before_record`): before its first ledger record, put the
    policy in force; `done` once it has (it holds only when the transaction commits)."""

    source: str
    done: bool = False

    def put(self, ctx: Context) -> None:
        if not self.done:
            note_in_force(ctx, self.source)
            self.done = True
