"""/api/v1: who you are, what awaits you, who is here, and how this installation is set up."""

from __future__ import annotations

from fastapi import APIRouter, Request

from changegate import bootstrap
from changegate.api.access import EVERYONE, CallerDep, allow
from changegate.api.paging import Limit, Offset
from changegate.bootstrap import App
from changegate.domain.users import Role
from changegate.services.inbox import InboxOut, inbox
from changegate.services.views import policy as policy_views
from changegate.services.views import users as views
from changegate.services.views.common import Page
from changegate.services.views.policy import PolicyOut
from changegate.services.views.status import StatusOut
from changegate.services.views.users import UserOut

router = APIRouter(prefix="/api/v1", tags=["people"])
# People are named in every record anyway; a pipeline has no reason to list them.
READERS = EVERYONE - {Role.PIPELINE}


@router.get("/me", openapi_extra=allow(EVERYONE), summary="The principal behind the token")
def me(who: CallerDep) -> UserOut:
    return who.read(views.me)


@router.get("/inbox", openapi_extra=allow(EVERYONE), summary="What awaits the caller")
def my_inbox(who: CallerDep) -> InboxOut:
    return who.read(inbox)


@router.get("/users", openapi_extra=allow(READERS), summary="People and principals, by email")
def list_users(who: CallerDep, limit: Limit = 100, offset: Offset = 0) -> Page[UserOut]:
    return who.read(lambda ctx: views.users(ctx, limit, offset))


@router.get(
    "/status",
    openapi_extra=allow(EVERYONE),
    tags=["health"],
    summary="Version, schema, policy, signing key, people per role, and the caller's inbox",
)
def status(request: Request, who: CallerDep) -> StatusOut:
    app: App = request.app.state.changegate
    caller = who.read(lambda ctx: ctx.actor)
    return bootstrap.status(app, caller)


@router.get("/policy", openapi_extra=allow(EVERYONE), summary="The policy in force")
def policy(request: Request, who: CallerDep) -> PolicyOut:
    app: App = request.app.state.changegate
    source = str(app.settings.policy_path or "built-in defaults")
    return who.read(lambda ctx: policy_views.show(ctx, source))
