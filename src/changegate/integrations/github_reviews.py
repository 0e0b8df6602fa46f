"""Peer-review evidence from GitHub webhooks: who reviewed and who merged a pull request.

Two events carry it (GitHub's "Webhook events and payloads"):
- `pull_request_review`, action `submitted`, `review.state` `approved` (webhooks spell states in
  lower case; the REST API in upper case, so both are accepted): the reviewer is `review.user`,
  the approved head `review.commit_id`, the time `review.submitted_at`.
- `pull_request`, action `closed`, `pull_request.merged` true: who merged is
  `pull_request.merged_by`, the commit `pull_request.merge_commit_sha`, the time `merged_at`.
Anything else (a comment, a dismissal, a closed but unmerged pull request) is not evidence of
review and yields None. The pull request's author is `pull_request.user`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from changegate.domain.errors import BadInput
from changegate.integrations.payload import Fields, mapping
from changegate.integrations.ports import PeerReview

EVENTS: Final = frozenset({"pull_request_review", "pull_request"})


def parse(event: str, payload: Mapping[str, Any]) -> PeerReview | None:
    """The evidence a delivery carries, None if it carries none; BadInput if it is malformed."""
    fields = Fields(f"{event} webhook")
    action = payload.get("action")
    pull = mapping(payload, "pull_request")
    if event == "pull_request_review":
        review = mapping(payload, "review")
        if action != "submitted" or str(review.get("state", "")).lower() != "approved":
            return None
        return _evidence(
            fields,
            payload,
            "approved",
            fields.text(mapping(review, "user"), "login", "review.user.login"),
            fields.text(review, "commit_id", "review.commit_id"),
            fields.text(review, "submitted_at", "review.submitted_at"),
        )
    if event == "pull_request":
        if action != "closed" or pull.get("merged") is not True:
            return None
        return _evidence(
            fields,
            payload,
            "merged",
            fields.text(mapping(pull, "merged_by"), "login", "pull_request.merged_by.login"),
            fields.text(pull, "merge_commit_sha", "pull_request.merge_commit_sha"),
            fields.text(pull, "merged_at", "pull_request.merged_at"),
        )
    return None


def _evidence(
    fields: Fields, payload: Mapping[str, Any], kind: str, actor: str, sha: str, at: str
) -> PeerReview:
    pull = mapping(payload, "pull_request")
    return PeerReview(
        kind=kind,
        repository=fields.text(mapping(payload, "repository"), "full_name", "repository.full_name"),
        pull_number=fields.number(pull, "number", "pull_request.number"),
        title=fields.text(pull, "title", "pull_request.title")[:500],
        head_ref=fields.text(mapping(pull, "head"), "ref", "pull_request.head.ref")[:255],
        author=fields.text(mapping(pull, "user"), "login", "pull_request.user.login"),
        actor=actor,
        commit_sha=sha.lower()[:64],
        at=_instant(fields, at),
        url=fields.text(pull, "html_url", "pull_request.html_url")[:500],
    )


def _instant(fields: Fields, text: str) -> datetime:
    try:
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(f"{fields.what}: not a time: {text[:40]!r}") from None
    if found.tzinfo is None:
        raise BadInput(f"{fields.what}: a time without a zone: {text[:40]!r}")
    return found
