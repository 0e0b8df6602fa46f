"""Read model of `changegate status`: how this installation is set up, and what awaits you."""

from __future__ import annotations

from datetime import date

from changegate.db.users import Users
from changegate.services import installation
from changegate.services.context import Context
from changegate.services.inbox import InboxOut, inbox
from changegate.services.views.common import Out


class SchemaOut(Out):
    revision: str | None
    head: str
    current: bool


class StatusOut(Out):
    version: str
    database: str  # the URL, password masked
    database_schema: SchemaOut
    policy_source: str
    policy_digest: str
    adopted_on: date | None
    effective_from: date | None
    signing_key: str | None  # the public key when checkpoints are signed
    people: dict[str, int]  # active holders per role
    you: InboxOut | None  # what awaits the person asking, when they say who they are


def installation_facts(ctx: Context) -> tuple[date | None, date | None, dict[str, int]]:
    """(adopted on, audited from, active holders per role)."""
    counts = Users(ctx.session).role_counts()
    return installation.adopted_on(ctx), installation.effective_from(ctx), counts


def your_inbox(ctx: Context) -> InboxOut:
    return inbox(ctx)
