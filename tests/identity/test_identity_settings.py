"""The sign-in settings: read from the environment, refused in one message when incomplete or
unsafe; the claim -> role mapping narrows a session's roles, through the API's one check."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from changegate.api.access import allow
from changegate.bootstrap import App
from changegate.config import Settings
from changegate.config_identity import OidcSettings
from changegate.domain.errors import BadInput, Forbidden
from changegate.domain.identity import Claims, IdentityRules, admit, granted_roles
from changegate.domain.users import Role
from changegate.web.auth import SignedInDep
from tests.identity.conftest import PUBLIC, Web, authorize, claims_for, seed, web_for

OIDC = {
    "CHANGEGATE_OIDC_ISSUER": "https://accounts.google.com",
    "CHANGEGATE_OIDC_CLIENT_ID": "id.apps.googleusercontent.com",
    "CHANGEGATE_OIDC_CLIENT_SECRET": "s3cret",
    "CHANGEGATE_PUBLIC_URL": "https://changegate.example.com/",
}


def test_google_workspace_settings() -> None:
    env = OIDC | {
        "CHANGEGATE_OIDC_ALLOWED_DOMAINS": "Example.com, example.org",
        "CHANGEGATE_SESSION_HOURS": "8",
    }
    settings = Settings.from_env(env)
    assert settings.oidc is not None
    assert settings.oidc.redirect_uri == "https://changegate.example.com/auth/callback"
    assert settings.oidc.allowed_domains == ("example.com", "example.org")
    assert "s3cret" not in repr(settings)
    assert settings.web.session_lifetime == timedelta(hours=8)
    assert Settings.from_env({}).oidc is None


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"CHANGEGATE_OIDC_ISSUER": "https://accounts.google.com"}, "settings incomplete: set"),
        (OIDC | {"CHANGEGATE_OIDC_ISSUER": "http://idp.example.com"}, "use https://"),
        (OIDC | {"CHANGEGATE_OIDC_ROLE_MAP": "cab-members"}, "expected group=role"),
        (OIDC | {"CHANGEGATE_OIDC_ROLE_MAP": "g=wizard"}, "unknown role 'wizard'"),
        ({"CHANGEGATE_SESSION_HOURS": "0"}, "CHANGEGATE_SESSION_HOURS"),
        ({"CHANGEGATE_COOKIE_SECURE": "maybe"}, "CHANGEGATE_COOKIE_SECURE"),
        ({"CHANGEGATE_SECRET_KEY": "short"}, "at least 32 characters"),
    ],
)
def test_bad_settings_are_refused_in_one_line(env: dict[str, str], said: str) -> None:
    with pytest.raises(BadInput, match=said) as refused:
        Settings.from_env(env)
    assert "\n" not in refused.value.message


def test_a_group_maps_to_a_role_and_groups_not_mapped_grant_nothing() -> None:
    rules = IdentityRules(role_map={"isos@example.com": Role.ISO, "cab": Role.CAB})
    claims = Claims("sub", "ivy@example.com", True, groups=("isos@example.com", "other"))
    assert admit(claims, rules) == "ivy@example.com"
    assert granted_roles(claims, rules) == frozenset({"iso"})
    assert granted_roles(claims, IdentityRules()) is None


@pytest.fixture
def mapped(app: App, mock_issuer: str) -> Iterator[Web]:
    seed(app)
    from changegate.services import users

    app.run(lambda ctx: users.add_role(ctx, "ivy@example.com", "cab"), actor="local-admin")
    settings = OidcSettings(
        mock_issuer, "changegate", "secret", PUBLIC, role_map={"isos": "iso", "cab": "cab"}
    )
    for web in web_for(app, settings):
        decide(web.client.app)  # type: ignore[arg-type]
        yield web


def decide(api: FastAPI) -> None:
    """A page that acts as the ISO, through the API's own role check."""

    @api.post("/probe/iso", include_in_schema=False, openapi_extra=allow(frozenset({Role.ISO})))
    def as_iso(who: SignedInDep) -> JSONResponse:
        try:
            return JSONResponse({"as": who.caller.write(lambda ctx: ctx.user_with(Role.ISO).email)})
        except Forbidden as exc:
            return JSONResponse({"refused": exc.message}, status_code=403)


def test_the_providers_groups_narrow_the_sessions_roles(mapped: Web) -> None:
    # Ivy holds iso and cab in changegate; the provider puts her only in the CAB's group.
    claims_for(mapped.issuer, "ivy@example.com", groups=["cab"])
    r = mapped.back(authorize(mapped.begin(), "ivy@example.com").headers["location"])
    assert r.status_code == 303, r.text
    assert mapped.whoami().json()["roles"] == ["cab"]
    refused = mapped.client.post("/probe/iso")
    assert refused.status_code == 403
    assert "needs one of the roles iso" in refused.text


def test_a_group_never_grants_a_role_changegate_did_not(mapped: Web) -> None:
    claims_for(mapped.issuer, "ivy@example.com", groups=["isos", "cab"])
    mapped.back(authorize(mapped.begin(), "ivy@example.com").headers["location"])
    assert mapped.whoami().json()["roles"] == ["cab", "iso"]
    assert mapped.client.post("/probe/iso").json() == {"as": "ivy@example.com"}
    claims_for(mapped.issuer, "bob@example.com", groups=["isos"])
    mapped.client.cookies.clear()
    mapped.back(authorize(mapped.begin(), "bob@example.com").headers["location"])
    assert mapped.whoami().json()["roles"] == []  # bob is CAB in changegate, not ISO
