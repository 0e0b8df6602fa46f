"""The evidence package's CloudTrail population (CM-5): the changes and failed changes made to
AWS accounts the policy maps to an environment, one SELECT over [start, end)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from changegate.db.models import TrailEvent
from changegate.db.populations import between

# Kinds as `domain.trail` classifies them at ingest: a write that took effect, and one AWS refused.
CHANGE_KINDS = ("change", "attempt")


def aws_events(start: datetime, end: datetime) -> Select[Any]:
    """Every change or attempt stored from the trail with a time in the period, in a mapped
    account (its environment as classified at ingest). The audit re-classifies the records
    under the policy in force, so CM-5's findings are judged from the package's facts, not from
    these columns."""
    e = TrailEvent
    return (
        select(
            e.event_id.label("event_id"),
            e.event_time.label("event_time"),
            e.environment.label("environment"),
            e.account.label("account"),
            e.region.label("region"),
            e.event_source.label("event_source"),
            e.event_name.label("event_name"),
            e.kind.label("kind"),
            e.error_code.label("error_code"),
            e.actor_kind.label("actor_kind"),
            e.principal.label("principal"),
            e.actor_name.label("actor_name"),
            e.change_key.label("change_key"),
            e.source.label("source"),
            e.position.label("position"),
        )
        .where(
            between(e.event_time, start, end),
            e.kind.in_(CHANGE_KINDS),
            e.environment.is_not(None),
        )
        .order_by(e.event_time, e.event_id)
    )
