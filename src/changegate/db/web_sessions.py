"""Queries about web sessions and `changegate login`'s one-time codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from changegate.db.base import Repository
from changegate.db.models import LoginCode, User, WebSession


class WebSessions(Repository):
    def by_hash(self, secret_hash: str) -> WebSession | None:
        """The session with its user and the user's roles, in one query."""
        stmt = (
            select(WebSession)
            .where(WebSession.secret_hash == secret_hash)
            .options(joinedload(WebSession.user).joinedload(User.roles))
        )
        return self.session.execute(stmt).unique().scalar_one_or_none()

    def add(self, row: WebSession) -> WebSession:
        self.session.add(row)
        self.session.flush()
        return row


class LoginCodes(Repository):
    def claim(self, code_id: int, now: datetime) -> bool:
        """Mark the code used, compare-and-set: of two redeeming at once, only one wins."""
        stmt = (
            update(LoginCode)
            .where(LoginCode.id == code_id, LoginCode.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(self.session.execute(stmt).rowcount)  # type: ignore[attr-defined]

    def by_hash(self, code_hash: str) -> LoginCode | None:
        stmt = (
            select(LoginCode)
            .where(LoginCode.code_hash == code_hash)
            .options(joinedload(LoginCode.user).joinedload(User.roles))
        )
        return self.session.execute(stmt).unique().scalar_one_or_none()

    def add(self, row: LoginCode) -> LoginCode:
        self.session.add(row)
        self.session.flush()
        return row
