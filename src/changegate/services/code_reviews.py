"""Peer-review evidence from GitHub, attached to the change its branch or title names.

Who wrote the code and who reviewed it is evidence for CM-2: the author of a pull request is an
author of the change (segregation of duties bars them from approving it), and an approving
review or a merge by someone else shows the code was reviewed.
"""

from __future__ import annotations

from changegate.db.changes import Changes
from changegate.db.code_reviews import CodeReviews
from changegate.db.models import Change, CodeReview
from changegate.domain.errors import NotFound
from changegate.integrations.ports import PeerReview
from changegate.services.context import Context

SOURCE = "github"


def record(ctx: Context, evidence: PeerReview, key: str | None, delivery_id: str) -> str | None:
    """Keep the evidence (linked to change `key` if it exists); the key it was linked to."""
    change = _change(ctx, key)
    row = CodeReview(
        change_id=change.id if change else None,
        repository=evidence.repository,
        pull_number=evidence.pull_number,
        title=evidence.title,
        head_ref=evidence.head_ref,
        author_login=evidence.author.lower(),
        kind=evidence.kind,
        actor_login=evidence.actor.lower(),
        commit_sha=evidence.commit_sha,
        at=evidence.at,
        url=evidence.url,
        delivery_id=delivery_id,
        received_at=ctx.now,
    )
    if not CodeReviews(ctx.session).add(row):
        return change.key if change else None
    ctx.record(
        f"github.pull_request_{evidence.kind}",
        change.key if change else f"{evidence.repository}#{evidence.pull_number}",
        {
            "code_review_id": row.id,
            "repository": evidence.repository,
            "pull_request": evidence.pull_number,
            "author": row.author_login,
            "by": row.actor_login,
            "commit": evidence.commit_sha,
            "at": evidence.at.isoformat(),
            "url": evidence.url,
        },
    )
    return change.key if change else None


def authors_of(ctx: Context, change: Change) -> tuple[str, ...]:
    """Everyone who authored the change: its declared commit authors, and the people whose
    GitHub login authored a pull request linked to it."""
    linked = CodeReviews(ctx.session).authors([change.id]).get(change.id, set())
    return tuple(sorted({*change.commit_authors, *linked}))


def _change(ctx: Context, key: str | None) -> Change | None:
    if key is None:
        return None
    try:
        return Changes(ctx.session).get(key)
    except NotFound:
        return None
