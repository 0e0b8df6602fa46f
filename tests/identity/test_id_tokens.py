"""ID tokens a real provider would never send, from a local peer speaking the protocol:
each is refused with a page that says why, and no session is made."""

from __future__ import annotations

import time
from dataclasses import replace
from urllib.parse import urlencode

import httpx
import pytest
from joserfc.jwk import RSAKey

from changegate.bootstrap import App
from changegate.config import Settings
from changegate.config_identity import OidcSettings
from tests.identity.conftest import PUBLIC, Web, seed, web_for
from tests.identity.oidc_peer import CLIENT_ID, CLIENT_SECRET, Peer


def _sign_in(web: Web, who: str = "ivy@example.com") -> httpx.Response:
    location = web.begin()
    answer = httpx.get(location + "&" + urlencode({"login_hint": who}), follow_redirects=False)
    assert answer.status_code == 302
    return web.back(answer.headers["location"])


def test_the_peer_signs_in_with_pkce(peer_web: Web, peer: Peer) -> None:
    r = _sign_in(peer_web)
    assert r.status_code == 303, r.text
    assert peer_web.whoami().json()["email"] == "ivy@example.com"
    # The verifier went with the code, and the peer matched it to the S256 challenge.
    [request] = peer.token_requests
    assert len(request["code_verifier"]) >= 43


@pytest.mark.parametrize(
    ("claims", "said"),
    [
        ({"aud": "someone-else"}, "issued to another application (audience)"),
        ({"aud": ["someone-else", "another"]}, "issued to another application (audience)"),
        ({"exp": int(time.time()) - 600, "iat": int(time.time()) - 900}, "it has expired"),
        ({"nonce": "replayed-nonce"}, "its nonce is not the one this sign-in sent"),
        ({"nonce": None}, "it has no nonce claim"),
        ({"iss": "https://accounts.example.net"}, "it comes from another issuer"),
    ],
    ids=["audience", "audiences", "expired", "nonce", "no-nonce", "issuer"],
)
def test_a_bad_id_token_is_refused(
    peer_web: Web, peer: Peer, claims: dict[str, object], said: str
) -> None:
    peer.claims = claims
    r = _sign_in(peer_web)
    assert r.status_code == 401, r.text
    assert said in r.text
    assert peer_web.whoami().status_code == 303


def test_a_token_signed_with_a_key_the_provider_does_not_publish_is_refused(
    peer_web: Web, peer: Peer
) -> None:
    peer.sign_with = RSAKey.generate_key(2048, auto_kid=True)
    r = _sign_in(peer_web)
    assert r.status_code == 401
    assert "The ID token was refused" in r.text or "the ID token was refused" in r.text
    assert peer_web.whoami().status_code == 303


def test_an_unreachable_provider_is_a_clear_answer(app: App) -> None:
    unreachable = OidcSettings("http://127.0.0.1:9", "id", "secret", PUBLIC)
    for web in web_for(app, unreachable):
        r = web.client.get("/auth/login", follow_redirects=False)
        assert r.status_code == 502 and "cannot be reached" in r.text


def test_an_issuer_with_a_trailing_slash_is_matched_as_spelled(app: App, peer: Peer) -> None:
    """Auth0's issuer ends in a slash: discovery is found without it, and the ID token's
    `iss` must equal the issuer exactly as the provider spells it (the settings keep it)."""
    peer.issuer += "/"
    env = {
        "CHANGEGATE_OIDC_ISSUER": peer.issuer,
        "CHANGEGATE_OIDC_CLIENT_ID": CLIENT_ID,
        "CHANGEGATE_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "CHANGEGATE_PUBLIC_URL": "https://changegate.example.com",
    }
    configured = Settings.from_env(env).oidc
    assert configured is not None and configured.issuer == peer.issuer
    seed(app)
    for web in web_for(app, replace(configured, public_url=PUBLIC)):
        r = _sign_in(web)
        assert r.status_code == 303, r.text
