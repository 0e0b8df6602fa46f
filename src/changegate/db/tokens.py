"""Queries about API tokens."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from changegate.db.base import Repository, Slice
from changegate.db.models import Token, User
from changegate.domain.errors import NotFound


class Tokens(Repository):
    def by_hash(self, secret_hash: str) -> Token | None:
        """The token with its user and the user's roles, in one query."""
        stmt = (
            select(Token)
            .where(Token.secret_hash == secret_hash)
            .options(joinedload(Token.user).joinedload(User.roles))
        )
        return self.session.execute(stmt).unique().scalar_one_or_none()

    def get(self, token_id: int) -> Token:
        found = self.session.get(Token, token_id)
        if found is None:
            raise NotFound(f"no token {token_id}")
        return found

    def add(self, token: Token) -> Token:
        self.session.add(token)
        self.session.flush()
        return token

    def page(self, limit: int, offset: int) -> Slice[Token]:
        return self.paginate(select(Token).order_by(Token.id), limit, offset)
