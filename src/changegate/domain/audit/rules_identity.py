"""Audit rule for who made a decision: AUTH-1, every decision by an authenticated principal.

DESIGN.md section 2 (Identity): an approval is only as good as the proof of who gave it. The
local `--as` path proves nothing (anyone who reaches the database can type any email); where
the policy allows it (`identity.local_decisions: allow`, for demos and administration), each
such decision's ledger record says `"authenticated": false`, and this rule reports it.
"""

from __future__ import annotations

import re

from changegate.domain.audit.facts import AuditFacts, Draft

IDENTITY = "AUTH-1"
CHANGE_KEY = re.compile(r"^CHG-\d+$")


def unauthenticated_decision(facts: AuditFacts) -> list[Draft]:
    """AUTH-1: a decision recorded as not authenticated, one finding per ledger record."""
    out = []
    for d in facts.unauthenticated:
        attributes = {"principal": d.actor}
        if CHANGE_KEY.match(d.subject):
            attributes["change"] = d.subject
        out.append(
            Draft(
                control=IDENTITY,
                rule=f"{IDENTITY}.unauthenticated-decision",
                subject=f"ledger:{d.seq}",
                summary=f"{d.action} on {d.subject} by {d.actor} was made without signing in "
                "(in-process --as), so nothing proves who made it",
                evidence=(f"ledger:{d.seq}",),
                occurred_at=d.at,
                attributes=attributes,
            )
        )
    return out
