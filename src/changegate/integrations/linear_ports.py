"""What changegate needs from Linear, as plain values and one protocol (the Linear port).

Services use these; only the entry points build the adapter (integrations/linear.py), so a use
case never imports httpx or knows GraphQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class LinearState:
    id: str
    name: str
    type: str  # triage, backlog, unstarted, started, completed, canceled, duplicate


@dataclass(frozen=True)
class LinearIssueData:
    """An issue as read back over GraphQL (never as a webhook said it: that is only a hint)."""

    id: str
    identifier: str  # ENG-42
    title: str
    description: str
    url: str
    updated_at: datetime
    team_key: str
    creator_email: str | None  # None: created by an app or integration, not a person
    labels: tuple[str, ...]
    state: LinearState | None
    team_states: tuple[LinearState, ...] = ()


@dataclass(frozen=True)
class LinearTeam:
    id: str
    key: str
    name: str
    states: tuple[LinearState, ...]
    labels: tuple[str, ...]  # the team's own labels


@dataclass(frozen=True)
class LinearWorkspace:
    teams: tuple[LinearTeam, ...]
    labels: tuple[str, ...]  # workspace labels (no team)


@dataclass(frozen=True)
class LinearAttachment:
    """Linear keys an issue's attachments by `url`: sending the same url again updates it."""

    url: str
    title: str
    subtitle: str
    metadata: Mapping[str, Any] = field(default_factory=dict)


class LinearApi(Protocol):
    """Linear's GraphQL API. Every method raises IntegrationError when Linear fails us (status
    429 when it is rate limited past what a short wait rides out)."""

    def issue(self, issue_id: str) -> LinearIssueData | None: ...

    def issues_since(
        self, since: datetime, labels: Sequence[str], teams: Sequence[str]
    ) -> Iterator[LinearIssueData]: ...

    def workspace(self) -> LinearWorkspace: ...

    def set_state(self, issue_id: str, state_id: str) -> None: ...

    def attach(self, issue_id: str, attachment: LinearAttachment) -> None: ...

    def comment(self, issue_id: str, comment_id: str, body: str) -> bool:
        """Post `body` as comment `comment_id` (a UUID); False if it was already there."""
        ...
