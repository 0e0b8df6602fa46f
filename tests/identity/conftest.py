"""Sign-in fixtures: the API app with OIDC settings, a browser-like client, real providers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import oidc_provider_mock
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from changegate.api.app import create_app
from changegate.bootstrap import App
from changegate.config_identity import OidcSettings
from changegate.services import users
from changegate.web.auth import SignedInDep
from tests.identity import oidc_peer

PUBLIC = "http://testserver"
PEOPLE = {
    "alice@example.com": ("Alice Requester", ["requester"]),
    "ivy@example.com": ("Ivy Iso", ["iso"]),
    "bob@example.com": ("Bob Cab", ["cab"]),
}


@dataclass
class Web:
    app: App
    client: TestClient
    issuer: str

    def begin(self, back: str = "/") -> str:
        """GET /auth/login: the provider's authorization URL the browser is sent to."""
        r = self.client.get("/auth/login", params={"next": back}, follow_redirects=False)
        assert r.status_code == 303, r.text
        location: str = r.headers["location"]
        assert location.startswith(self.issuer)
        return location

    def back(self, location: str) -> httpx.Response:
        """The provider's redirect back to us, followed by the browser (one hop)."""
        parts = urlsplit(location)
        assert f"{parts.scheme}://{parts.netloc}" == PUBLIC, location
        return self.client.get(f"{parts.path}?{parts.query}", follow_redirects=False)

    def whoami(self) -> httpx.Response:
        return self.client.get("/whoami", follow_redirects=False)


def seed(app: App) -> None:
    def add(ctx: Any) -> None:
        for email, (name, roles) in PEOPLE.items():
            users.add_user(ctx, email, name, roles)

    app.run(add, actor="local-admin")


def web_for(app: App, oidc: OidcSettings) -> Iterator[Web]:
    app.settings = replace(app.settings, oidc=oidc)
    api = create_app(app)
    probe(api)
    with TestClient(api, base_url=PUBLIC) as client:
        yield Web(app, client, oidc.issuer)


def probe(api: FastAPI) -> None:
    """A page that needs a session and says who it is (what every web page does)."""

    @api.get("/whoami", include_in_schema=False, openapi_extra={"x-roles": ["iso", "cab"]})
    def whoami(who: SignedInDep) -> dict[str, object]:
        return {"email": who.email, "method": who.method, "roles": sorted(who.roles)}


@pytest.fixture(scope="session")
def mock_issuer() -> Iterator[str]:
    with oidc_provider_mock.run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


def claims_for(issuer: str, sub: str, **claims: object) -> None:
    """What the mock provider says about `sub` in its ID tokens."""
    body = {"email": sub, "email_verified": True} | claims
    r = httpx.put(f"{issuer}/users/{quote(sub)}", json=body)
    assert r.status_code == 204


@pytest.fixture
def web(app: App, mock_issuer: str) -> Iterator[Web]:
    seed(app)
    settings = OidcSettings(
        mock_issuer, "changegate", "secret", PUBLIC, allowed_domains=("example.com",)
    )
    yield from web_for(app, settings)


@pytest.fixture
def peer() -> Iterator[oidc_peer.Peer]:
    with oidc_peer.running() as found:
        yield found


@pytest.fixture
def peer_web(app: App, peer: oidc_peer.Peer) -> Iterator[Web]:
    seed(app)
    settings = OidcSettings(peer.issuer, oidc_peer.CLIENT_ID, oidc_peer.CLIENT_SECRET, PUBLIC)
    yield from web_for(app, settings)


Authorize = Callable[[str, str], httpx.Response]


def authorize(location: str, sub: str) -> httpx.Response:
    """The person signs in at the mock provider's form: it redirects back with a code."""
    r = httpx.post(location, data={"sub": sub}, follow_redirects=False)
    assert r.status_code in (302, 303), r.text
    return r
