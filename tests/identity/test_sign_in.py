"""Sign-in with OpenID Connect against a real provider (oidc-provider-mock): what is accepted
and what is refused, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from sqlalchemy import Row, Table, select

from changegate.db.models import LedgerRecord, WebSession
from tests.identity.conftest import Web, authorize, claims_for


def _sessions(web: Web) -> list[Row[Any]]:
    return web.app.read(lambda ctx: list(ctx.session.execute(select(WEB)).all()))


def _records(web: Web, action: str) -> list[Row[Any]]:
    stmt = select(RECORDS).where(RECORDS.c.action == action)
    return web.app.read(lambda ctx: list(ctx.session.execute(stmt).all()))


WEB = cast(Table, WebSession.__table__)
RECORDS = cast(Table, LedgerRecord.__table__)


def test_a_page_without_a_session_sends_the_browser_to_sign_in(web: Web) -> None:
    r = web.client.get("/whoami?x=1", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/auth/login?next=%2Fwhoami%3Fx%3D1"


def test_a_good_sign_in_ends_with_a_session(web: Web) -> None:
    claims_for(web.issuer, "ivy@example.com", hd="example.com")
    location = web.begin("/whoami")
    query = parse_qs(urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    r = web.back(authorize(location, "ivy@example.com").headers["location"])
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/whoami"
    cookie = r.headers["set-cookie"]
    assert "changegate_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Max-Age=43200" in cookie
    assert web.whoami().json() == {"email": "ivy@example.com", "method": "oidc", "roles": ["iso"]}
    [row] = _sessions(web)
    # Only the SHA-256 of the cookie's secret is stored.
    assert row.secret_hash not in cookie and len(row.secret_hash) == 64
    [record] = _records(web, "session.started")
    assert record.subject == "user:ivy@example.com"


def test_wrong_state_is_refused(web: Web) -> None:
    location = web.begin()
    back = authorize(location, "ivy@example.com").headers["location"]
    parts = urlsplit(back)
    query = parse_qs(parts.query)
    query["state"] = ["forged"]
    forged = urlunsplit(parts._replace(query=urlencode({k: v[0] for k, v in query.items()})))
    r = web.back(forged)
    assert r.status_code == 400
    assert "state does not match" in r.text
    assert _sessions(web) == [] and web.whoami().status_code == 303


def test_a_callback_without_the_sign_in_cookie_is_refused(web: Web) -> None:
    location = web.begin()
    back = authorize(location, "ivy@example.com").headers["location"]
    web.client.cookies.clear()
    r = web.back(back)
    assert r.status_code == 400 and "expired or was started in another browser" in r.text
    assert _sessions(web) == []


def test_a_nonce_from_another_sign_in_is_refused(web: Web) -> None:
    """The browser began two sign-ins; the provider answers the first one's request (its
    nonce) with the second one's state: the state matches, the ID token's nonce does not."""
    first = web.begin()
    second = web.begin()
    state = parse_qs(urlsplit(second).query)["state"][0]
    parts = urlsplit(first)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | {"state": state}
    mixed = urlunsplit(parts._replace(query=urlencode(query)))
    r = web.back(authorize(mixed, "ivy@example.com").headers["location"])
    assert r.status_code == 401
    assert "its nonce is not the one this sign-in sent" in r.text
    assert _sessions(web) == []


def test_a_domain_not_allowed_is_refused(web: Web) -> None:
    claims_for(web.issuer, "ivy@elsewhere.org")
    r = web.back(authorize(web.begin(), "ivy@elsewhere.org").headers["location"])
    assert r.status_code == 403
    assert "the domain elsewhere.org may not sign in here" in r.text
    assert _sessions(web) == []


def test_a_hosted_domain_not_allowed_is_refused(web: Web) -> None:
    claims_for(web.issuer, "ivy@example.com", hd="contractor.example.net")
    r = web.back(authorize(web.begin(), "ivy@example.com").headers["location"])
    assert r.status_code == 403
    assert "hosted domain contractor.example.net" in r.text


def test_an_unverified_email_is_refused(web: Web) -> None:
    claims_for(web.issuer, "ivy@example.com", email_verified=False)
    r = web.back(authorize(web.begin(), "ivy@example.com").headers["location"])
    assert r.status_code == 403 and "has not verified" in r.text


def test_someone_changegate_does_not_know_is_refused(web: Web) -> None:
    claims_for(web.issuer, "nobody@example.com")
    r = web.back(authorize(web.begin(), "nobody@example.com").headers["location"])
    assert r.status_code == 403
    assert "nobody@example.com is not a changegate user" in r.text
    assert _sessions(web) == [] and _records(web, "session.started") == []


def test_the_provider_refusing_is_a_refusal(web: Web) -> None:
    location = web.begin()
    r = httpx_deny(location)
    back = web.back(r)
    assert back.status_code == 401 and "access_denied" in back.text


def httpx_deny(location: str) -> str:
    import httpx

    r = httpx.post(location, data={"action": "deny"}, follow_redirects=False)
    return str(r.headers["location"])


def test_next_never_leaves_the_site(web: Web) -> None:
    claims_for(web.issuer, "ivy@example.com")
    location = web.begin("https://evil.example/steal")
    r = web.back(authorize(location, "ivy@example.com").headers["location"])
    assert r.headers["location"] == "/"


def test_sign_out_needs_the_csrf_token_and_ends_the_session(web: Web) -> None:
    claims_for(web.issuer, "ivy@example.com")
    web.back(authorize(web.begin(), "ivy@example.com").headers["location"])
    assert web.whoami().status_code == 200
    refused = web.client.post("/auth/logout", data={"csrf_token": "forged"})
    assert refused.status_code == 403 and web.whoami().status_code == 200
    [row] = _sessions(web)
    r = web.client.post("/auth/logout", data={"csrf_token": row.csrf_token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/auth/signed-out"
    assert web.whoami().status_code == 303
    [ended] = _sessions(web)
    assert ended.ended_at is not None
    assert len(_records(web, "session.ended")) == 1
