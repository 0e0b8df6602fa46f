"""Browser sign-in: web sessions and the one-time codes `changegate login` exchanges."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from changegate.db.models.core import Base, User


class WebSession(Base):
    """A signed-in browser. Only the SHA-256 of the cookie's secret is stored, as for tokens."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # How the person proved who they are: "oidc" (the identity provider) or "demo".
    method: Mapped[str] = mapped_column(String(10))
    # The roles the identity provider granted, when a role mapping is configured: the session
    # acts with the user's roles narrowed to these. None: the user's roles as they stand.
    roles: Mapped[list[str] | None]
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    user: Mapped[User] = relationship(lazy="joined")


class LoginCode(Base):
    """A one-time code handed to `changegate login`, exchanged for an API token once.

    `challenge` is the SHA-256 (hex) of a verifier only the CLI holds (as in RFC 7636), so a
    code read off the screen or a redirect is useless to anyone else."""

    __tablename__ = "login_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    challenge: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    user: Mapped[User] = relationship(lazy="joined")
