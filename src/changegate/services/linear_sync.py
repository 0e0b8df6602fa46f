"""`linear check` and `linear sync`: the policy held against the workspace, and both sides
reconciled after downtime (Linear retries a failed webhook only three times, so some are lost).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select

from changegate.db.linear import LinearIssues
from changegate.db.models import LedgerRecord
from changegate.integrations.linear_ports import LinearApi, LinearWorkspace
from changegate.policy import LinearPolicy
from changegate.services import linear_outbound
from changegate.services.context import Context
from changegate.services.linear_delivery import LinearChannel, Runner

FIRST_SYNC: Final = timedelta(days=30)  # how far back a first `linear sync` reads


@dataclass(frozen=True)
class Check:
    """What the workspace has of what the policy names, and what it lacks (one line each)."""

    teams: tuple[str, ...]
    labels: tuple[str, ...]
    states: tuple[str, ...]
    problems: tuple[str, ...]


def check(workspace: LinearWorkspace, config: LinearPolicy) -> Check:
    problems: list[str] = []
    keys = {team.key for team in workspace.teams}
    missing = [key for key in config.teams if key not in keys]
    problems += [f"no team with key {key!r}" for key in missing]
    teams = [t for t in workspace.teams if not config.teams or t.key in config.teams]
    for label in (config.change_label, config.exception_label):
        for team in teams:
            names = {n.casefold() for n in (*workspace.labels, *team.labels)}
            if label.casefold() not in names:
                problems.append(f"team {team.key} has no label {label!r}")
    wanted = {*config.change_states.values(), *config.waiver_states.values()}
    for team in teams:
        have = {s.name.casefold() for s in team.states}
        problems += [
            f"team {team.key} has no workflow state {name!r}"
            for name in sorted(wanted)
            if name.casefold() not in have
        ]
    return Check(
        tuple(f"{t.key} ({t.name})" for t in teams),
        tuple(sorted({*workspace.labels, *(n for t in teams for n in t.labels)})),
        tuple(sorted({s.name for t in teams for s in t.states})),
        tuple(problems),
    )


@dataclass
class Synced:
    """What `linear sync` did: issues read and what each came to; records queued back."""

    since: datetime
    read: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    queued: int = 0


def sync(
    api: LinearApi,
    channel: LinearChannel,
    run: Runner,
    config: LinearPolicy,
    since: datetime | None,
    now: datetime,
) -> Synced:
    """Apply every labelled issue updated since `since` (default: where the last sync got to,
    or FIRST_SYNC back), then queue each linked request's newest record for its issue, so the
    worker shows its current state there. The cursor moves only past what was applied."""
    start = since or run(lambda ctx: LinearIssues(ctx.session).cursor()) or now - FIRST_SYNC
    done = Synced(start)
    newest = start
    labels = [config.change_label, config.exception_label]
    for issue in api.issues_since(start, labels, config.teams):
        done.read += 1
        done.outcomes[channel.apply(issue).status] += 1
        newest = max(newest, issue.updated_at)
        run(_advance(newest))
    done.queued = run(lambda ctx: queue_current(ctx, start))
    return done


def _advance(to: datetime) -> Callable[[Context], None]:
    return lambda ctx: LinearIssues(ctx.session).advance(to, ctx.now)


def queue_current(ctx: Context, since: datetime) -> int:
    """Queue the newest record of each linked request that has one since `since`."""
    queued = 0
    for link in LinearIssues(ctx.session).linked():
        rows = ctx.session.execute(
            select(LedgerRecord)
            .where(LedgerRecord.subject == link.key, LedgerRecord.at >= since)
            .order_by(LedgerRecord.seq.desc())
        ).scalars()
        for row in rows:
            if linear_outbound.queue_record(
                ctx.session, row.seq, row.action, row.subject, None, ctx.now, again=True
            ):
                queued += 1
                break
    return queued
