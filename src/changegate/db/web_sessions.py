"""Queries about web sessions and `changegate login`'s one-time codes."""

from __future__ import annotations

from sqlalchemy import select
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
