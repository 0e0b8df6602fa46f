"""Queries about the notification outbox and the people a notification goes to."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from changegate.db.audit import Notification
from changegate.db.models import User, UserRole


class Notifications:
    def __init__(self, session: Session) -> None:
        self.session = session

    def holders(self, roles: Iterable[str]) -> Sequence[tuple[str, str]]:
        """(email, role) of every active person holding one of the roles, in a stable order."""
        stmt = (
            select(User.email, UserRole.role)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role.in_(list(roles)), User.active.is_(True))
            .order_by(UserRole.role, User.email)
        )
        return [(email, role) for email, role in self.session.execute(stmt).all()]

    def queued(self, event_keys: Sequence[str]) -> set[tuple[str, str, str]]:
        """(event_key, channel, recipient) already in the outbox for these events."""
        found: set[tuple[str, str, str]] = set()
        for i in range(0, len(event_keys), 5000):
            stmt = select(
                Notification.event_key, Notification.channel, Notification.recipient
            ).where(Notification.event_key.in_(event_keys[i : i + 5000]))
            found.update((k, c, r) for k, c, r in self.session.execute(stmt).all())
        return found

    def add(self, notification: Notification) -> None:
        self.session.add(notification)

    def for_event(self, event_key: str) -> Sequence[Notification]:
        stmt = (
            select(Notification)
            .where(Notification.event_key == event_key)
            .order_by(Notification.id)
        )
        return self.session.execute(stmt).scalars().all()
