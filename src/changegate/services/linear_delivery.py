"""The outbox's `linear` channel: what the worker does with each row (services/linear_outbound).

Every send is idempotent, because the outbox delivers at least once (a worker killed after the
send and before the bookkeeping sends the row again): the intake is keyed by the digest of
what it applied; the attachment by its url; comments by ids derived from what they report;
the state is set only when the issue is not already in it. The GraphQL calls happen outside
any transaction; each database step runs in its own (`run`, `read`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from changegate.integrations.linear_ports import LinearApi, LinearIssueData
from changegate.integrations.ports import IntegrationError, OutgoingMessage
from changegate.services import linear_intake, linear_report
from changegate.services.context import Context
from changegate.services.linear_intake import Outcome

Runner = Callable[[Callable[[Context], Any]], Any]


class LinearChannel:
    """A Notifier for channel `linear`. `run` runs a use case in a transaction of its own
    (App.run), `read` in a read-only one (App.read)."""

    def __init__(self, api: LinearApi, run: Runner, read: Runner) -> None:
        self.api = api
        self._run = run
        self._read = read

    def send(self, message: OutgoingMessage) -> None:
        body = json.loads(message.body)
        kind = body.get("kind")
        if kind == "issue":
            self.intake(message.recipient)
        elif kind == "comment":
            self.api.comment(message.recipient, body["comment_id"], body["text"])
        elif kind == "record":
            self.report(message.recipient, int(body["seq"]), str(body["key"]))
        else:
            raise IntegrationError("linear outbox", None, f"unknown row kind {kind!r}")

    def intake(self, issue_id: str) -> Outcome:
        """Re-read the issue (the webhook was only a hint) and apply it."""
        issue = self.api.issue(issue_id)
        if issue is None:
            return Outcome("ignored", None, f"issue {issue_id} is gone")
        return self.apply(issue)

    def apply(self, issue: LinearIssueData) -> Outcome:
        outcome: Outcome = self._run(lambda ctx: linear_intake.apply(ctx, issue, ctx.policy.linear))
        return outcome

    def report(self, issue_id: str, seq: int, key: str) -> None:
        built: linear_report.Report = self._read(
            lambda ctx: linear_report.build(ctx, issue_id, seq, key)
        )
        self.api.attach(issue_id, built.attachment)
        self.api.comment(issue_id, built.comment_id, built.comment)
        if built.state is not None:
            self._move(issue_id, built.state)

    def _move(self, issue_id: str, state: str) -> None:
        issue = self.api.issue(issue_id)
        if issue is None:
            return  # deleted in Linear: nothing left to show the state on
        wanted = next((s for s in issue.team_states if s.name.casefold() == state.casefold()), None)
        if wanted is None:
            raise IntegrationError(
                f"Linear issue {issue.identifier}",
                422,
                f"team {issue.team_key} has no workflow state {state!r} (policy linear.*_states)",
            )
        if issue.state is None or issue.state.id != wanted.id:
            self.api.set_state(issue.id, wanted.id)
