"""What awaits a person: decisions they may make, reviews they owe, findings to act on.

One computation for `changegate status` and the web app's home page. Each item names the
command that acts on it, so a person can go from "what awaits me" to done in one step.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from changegate.db.changes import Changes
from changegate.db.code_reviews import CodeReviews
from changegate.db.configs import Configs
from changegate.db.findings import Findings
from changegate.db.models import Approval, Change, User, Waiver
from changegate.db.reviews import Reviews
from changegate.db.waivers import Waivers
from changegate.domain.approvals import ApprovalRole, check_may_decide
from changegate.domain.errors import DomainError
from changegate.domain.findings import FindingStatus
from changegate.domain.periods import previous_quarter, quarter_bounds, quarter_of
from changegate.domain.users import Role
from changegate.domain.waivers import DECIDABLE, WaiverStatus, missing
from changegate.services import installation
from changegate.services.approvals import current_tally, votes_of
from changegate.services.context import Context
from changegate.services.views.common import Instant, Out
from changegate.services.waivers import votes_of as waiver_votes

EXPIRING_WITHIN = timedelta(days=7)
SHOWN = 50
# (review kind, the role that signs it, the command that signs it)
QUARTERLY = (
    ("quarterly_metrics", Role.ISO, "changegate review metrics --quarter {q}"),
    ("waiver_quarterly", Role.ISO, "changegate waiver review --quarter {q}"),
    ("baseline_verification", Role.SECURITY_ENGINEER, "changegate baseline verify --quarter {q}"),
)


class InboxItemOut(Out):
    kind: str  # approve-change, approve-waiver, pir, confirm-finding, sign-review, ...
    subject: str  # CHG-3, WVR-1, FND-2, 2026-Q3, baseline:logs
    title: str
    role: str | None  # the role in which it awaits this person
    due_at: Instant | None
    due_tz: str | None = None  # the business calendar's zone, when due_at is a deadline
    command: str  # the command that acts on it, run as the person the inbox belongs to
    alternative: str | None = None  # another way to settle it (dismissing, not confirming)
    version: int | None = None  # the change's version a decision on it names


class InboxOut(Out):
    person: str
    roles: list[str]
    items: list[InboxItemOut]


def inbox(ctx: Context) -> InboxOut:
    user = ctx.user()
    roles = set(user.role_names)
    items: list[InboxItemOut] = []
    if roles & {Role.CAB.value, Role.ISO.value}:
        items += _change_decisions(ctx, user)
        items += _waiver_decisions(ctx, user)
        items += _waivers_expiring(ctx)
    if Role.REQUESTER.value in roles:
        items += _pirs_owed(ctx, user)
    if Role.ISO.value in roles:
        items += _findings(
            ctx,
            FindingStatus.OPEN,
            "confirm-finding",
            Role.ISO,
            "changegate finding confirm {k}",
            "changegate finding dismiss {k} --reason R",
        )
    if Role.HR.value in roles:
        items += _findings(
            ctx,
            FindingStatus.CONFIRMED,
            "consider-discipline",
            Role.HR,
            "changegate finding show {k}",
        )
    if Role.SECURITY_ENGINEER.value in roles:
        items += _baselines_to_approve(ctx, user)
    items += _reviews_owed(ctx, roles)
    tz = ctx.policy.timezone
    items = [i.model_copy(update={"due_tz": i.due_tz or tz}) if i.due_at else i for i in items]
    return InboxOut(person=user.email, roles=sorted(roles), items=items)


def _change_decisions(ctx: Context, user: User) -> list[InboxItemOut]:
    out = []
    repo = Changes(ctx.session)
    waiting = repo.awaiting_decision(SHOWN)
    # One query each for every shown change's decisions and pull-request authors (the web
    # app's home page renders this on every visit).
    decided = repo.approvals_of(waiting)
    linked = CodeReviews(ctx.session).authors([c.id for c in waiting])
    for change in waiting:
        authors = tuple(sorted({*change.commit_authors, *linked.get(change.id, set())}))
        for role in _roles_wanted(ctx, change, user, decided[change.id], authors):
            retro = change.status == "implemented"
            out.append(
                InboxItemOut(
                    kind="retro-approve-change" if retro else "approve-change",
                    subject=change.key,
                    title=change.title,
                    role=role.value,
                    due_at=change.retro_due_at if retro else None,
                    due_tz=_tz(change.due_calendar),
                    command=(
                        f"changegate change approve {change.key} --role {role.value} "
                        f"--version {change.version}"
                    ),
                    version=change.version,
                )
            )
    return out


def _roles_wanted(
    ctx: Context,
    change: Change,
    user: User,
    decided: Sequence[Approval],
    authors: tuple[str, ...],
) -> Iterator[ApprovalRole]:
    tally = current_tally(ctx, change, decided)
    votes = votes_of(decided)
    short = {
        ApprovalRole.CAB: len(tally.cab_approvers) < tally.needed_cab,
        ApprovalRole.ISO: tally.iso_required and tally.iso_approver is None,
    }
    for role, wanted in short.items():
        if not wanted or role.value not in user.role_names:
            continue
        try:
            check_may_decide(
                user.email,
                user.role_names,
                role,
                change.requester.email,
                authors,
                votes,
                change.version,
            )
        except DomainError:
            continue  # segregation of duties: not theirs to decide
        yield role


def _waiver_decisions(ctx: Context, user: User) -> list[InboxItemOut]:
    out = []
    for waiver in Waivers(ctx.session).in_status(DECIDABLE)[:SHOWN]:
        if waiver.requester_id == user.id:
            continue
        votes = waiver_votes(waiver)
        if any(v.approver == user.email and v.round == waiver.round for v in votes):
            continue
        for role in (ApprovalRole.CAB, ApprovalRole.ISO):
            label = "the ISO's approval" if role is ApprovalRole.ISO else "a CAB approval"
            if role.value in user.role_names and label in missing(votes, waiver.round):
                out.append(
                    _waiver_item(
                        waiver,
                        "approve-waiver",
                        role.value,
                        f"changegate waiver approve {waiver.key} --role {role.value}",
                    )
                )
                break
    return out


def _waiver_item(
    w: Waiver, kind: str, role: str | None, command: str, due: datetime | None = None
) -> InboxItemOut:
    return InboxItemOut(
        kind=kind, subject=w.key, title=w.title, role=role, due_at=due, command=command
    )


def _waivers_expiring(ctx: Context) -> list[InboxItemOut]:
    soon = ctx.now + EXPIRING_WITHIN
    return [
        _waiver_item(
            w,
            "review-expiring-waiver",
            None,
            f"changegate waiver review {w.key} --outcome renew|close --notes N",
            w.expires_at,
        )
        for w in Waivers(ctx.session).in_status({WaiverStatus.ACTIVE})
        if w.expires_at is not None and w.expires_at <= soon
    ][:SHOWN]


def _pirs_owed(ctx: Context, user: User) -> list[InboxItemOut]:
    return [
        InboxItemOut(
            kind="record-pir",
            subject=c.key,
            title=c.title,
            role="requester",
            due_at=c.pir_due_at,
            due_tz=_tz(c.due_calendar),
            command=f'changegate pir record {c.key} --summary "..."',
        )
        for c in Changes(ctx.session).with_open_obligations()
        if c.requester_id == user.id and c.pir_due_at and c.pir_recorded_at is None
    ][:SHOWN]


def _findings(
    ctx: Context,
    status: FindingStatus,
    kind: str,
    role: Role,
    command: str,
    alternative: str | None = None,
) -> list[InboxItemOut]:
    found = Findings(ctx.session).page(status.value, None, SHOWN, 0).rows
    return [
        InboxItemOut(
            kind=kind,
            subject=f.key,
            title=f.summary,
            role=role.value,
            due_at=f.remediation_due_at,
            command=command.format(k=f.key),
            alternative=alternative.format(k=f.key) if alternative else None,
        )
        for f in found
    ]


def _baselines_to_approve(ctx: Context, user: User) -> list[InboxItemOut]:
    return [
        InboxItemOut(
            kind="approve-baseline",
            subject=f"baseline:{b.name}",
            title=f"{b.name} v{b.version} from {b.source_ref}",
            role=Role.SECURITY_ENGINEER.value,
            due_at=None,
            command=f"changegate baseline approve {b.name} --version {b.version}",
        )
        for b in Configs(ctx.session).baselines()
        if b.status == "draft" and b.author_id != user.id
    ][:SHOWN]


def _reviews_owed(ctx: Context, roles: set[str]) -> list[InboxItemOut]:
    """The last two ended quarters, from the adoption date on, without their signed reviews."""
    since = installation.effective_from(ctx)
    last = previous_quarter(quarter_of(ctx.now))
    quarters = [previous_quarter(last), last]
    out = []
    for kind, role, command in QUARTERLY:
        if role.value not in roles:
            continue
        signed = {
            json.loads(r.summary).get("quarter")
            for r in Reviews(ctx.session).page([kind], 1000, 0).rows
        }
        for q in quarters:
            _, utc_end = quarter_bounds(q)
            if (since and utc_end.date() <= since) or q in signed:
                continue
            end = utc_end.replace(tzinfo=ZoneInfo(ctx.policy.timezone))
            days = ctx.policy.audits.quarterly_review_business_days
            due = ctx.policy.calendar(end).after_period(end, days)
            out.append(
                InboxItemOut(
                    kind="sign-review",
                    subject=q,
                    title=f"{kind.replace('_', ' ')} review of {q}",
                    role=role.value,
                    due_at=due,
                    command=command.format(q=q),
                )
            )
    return out


def _tz(calendar: dict[str, str] | None) -> str | None:
    return (calendar or {}).get("tz")
