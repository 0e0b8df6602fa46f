"""What every use case is handed by its entry point."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from changegate import ledger
from changegate.db.models import User
from changegate.db.users import Users
from changegate.domain.errors import Forbidden, Refused
from changegate.domain.identity import AUTHENTICATED, Principal, is_decision
from changegate.domain.lake_events import CLOUDTRAIL, event_name
from changegate.domain.users import Role
from changegate.policy import Policy
from changegate.services import lake_events, linear_outbound

SYSTEM = "system"
LOCAL_PATHS = {Principal.LOCAL: "--as", Principal.DEMO: "the demo sign-in"}


@dataclass(frozen=True)
class Context:
    session: Session
    policy: Policy
    now: datetime
    actor: str = SYSTEM
    simulated_clock: bool = False
    # Notification channels the deployment has configured ("email", "slack"); none = inbox only.
    # "cloudtrail": change and waiver records are also queued for CloudTrail Lake.
    # "linear": records about a change or waiver that came from Linear are queued for its issue.
    channels: tuple[str, ...] = ()
    # The authenticated principal, when the entry point already loaded it (the API's token
    # lookup): saves re-reading the same user on every call.
    principal: User | None = None
    # How the actor was authenticated: an API token, a web session, or not at all (`--as`).
    via: Principal = Principal.LOCAL
    # A web session's roles when the identity provider narrows them (None: the user's roles).
    narrowed: frozenset[str] | None = None
    # Where people reach the web app (CHANGEGATE_PUBLIC_URL), for links in notifications.
    public_url: str | None = None
    # Called before each ledger record until the process has put its policy in force (an
    # idempotent check: services/policy_history.py); reads never put a policy in force.
    before_record: Callable[[Context], object] | None = None

    def roles_of(self, user: User) -> frozenset[str]:
        held = frozenset(user.role_names)
        acting = user.email == self.actor and self.narrowed is not None
        return held & self.narrowed if acting and self.narrowed is not None else held

    def record(self, action: str, subject: str, payload: Mapping[str, Any]) -> None:
        """Append to the ledger in this transaction. A decision made without authentication
        (the local `--as` path, the demo sign-in) is refused here, so nothing it did is kept,
        unless the policy allows local decisions; then its record says
        `"authenticated": false` (AUTH-1)."""
        if is_decision(action) and not self.via.authenticated:
            if self.policy.identity.local_decisions != "allow":
                raise Refused(
                    "identity",
                    f"{self.actor} is not signed in: decisions need an authenticated principal "
                    "(`changegate login`, or CHANGEGATE_URL and CHANGEGATE_TOKEN); this policy "
                    f"refuses them through {LOCAL_PATHS[self.via]} "
                    "(identity.local_decisions: deny)",
                )
            payload = {**payload, AUTHENTICATED: False}
        if self.before_record is not None:
            self.before_record(self)
        seq = ledger.append(
            self.session,
            ledger.Entry(self.now, self.actor, action, subject, payload, self.simulated_clock),
        )
        if CLOUDTRAIL in self.channels and event_name(action) is not None:
            # CM-1, EXC-1: into CloudTrail Lake through the outbox, committed with the record.
            lake_events.enqueue(self.session, seq)
        if linear_outbound.LINEAR in self.channels:
            # Shown on the Linear issue the change or waiver came from, if it came from one.
            linear_outbound.queue_record(self.session, seq, action, subject, payload, self.now)

    def user(self) -> User:
        if self.principal is not None and self.principal.email == self.actor:
            return self.principal
        return Users(self.session).active(self.actor)

    def user_with(self, *roles: Role) -> User:
        user = self.user()
        if not self.roles_of(user) & {r.value for r in roles}:
            wanted = " or ".join(r.value for r in roles)
            raise Forbidden(f"{user.email} needs the {wanted} role for this")
        return user

    def acting_as(
        self,
        actor: str,
        principal: User | None = None,
        via: Principal | None = None,
        narrowed: frozenset[str] | None = None,
    ) -> Context:
        return Context(
            self.session,
            self.policy,
            self.now,
            actor,
            self.simulated_clock,
            self.channels,
            principal,
            self.via if via is None else via,
            narrowed,
            self.public_url,
        )
