"""Queries about people and principals."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from changegate.db.models import User, UserRole
from changegate.domain.errors import Forbidden, NotFound


class Users:
    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, email: str) -> User | None:
        return self.session.execute(select(User).where(User.email == email)).scalar_one_or_none()

    def get(self, email: str) -> User:
        user = self.find(email)
        if user is None:
            raise NotFound(f"no user {email}; add one with `changegate user add`")
        return user

    def active(self, email: str) -> User:
        user = self.get(email)
        if not user.active:
            raise Forbidden(f"{email} is disabled")
        return user

    def add(self, user: User) -> User:
        self.session.add(user)
        self.session.flush()
        return user

    def all(self) -> Sequence[User]:
        return self.session.execute(select(User).order_by(User.email)).scalars().all()

    def holders(self, roles: Iterable[str]) -> Sequence[tuple[str, str]]:
        """(email, role) of every active person holding one of the roles, in a stable order."""
        stmt = (
            select(User.email, UserRole.role)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role.in_(list(roles)), User.active.is_(True))
            .order_by(UserRole.role, User.email)
        )
        return [(email, role) for email, role in self.session.execute(stmt).all()]
