"""Queries about people and principals."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from changegate.db.base import Repository, Slice
from changegate.db.models import User, UserRole
from changegate.domain.errors import Forbidden, NotFound


class Users(Repository):
    def find(self, email: str) -> User | None:
        """The person with their roles, in one query (every caller checks roles next)."""
        stmt = select(User).where(User.email == email).options(joinedload(User.roles))
        return self.session.execute(stmt).unique().scalar_one_or_none()

    def by_github(self, login: str) -> User | None:
        stmt = select(User).where(User.github_login == login)
        return self.session.execute(stmt).scalar_one_or_none()

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

    def page_all(self, limit: int, offset: int) -> Slice[User]:
        return self.paginate(select(User).order_by(User.email), limit, offset)

    def count(self) -> int:
        return int(self.session.execute(select(func.count()).select_from(User)).scalar_one())

    def by_ids(self, ids: Iterable[int]) -> Sequence[User]:
        return self.session.execute(select(User).where(User.id.in_(list(ids)))).scalars().all()

    def role_counts(self) -> dict[str, int]:
        """Active holders per role."""
        stmt = (
            select(UserRole.role, func.count())
            .join(User, User.id == UserRole.user_id)
            .where(User.active.is_(True))
            .group_by(UserRole.role)
        )
        return {role: int(n) for role, n in self.session.execute(stmt).all()}

    def holders(self, roles: Iterable[str]) -> Sequence[tuple[str, str]]:
        """(email, role) of every active person holding one of the roles, in a stable order."""
        stmt = (
            select(User.email, UserRole.role)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role.in_(list(roles)), User.active.is_(True))
            .order_by(UserRole.role, User.email)
        )
        return [(email, role) for email, role in self.session.execute(stmt).all()]
