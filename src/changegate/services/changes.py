"""Change requests: create, edit (versioned), submit, cancel."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from changegate.db.changes import Changes
from changegate.db.models import Change, ChangeVersion, User
from changegate.domain import changes as rules
from changegate.domain.changes import Action, ChangeFields, ChangeStatus, ChangeType, Risk, Window
from changegate.domain.errors import BadInput, Forbidden
from changegate.domain.users import Role, normalise_email
from changegate.services import reminders
from changegate.services.context import Context

MATERIAL = {f.name for f in dataclasses.fields(ChangeFields)}


def fields_of(change: Change) -> ChangeFields:
    return ChangeFields(
        title=change.title,
        scope=change.scope,
        impact=change.impact,
        rollback_plan=change.rollback_plan,
        risk=Risk(change.risk),
        change_type=ChangeType(change.change_type),
        justification=change.justification,
        affected_services=tuple(change.affected_services),
        environments=tuple(change.environments),
        customer_impact=change.customer_impact,
        expected_downtime_minutes=change.expected_downtime_minutes,
        window=Window(change.window_start, change.window_end),
        ticket=change.ticket,
        commit_authors=tuple(change.commit_authors),
    )


def _apply(change: Change, fields: ChangeFields) -> None:
    for name in MATERIAL - {"window", "risk", "change_type"}:
        value = getattr(fields, name)
        setattr(change, name, list(value) if isinstance(value, tuple) else value)
    change.risk, change.change_type = fields.risk.value, fields.change_type.value
    change.window_start, change.window_end = fields.window.start, fields.window.end
    change.version_hash = rules.version_hash(fields)


def _validate(ctx: Context, fields: ChangeFields) -> ChangeFields:
    if not fields.title.strip():
        raise BadInput("a change needs a --title")
    if fields.expected_downtime_minutes < 0:
        raise BadInput("expected downtime cannot be negative")
    for env in fields.environments:
        ctx.policy.environment(env)
    rules.check_emergency_justified(fields)
    rules.check_window(fields.window)
    authors = tuple(sorted({normalise_email(a) for a in fields.commit_authors}))
    return dataclasses.replace(fields, commit_authors=authors)


def _snapshot(ctx: Context, change: Change, author: User, replace: bool) -> None:
    repo = Changes(ctx.session)
    data = fields_of(change).as_json()
    if replace:
        row = repo.version(change, change.version)
        row.hash, row.fields, row.created_at = change.version_hash, data, ctx.now
        return
    repo.add_version(
        ChangeVersion(
            change_id=change.id,
            version=change.version,
            hash=change.version_hash,
            fields=data,
            created_at=ctx.now,
            created_by_id=author.id,
        )
    )


def create(ctx: Context, fields: ChangeFields) -> Change:
    requester = ctx.user_with(Role.REQUESTER)
    fields = _validate(ctx, fields)
    repo = Changes(ctx.session)
    number = repo.next_number()
    change = Change(
        number=number,
        key=f"CHG-{number}",
        requester_id=requester.id,
        status=ChangeStatus.DRAFT.value,
        version=1,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    _apply(change, fields)
    repo.add(change)
    _snapshot(ctx, change, requester, replace=False)
    ctx.record(
        "change.created",
        change.key,
        {"version": 1, "hash": change.version_hash, "fields": fields.as_json()},
    )
    return change


def _own(ctx: Context, key: str) -> tuple[Change, User]:
    change = Changes(ctx.session).get(key)
    user = ctx.user()
    if change.requester_id != user.id:
        raise Forbidden(f"only the requester ({change.requester.email}) may do this to {key}")
    return change, user


def edit(ctx: Context, key: str, updates: Mapping[str, Any]) -> Change:
    unknown = set(updates) - MATERIAL
    if unknown:
        raise BadInput(f"not a field of a change: {', '.join(sorted(unknown))}")
    change, user = _own(ctx, key)
    old = fields_of(change)
    new = _validate(ctx, dataclasses.replace(old, **updates))
    changed = rules.changed_fields(old, new)
    if not changed:
        raise BadInput(f"nothing to change: {key} already has these values")
    status = ChangeStatus(change.status)
    target = rules.transition(status, Action.EDIT)
    bump = status is not ChangeStatus.DRAFT
    previous = change.version
    change.version += int(bump)
    change.status, change.updated_at = target.value, ctx.now
    _apply(change, new)
    Changes(ctx.session).save(change)
    _snapshot(ctx, change, user, replace=not bump)
    payload: dict[str, Any] = {
        "version": change.version,
        "hash": change.version_hash,
        "changed": changed,
        "status": target.value,
        "fields": {name: new.as_json()[name] for name in changed},
    }
    if bump:
        payload["reason"] = (
            f"material fields changed after submission; decisions on version "
            f"{previous} no longer count"
        )
    ctx.record("change.edited", change.key, payload)
    if target is ChangeStatus.SUBMITTED and bump:
        reminders.awaiting_approval(ctx, change)
    return change


def submit(ctx: Context, key: str) -> Change:
    change, _ = _own(ctx, key)
    target = rules.transition(ChangeStatus(change.status), Action.SUBMIT)
    rules.check_submittable(fields_of(change), ctx.policy.changes.require_ticket)
    change.status, change.submitted_at, change.updated_at = target.value, ctx.now, ctx.now
    Changes(ctx.session).save(change)
    ctx.record(
        "change.submitted", change.key, {"version": change.version, "hash": change.version_hash}
    )
    reminders.awaiting_approval(ctx, change)
    return change


def cancel(ctx: Context, key: str, reason: str = "") -> Change:
    change, _ = _own(ctx, key)
    target = rules.transition(ChangeStatus(change.status), Action.CANCEL)
    change.status, change.updated_at = target.value, ctx.now
    Changes(ctx.session).save(change)
    ctx.record("change.cancelled", change.key, {"version": change.version, "reason": reason})
    return change
