"""Linear as the front door: an issue read back over GraphQL becomes a change or a waiver.

An issue labelled with the policy's change label (`linear.change_label`) becomes a submitted
change request whose ticket is the issue's identifier; one labelled with the exception label
becomes a waiver request. The requester is the changegate user whose email is the issue
creator's. What keeps an issue from counting (a missing template section, an unknown creator,
a value the policy refuses) is said back on the issue as a comment, and nothing is created.
A later edit to the issue's material sections makes a new version of the change (approvals of
the old one stop counting, as for any edit). A state change in Linear never approves anything:
this module reads labels, title and description only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from changegate.db.changes import Changes
from changegate.db.linear import LinearIssues
from changegate.db.models import LinearIssue
from changegate.db.users import Users
from changegate.domain import changes as rules
from changegate.domain.changes import ChangeStatus
from changegate.domain.errors import BadInput, Forbidden, NotFound, Refused
from changegate.domain.linear_template import digest, parse_change, parse_waiver
from changegate.domain.users import normalise_email
from changegate.integrations.linear_ports import LinearIssueData
from changegate.policy import LinearPolicy
from changegate.services import changes, linear_outbound, waivers
from changegate.services.changes import fields_of
from changegate.services.context import Context

CHANGE, WAIVER = "change", "waiver"
_REFUSALS: Final = (BadInput, Forbidden, NotFound, Refused)


@dataclass(frozen=True)
class Outcome:
    """What applying an issue did: `created`, `versioned`, `unchanged`, `complained` (and
    nothing created), or `ignored` (not a request this policy takes)."""

    status: str
    key: str | None = None
    detail: str = ""


def kind_of(issue: LinearIssueData, config: LinearPolicy) -> str | None:
    labels = {label.casefold() for label in issue.labels}
    if config.teams and issue.team_key not in config.teams:
        return None
    if config.change_label.casefold() in labels:
        return CHANGE
    if config.exception_label.casefold() in labels:
        return WAIVER
    return None


def apply(ctx: Context, issue: LinearIssueData, config: LinearPolicy) -> Outcome:
    """Create or update the request `issue` asks for, or comment on what keeps it from it."""
    repo = LinearIssues(ctx.session)
    link = repo.get(issue.id)
    kind = kind_of(issue, config) if link is None or link.key is None else link.kind
    if kind is None:
        return Outcome("ignored", None, f"{issue.identifier} carries neither request label")
    if link is None:
        link = LinearIssue(
            issue_id=issue.id,
            identifier=issue.identifier,
            url=issue.url,
            kind=kind,
            created_at=ctx.now,
            updated_at=ctx.now,
        )
    link.kind, link.identifier, link.url = kind, issue.identifier, issue.url
    link.issue_updated_at, link.updated_at = issue.updated_at, ctx.now
    requester, problem = _requester(ctx, issue)
    if requester is None:
        return _complain(ctx, link, issue, [problem])
    acting = ctx.acting_as(requester)
    outcome = _change(acting, link, issue) if kind == CHANGE else _waiver(acting, link, issue)
    repo.save(link)
    return outcome


def _requester(ctx: Context, issue: LinearIssueData) -> tuple[str | None, str]:
    """The creator's changegate email, or None and the complaint to post."""
    if issue.creator_email is None:
        return None, "this issue has no creator with an email (an app made it): open it as a person"
    try:
        email = normalise_email(issue.creator_email)
    except BadInput as exc:
        return None, exc.message
    user = Users(ctx.session).find(email)
    if user is None or not user.active:
        return None, (
            f"{email} is not an active changegate user: ask an administrator to add you "
            "(`changegate user add`), then edit this issue"
        )
    return email, ""


def _change(ctx: Context, link: LinearIssue, issue: LinearIssueData) -> Outcome:
    parsed = parse_change(issue.title, issue.description, issue.identifier)
    if parsed.fields is None:
        return _complain(ctx, link, issue, list(parsed.problems))
    content = digest(parsed.fields.as_json())
    if link.key is not None and link.content_sha256 == content:
        return Outcome("unchanged", link.key)
    try:
        with ctx.session.begin_nested():
            if link.key is None:
                change = changes.create(ctx, parsed.fields)
                changes.submit(ctx, change.key)
                outcome = Outcome("created", change.key)
            else:
                outcome = _edit(ctx, link.key, parsed.fields)
    except _REFUSALS as exc:
        return _complain(ctx, link, issue, [exc.message])
    if link.key is None:
        _linked(ctx, link, outcome.key, issue)
    link.content_sha256, link.problem_sha256 = content, None
    return outcome


def _edit(ctx: Context, key: str, fields: rules.ChangeFields) -> Outcome:
    current = Changes(ctx.session).get(key)
    changed = rules.changed_fields(fields_of(current), fields)
    if not changed:
        return Outcome("unchanged", key)
    updates = {name: getattr(fields, name) for name in changed}
    change = changes.edit(ctx, key, updates)
    if change.status == ChangeStatus.DRAFT.value:
        changes.submit(ctx, key)
    return Outcome("versioned", key, f"version {change.version}: {', '.join(changed)}")


def _waiver(ctx: Context, link: LinearIssue, issue: LinearIssueData) -> Outcome:
    if link.key is not None:
        return Outcome("unchanged", link.key, "a waiver is decided as requested; ask anew")
    parsed = parse_waiver(issue.title, issue.description, ctx.policy.linear.waiver_days)
    if parsed.ask is None:
        return _complain(ctx, link, issue, list(parsed.problems))
    ask = parsed.ask
    try:
        with ctx.session.begin_nested():
            waiver = waivers.request(
                ctx,
                ask.title,
                ask.justification,
                ask.compensating_controls,
                ask.controls,
                ask.scope_kind,
                ask.scope_value,
                ask.days,
            )
    except _REFUSALS as exc:
        return _complain(ctx, link, issue, [exc.message])
    _linked(ctx, link, waiver.key, issue)
    link.content_sha256, link.problem_sha256 = digest(ask.__dict__), None
    return Outcome("created", waiver.key)


def _linked(ctx: Context, link: LinearIssue, key: str | None, issue: LinearIssueData) -> None:
    link.key = key
    ctx.record(
        "linear.linked",
        key or issue.identifier,
        {
            "issue": issue.id,
            "identifier": issue.identifier,
            "url": issue.url,
            "kind": link.kind,
            "requester": ctx.actor,
            "issue_updated_at": issue.updated_at.isoformat(),
        },
    )


def _complain(
    ctx: Context, link: LinearIssue, issue: LinearIssueData, problems: list[str]
) -> Outcome:
    """Say once on the issue what keeps it from counting; the same complaint is not repeated."""
    what = digest(problems)
    if link.problem_sha256 != what:
        lines = "\n".join(f"- {problem}" for problem in problems)
        asked = "change request" if link.kind == CHANGE else "waiver request"
        body = (
            f"changegate cannot take this {asked} yet (CM-1: the request must say what it "
            f"changes, its impact and how to undo it):\n\n{lines}\n\n"
            "Edit the issue; changegate reads it again when it changes. "
            "The template is in changegate's docs/linear.md."
        )
        linear_outbound.queue_comment(ctx.session, issue.id, body, f"problems:{what}", ctx.now)
        link.problem_sha256 = what
    LinearIssues(ctx.session).save(link)
    return Outcome("complained", link.key, "; ".join(problems))
