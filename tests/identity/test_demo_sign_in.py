"""The demo sign-in (no identity provider) and the session's own rules: expiry, sign-out."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from changegate.api.app import create_app
from changegate.api.errors import status_of
from changegate.bootstrap import App
from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.errors import DomainError, Forbidden, NotFound
from changegate.services import changes, web_sessions
from changegate.web.auth import SignedInDep
from tests.builders import add_people, make_fields
from tests.conftest import decide_current
from tests.identity.conftest import PUBLIC, probe, seed
from tests.identity.test_login_cli import _last_payload


def _client(app: App, demo: bool) -> Iterator[TestClient]:
    identity = app.policy.identity.model_copy(update={"demo_sign_in": demo})
    app.policy = app.policy.model_copy(update={"identity": identity})
    seed(app)
    api = create_app(app)
    probe(api)
    with TestClient(api, base_url=PUBLIC) as client:
        yield client


@pytest.fixture
def demo(app: App) -> Iterator[TestClient]:
    yield from _client(app, True)


@pytest.fixture
def no_demo(app: App) -> Iterator[TestClient]:
    yield from _client(app, False)


def test_demo_sign_in_is_off_unless_the_policy_enables_it(no_demo: TestClient) -> None:
    assert no_demo.get("/auth/demo").status_code == 404
    posted = no_demo.post("/auth/demo", data={"email": "ivy@example.com", "token": "x"})
    assert posted.status_code == 404
    login = no_demo.get("/auth/login", follow_redirects=False)
    assert login.status_code == 503 and "Sign-in is not configured" in login.text


def test_demo_sign_in_picks_a_person(demo: TestClient) -> None:
    r = demo.get("/whoami", follow_redirects=True)
    assert r.url.path == "/auth/demo" and "Ivy Iso" in r.text
    token = re.search(r'name="token" value="([^"]+)"', r.text)
    assert token is not None
    signed = demo.post(
        "/auth/demo",
        data={"email": "ivy@example.com", "token": token.group(1), "next": "/whoami"},
        follow_redirects=False,
    )
    assert signed.status_code == 303 and signed.headers["location"] == "/whoami"
    assert demo.get("/whoami").json() == {
        "email": "ivy@example.com",
        "method": "demo",
        "roles": ["iso"],
    }


def test_demo_sign_in_refuses_a_form_it_did_not_hand_out(demo: TestClient) -> None:
    r = demo.post("/auth/demo", data={"email": "ivy@example.com", "token": "forged"})
    assert r.status_code == 400
    assert demo.get("/whoami", follow_redirects=False).status_code == 303


def test_a_session_expires_and_ends(app: App) -> None:
    seed(app)
    secret, csrf = app.run(
        lambda ctx: web_sessions.start(ctx, "ivy@example.com", "oidc", timedelta(hours=1))
    )
    assert len(csrf) >= 43 and secret != csrf
    found = app.read(lambda ctx: web_sessions.lookup(ctx, secret) is not None)
    assert found
    later = app.now() + timedelta(hours=1)
    assert app.read(lambda ctx: web_sessions.lookup(replace(ctx, now=later), secret)) is None
    assert app.run(lambda ctx: web_sessions.end(ctx, secret)) is True
    assert app.read(lambda ctx: web_sessions.lookup(ctx, secret)) is None
    assert app.run(lambda ctx: web_sessions.end(ctx, secret)) is False


def test_only_known_active_people_get_a_session(app: App) -> None:
    seed(app)
    with pytest.raises(NotFound):
        app.run(lambda ctx: web_sessions.start(ctx, "nobody@example.com", "oidc"))
    from changegate.services import users

    app.run(lambda ctx: users.disable_user(ctx, "bob@example.com"), actor="local-admin")
    with pytest.raises(Forbidden):
        app.run(lambda ctx: web_sessions.start(ctx, "bob@example.com", "demo"))


def _decide_probe(api: FastAPI) -> None:
    """A page that approves a change as the ISO, through the API's Caller."""

    @api.post("/probe/approve/{key}", include_in_schema=False, openapi_extra={"x-roles": ["iso"]})
    def approve(key: str, who: SignedInDep) -> JSONResponse:
        try:
            who.caller.write(
                lambda ctx: decide_current(ctx, key, ApprovalRole.ISO, Decision.APPROVED)
            )
        except DomainError as exc:
            return JSONResponse({"detail": exc.message}, status_code=status_of(exc)[0])
        return JSONResponse({"approved": key})


@pytest.mark.parametrize("allowed", ["allow", "deny"])
def test_a_demo_sessions_decision_is_as_unauthenticated_as_as(app: App, allowed: str) -> None:
    identity = app.policy.identity.model_copy(
        update={"demo_sign_in": True, "local_decisions": allowed}
    )
    app.policy = app.policy.model_copy(update={"identity": identity})
    add_people(app)
    key = app.run(lambda ctx: changes.create(ctx, make_fields()).key, "alice@example.com")
    app.run(lambda ctx: changes.submit(ctx, key), "alice@example.com")
    api = create_app(app)
    _decide_probe(api)
    with TestClient(api, base_url=PUBLIC) as client:
        form = client.get("/auth/demo")
        token = re.search(r'name="token" value="([^"]+)"', form.text)
        assert token is not None
        client.post("/auth/demo", data={"email": "ivy@example.com", "token": token.group(1)})
        r = client.post(f"/probe/approve/{key}")
    if allowed == "deny":
        assert r.status_code == 409
        assert "refuses them through the demo sign-in" in r.json()["detail"]
        return
    assert r.status_code == 200, r.text
    assert (
        app.read(lambda ctx: _last_payload(ctx, "change.approved_by_iso"))["authenticated"] is False
    )


@pytest.mark.parametrize(
    ("base", "forced", "secure"),
    [
        ("https://testserver", None, True),
        ("http://testserver", None, False),
        ("http://testserver", True, True),  # TLS ends at a proxy in front
    ],
)
def test_the_session_cookie_is_secure_over_https(
    app: App, base: str, forced: bool | None, secure: bool
) -> None:
    identity = app.policy.identity.model_copy(update={"demo_sign_in": True})
    app.policy = app.policy.model_copy(update={"identity": identity})
    app.settings = replace(app.settings, web=replace(app.settings.web, cookie_secure=forced))
    seed(app)
    with TestClient(create_app(app), base_url=base) as client:
        form = client.get("/auth/demo")
        token = re.search(r'name="token" value="([^"]+)"', form.text)
        assert token is not None
        data = {"email": "ivy@example.com", "token": token.group(1)}
        if not secure or base.startswith("https"):
            r = client.post("/auth/demo", data=data, follow_redirects=False)
            cookie = r.headers["set-cookie"]
            assert cookie.startswith("changegate_session=") and "HttpOnly" in cookie
            assert "SameSite=lax" in cookie and ("Secure" in cookie) is secure
        else:
            # A Secure cookie is not sent back over plain HTTP: the form's token is missing.
            assert client.post("/auth/demo", data=data).status_code == 400
