"""CAB meetings (CM-2, CM-3; the policy's "CAB meeting minutes and approval records").

A meeting's agenda is every change awaiting CAB when it is made; members mark themselves
present; an approval or rejection at the meeting *is* that member's decision through
`approvals.decide` (SoD, quorum and version binding exactly as `change approve`); closing freezes
the record and puts the SHA-256 of its canonical minutes document in the ledger.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from changegate.db.cab import CabMeetings
from changegate.db.changes import Changes
from changegate.db.models import CabAgendaItem, CabAttendance, CabDecision, CabMeeting, Change
from changegate.domain import cab as rules
from changegate.domain.approvals import ApprovalRole, check_version
from changegate.domain.cab import ItemKind, MeetingAction, MeetingStatus, Outcome
from changegate.domain.changes import ChangeStatus
from changegate.domain.errors import BadInput, Forbidden, Refused
from changegate.domain.users import Role, normalise_email
from changegate.services import approvals, cab_minutes, render
from changegate.services.context import Context


def subject(meeting_id: int) -> str:
    return f"cab_meeting:{meeting_id}"


def create_meeting(ctx: Context, held_at: datetime, title: str = "") -> CabMeeting:
    """A meeting at `held_at` whose agenda is every change awaiting CAB now: submitted ones,
    and emergencies implemented without their retroactive approval, each pinned at its current
    version. Raises Forbidden unless the actor holds cab or iso."""
    user = ctx.user_with(Role.CAB, Role.ISO)
    if held_at.tzinfo is None:
        raise BadInput("--at: give a time zone, e.g. 2026-12-03T14:00:00Z")
    held_at = held_at.astimezone(UTC)
    named = rules.check_title(title) or f"CAB meeting {held_at.date().isoformat()}"
    repo = CabMeetings(ctx.session)
    meeting = repo.add(
        CabMeeting(
            title=named,
            held_at=held_at,
            status=MeetingStatus.OPEN.value,
            created_by=user,
            created_at=ctx.now,
            minutes="",
            updated_at=ctx.now,
        )
    )
    agenda = []
    for position, change in enumerate(Changes(ctx.session).awaiting_decision(), start=1):
        kind = (
            ItemKind.APPROVAL if change.status == ChangeStatus.SUBMITTED else ItemKind.RETROACTIVE
        )
        repo.add_row(
            CabAgendaItem(
                meeting_id=meeting.id,
                position=position,
                change_id=change.id,
                kind=kind.value,
                version=change.version,
                version_hash=change.version_hash,
                title=change.title,
            )
        )
        agenda.append(
            {"change": change.key, "version": change.version, "hash": change.version_hash}
            | {"kind": kind.value}
        )
    ctx.record(
        "cab.meeting_created",
        subject(meeting.id),
        {"title": named, "held_at": meeting.held_at.isoformat(), "agenda": agenda},
    )
    return meeting


def _open(repo: CabMeetings, meeting_id: int, action: MeetingAction) -> CabMeeting:
    meeting = repo.get(meeting_id)
    rules.transition(MeetingStatus(meeting.status), action)
    return meeting


def attend(ctx: Context, meeting_id: int, person: str | None = None) -> CabMeeting:
    """The actor marks themself present. `person`, if given, must be the actor: nobody marks
    another person present. Raises Forbidden (another person, or no cab/iso role), Refused
    (already present, or the meeting is closed)."""
    user = ctx.user()
    if person is not None and normalise_email(person) != user.email:
        raise Forbidden(
            f"{user.email} may mark only themself present; "
            f"{normalise_email(person)} marks their own attendance"
        )
    roles = rules.check_member(user.email, user.role_names)
    repo = CabMeetings(ctx.session)
    meeting = _open(repo, meeting_id, MeetingAction.ATTEND)
    if any(a.user_id == user.id for a in repo.attendance(meeting)):
        raise Refused("CAB", f"{user.email} is already marked present at CAB meeting {meeting.id}")
    repo.add_row(
        CabAttendance(meeting_id=meeting.id, user_id=user.id, roles=roles, attended_at=ctx.now)
    )
    meeting.updated_at = ctx.now
    repo.save(meeting)
    ctx.record("cab.attended", subject(meeting.id), {"email": user.email, "roles": roles})
    return meeting


def decide_item(
    ctx: Context,
    meeting_id: int,
    key: str,
    outcome: Outcome,
    version: int,
    reason: str = "",
    role: ApprovalRole | None = None,
) -> CabDecision:
    """A present member's decision on the agenda item for change `key`, naming the change's
    current `version`. approved/rejected go through `approvals.decide` (SoD, quorum, version:
    VersionMoved, Refused, Forbidden as for `change approve`); deferred records `reason` and
    leaves the change awaiting. Raises Refused if the actor is not present or it is closed."""
    repo = CabMeetings(ctx.session)
    meeting = _open(repo, meeting_id, MeetingAction.DECIDE)
    user = ctx.user()
    chosen = rules.decision_role(user.email, user.role_names, role)
    present = {a.user.email for a in repo.attendance(meeting)}
    rules.check_present(user.email, present, meeting.id)
    item = _item(repo, meeting, key)
    cleaned = rules.check_reason(outcome, reason)
    decision = rules.approval_decision(outcome)
    change: Change = item.change
    approval_id = None
    if decision is None:
        check_version(change.key, version, change.version)
    else:
        change = approvals.decide(ctx, change.key, chosen, decision, version, cleaned)
        approval_id = repo.approval_by(change.id, user.id, version).id
    row = CabDecision(
        meeting_id=meeting.id,
        item_id=item.id,
        decider_id=user.id,
        role=chosen.value,
        outcome=outcome.value,
        version=version,
        reason=cleaned,
        approval_id=approval_id,
        decided_at=ctx.now,
    )
    repo.add_row(row)
    meeting.updated_at = ctx.now
    repo.save(meeting)
    ctx.record(
        "cab.item_decided",
        subject(meeting.id),
        {"change": change.key, "outcome": outcome.value, "role": chosen.value}
        | {"version": version, "hash": change.version_hash, "reason": cleaned}
        | {"approval_id": approval_id, "decision_id": row.id},
    )
    return row


def _item(repo: CabMeetings, meeting: CabMeeting, key: str) -> CabAgendaItem:
    wanted = Changes(repo.session).get(key).key
    for item in repo.items(meeting):
        if item.change.key == wanted:
            return item
    raise BadInput(f"{wanted} is not on the agenda of CAB meeting {meeting.id}")


def edit_minutes(ctx: Context, meeting_id: int, text: str) -> CabMeeting:
    """Replace the minutes' free text (until the meeting is closed). Raises Forbidden unless
    the actor holds cab or iso; BadInput over `rules.MINUTES_MAX` characters."""
    user = ctx.user_with(Role.CAB, Role.ISO)
    repo = CabMeetings(ctx.session)
    meeting = _open(repo, meeting_id, MeetingAction.EDIT_MINUTES)
    meeting.minutes = rules.check_minutes(text)
    meeting.minutes_edited_by, meeting.minutes_edited_at = user, ctx.now
    meeting.updated_at = ctx.now
    repo.save(meeting)
    ctx.record("cab.minutes_edited", subject(meeting.id), {"minutes": meeting.minutes})
    return meeting


def close_meeting(ctx: Context, meeting_id: int) -> CabMeeting:
    """Freeze the meeting: its minutes, attendance and decisions can no longer change, and the
    SHA-256 of its canonical minutes document goes into the ledger's closing record."""
    user = ctx.user_with(Role.CAB, Role.ISO)
    repo = CabMeetings(ctx.session)
    meeting = repo.get(meeting_id)
    target = rules.transition(MeetingStatus(meeting.status), MeetingAction.CLOSE)
    meeting.status, meeting.closed_by, meeting.closed_at = target.value, user, ctx.now
    meeting.updated_at = ctx.now
    doc = cab_minutes.document(ctx.session, meeting)
    meeting.minutes_sha256 = cab_minutes.digest(doc)
    repo.save(meeting)
    ctx.record(
        "cab.meeting_closed",
        subject(meeting.id),
        {"sha256": meeting.minutes_sha256, "attendees": len(doc["attendees"])}
        | {
            "items": len(doc["agenda"]),
            "decisions": sum(len(i["decisions"]) for i in doc["agenda"]),
        },
    )
    return meeting


def meetings_between(session: Session, start: datetime, end: datetime) -> list[CabMeeting]:
    """CAB meetings held in [start, end), earliest first (open and closed ones)."""
    return list(CabMeetings(session).between(start, end))


def minutes_html(session: Session, meeting_id: int) -> str:
    """The minutes of meeting `meeting_id` as HTML. Raises NotFound for an unknown meeting."""
    return cab_minutes.html(session, CabMeetings(session).get(meeting_id))


def minutes_document(session: Session, meeting_id: int) -> tuple[str, bytes]:
    """(HTML, PDF) of meeting `meeting_id`'s minutes, closed or open: the PDF is the same HTML
    laid out. Raises NotFound for an unknown meeting, render.RenderError if the PDF cannot be
    laid out."""
    document = minutes_html(session, meeting_id)
    return document, render.pdf(document)
