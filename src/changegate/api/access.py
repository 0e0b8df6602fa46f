"""Who may call what: bearer tokens, a role set per route, one transaction per request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from changegate.api.errors import NO_TOKEN, Unauthorized
from changegate.bootstrap import App
from changegate.db.models import User
from changegate.domain.errors import Forbidden, Unauthenticated
from changegate.domain.identity import Principal, SignInMethod
from changegate.domain.users import Role
from changegate.services import tokens, web_sessions
from changegate.services.context import Context

T = TypeVar("T")
R = Role
EVERYONE = frozenset(Role)
# Auditors and HR read everything and change nothing (DESIGN.md section 2).
ACTORS = frozenset({R.REQUESTER, R.CAB, R.ISO, R.SECURITY_ENGINEER, R.ADMIN, R.PIPELINE})
REQUESTERS = frozenset({R.REQUESTER})
DECIDERS = frozenset({R.CAB, R.ISO})
IMPLEMENTERS = frozenset({R.REQUESTER, R.PIPELINE})
CLOSERS = frozenset({R.REQUESTER, R.CAB, R.ISO})
PIPELINES = frozenset({R.PIPELINE})

bearer = HTTPBearer(auto_error=False, description="An API token from `changegate token create`.")


def allow(roles: frozenset[Role]) -> dict[str, Any]:
    """Route metadata: the roles that may call it, published in the OpenAPI document too."""
    return {"x-roles": sorted(r.value for r in roles)}


SESSION_ENDED = "your session has ended; sign in again"


@dataclass(frozen=True)
class Caller:
    """Whoever calls: an API token's principal or a web session's person (`via`), with the
    roles the route declares. The one place both the API and the web app decide who may."""

    app: App
    secret: str
    roles: frozenset[str]
    via: Principal = Principal.TOKEN

    def _authenticate(
        self, ctx: Context, touch: bool
    ) -> tuple[User, Principal, frozenset[str] | None]:
        if self.via is Principal.SESSION:
            found = web_sessions.lookup(ctx, self.secret)
            if found is None:
                raise Unauthenticated(SESSION_ENDED)
            # The demo sign-in proves no more than `--as` does: its decisions are marked so.
            via = Principal.DEMO if found.method == SignInMethod.DEMO else Principal.SESSION
            return found.user, via, web_sessions.granted(found)
        return tokens.authenticate(ctx, self.secret, touch), Principal.TOKEN, None

    def _use_case(self, fn: Callable[[Context], T], touch: bool) -> Callable[[Context], T]:
        def run(ctx: Context) -> T:
            user, via, narrowed = self._authenticate(ctx, touch)
            acting = ctx.acting_as(user.email, user, via, narrowed)
            if not acting.roles_of(user) & self.roles:
                needed = ", ".join(sorted(self.roles)) or "(none: this route is closed)"
                raise Forbidden(f"{user.email} needs one of the roles {needed}")
            return fn(acting)

        return run

    def write(self, fn: Callable[[Context], T]) -> T:
        return self.app.run(self._use_case(fn, touch=True))

    def read(self, fn: Callable[[Context], T]) -> T:
        return self.app.read(self._use_case(fn, touch=False))


def caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized(NO_TOKEN)
    app: App = request.app.state.changegate
    route = request.scope.get("route")
    # Fail closed: a route that declares no roles admits nobody.
    declared = (getattr(route, "openapi_extra", None) or {}).get("x-roles", [])
    return Caller(app, credentials.credentials, frozenset(declared))


CallerDep = Annotated[Caller, Depends(caller)]
