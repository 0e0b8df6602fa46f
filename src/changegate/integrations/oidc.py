"""The OpenID Connect relying party: discovery, the authorization request, the code exchange
and the ID token's validation.

OpenID Connect Core 1.0 (authorization code flow, sections 3.1.2 and 3.1.3), Discovery 1.0,
RFC 6749 section 4.1 and RFC 7636 (PKCE, S256). The ID token's signature is checked with
joserfc against the provider's JWKS, and its claims (iss, aud, exp, iat, nonce, azp,
at_hash) with Authlib's `CodeIDToken`: nothing here parses or checks a JWT by hand.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import BadSignatureError, ClaimError, JoseError, MissingClaimError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from changegate.domain.errors import Unauthenticated
from changegate.domain.identity import Claims
from changegate.integrations.ports import IntegrationError

if TYPE_CHECKING:
    from joserfc.jwk import KeySetSerialization

# Clock skew tolerated between the provider and this server (seconds).
LEEWAY = 60
METADATA_TTL = 3600.0


@dataclass(frozen=True)
class Registration:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scopes: str = "openid email profile"
    role_claim: str = "groups"


class Provider:
    """One provider, its discovery document and keys cached for an hour (refetched at once
    when a token names a key the cached set does not have: the provider rotated)."""

    def __init__(self, registration: Registration, client: httpx.Client) -> None:
        self.reg = registration
        self.client = client
        self._metadata: dict[str, Any] | None = None
        self._fetched = 0.0
        self._keys: KeySet | None = None

    def authorization_url(self, state: str, nonce: str, verifier: str) -> str:
        """Where to send the browser (section 3.1.2.1), with PKCE's S256 challenge."""
        return str(
            prepare_grant_uri(
                self._endpoint("authorization_endpoint"),
                client_id=self.reg.client_id,
                response_type="code",
                redirect_uri=self.reg.redirect_uri,
                scope=self.reg.scopes,
                state=state,
                nonce=nonce,
                code_challenge=create_s256_code_challenge(verifier),
                code_challenge_method="S256",
            )
        )

    def finish(self, code: str, verifier: str, nonce: str, now: datetime) -> Claims:
        """Exchange the code (section 3.1.3) and validate the ID token it brings.

        Raises Unauthenticated naming what was wrong (audience, expiry, nonce, issuer,
        signature), IntegrationError when the provider cannot be reached or answers badly."""
        token = self._exchange(code, verifier)
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise Unauthenticated("the identity provider sent no ID token")
        access = token.get("access_token")
        return self._validate(id_token, nonce, access if isinstance(access, str) else None, now)

    def _exchange(self, code: str, verifier: str) -> dict[str, Any]:
        endpoint = self._endpoint("token_endpoint")
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.reg.redirect_uri,
            "code_verifier": verifier,
        }
        # client_secret_basic (RFC 6749 section 2.3.1), the method every provider supports.
        auth = (self.reg.client_id, self.reg.client_secret)
        answer = self._send("POST", endpoint, data=form, auth=auth)
        if answer.status_code == 400:
            error = _json(answer, endpoint).get("error", "invalid_grant")
            raise Unauthenticated(f"the identity provider refused the sign-in code ({error})")
        return _json(_ok(answer, endpoint), endpoint)

    def _validate(self, id_token: str, nonce: str, access: str | None, now: datetime) -> Claims:
        meta = self._meta()
        algorithms = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
        registry = JWSRegistry(algorithms=list(algorithms), strict_check_header=False)
        try:
            try:
                decoded = jwt.decode(id_token, self._key_set(), registry=registry)
            except JoseError:
                # Perhaps signed with a key published after ours was cached.
                decoded = jwt.decode(id_token, self._key_set(refresh=True), registry=registry)
            claims = CodeIDToken(
                decoded.claims,
                decoded.header,
                {
                    "iss": {"essential": True, "value": self.reg.issuer},
                    "aud": {"essential": True, "value": self.reg.client_id},
                },
                {"nonce": nonce, "client_id": self.reg.client_id, "access_token": access},
            )
            claims.validate(now=int(now.timestamp()), leeway=LEEWAY)
        except JoseError as exc:
            raise Unauthenticated(f"the ID token was refused: {_reason(exc)}") from None
        except ValueError as exc:
            raise Unauthenticated(f"the ID token is malformed: {exc}") from None
        return _claims(claims, self.reg.role_claim)

    def _meta(self) -> dict[str, Any]:
        if self._metadata is None or time.monotonic() - self._fetched > METADATA_TTL:
            # Discovery 1.0 section 4: the issuer without its trailing slash, then the path.
            where = self.reg.issuer.rstrip("/") + "/.well-known/openid-configuration"
            found = _json(_ok(self._send("GET", where), where), where)
            # Discovery 1.0 section 4.3: the document must name the issuer it was asked for.
            if found.get("issuer") != self.reg.issuer:
                raise IntegrationError(where, None, f"names issuer {found.get('issuer')!r}")
            self._metadata, self._fetched, self._keys = found, time.monotonic(), None
        return self._metadata

    def _endpoint(self, name: str) -> str:
        value = self._meta().get(name)
        if not isinstance(value, str):
            raise IntegrationError(self.reg.issuer, None, f"discovery has no {name}")
        return value

    def _key_set(self, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            where = self._endpoint("jwks_uri")
            found = _json(_ok(self._send("GET", where), where), where)
            self._keys = KeySet.import_key_set(cast("KeySetSerialization", found))
        return self._keys

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise IntegrationError(url, None, type(exc).__name__) from None


def _ok(answer: httpx.Response, where: str) -> httpx.Response:
    if not answer.is_success:
        raise IntegrationError(where, answer.status_code, answer.reason_phrase)
    return answer


def _json(answer: httpx.Response, where: str) -> dict[str, Any]:
    try:
        found = answer.json()
    except ValueError:
        raise IntegrationError(where, answer.status_code, "not JSON") from None
    if not isinstance(found, dict):
        raise IntegrationError(where, answer.status_code, "not a JSON object")
    return found


MEANINGS = {
    "aud": "it was issued to another application (audience)",
    "exp": "it has expired",
    "nonce": "its nonce is not the one this sign-in sent (replayed or mixed up)",
    "iss": "it comes from another issuer",
    "iat": "its issue time is not valid",
    "nbf": "it is not valid yet",
    "azp": "it was issued to another party (azp)",
    "at_hash": "it does not match the access token",
}


def _reason(exc: JoseError) -> str:
    if isinstance(exc, MissingClaimError):
        return f"it has no {exc.claim} claim"
    if isinstance(exc, ClaimError):
        return MEANINGS.get(exc.claim, f"its {exc.claim} claim is not valid")
    if isinstance(exc, BadSignatureError):
        return "its signature does not verify against the provider's keys"
    return str(exc.description or exc.error)


def _claims(found: CodeIDToken, role_claim: str) -> Claims:
    email = found.get("email")
    verified = found.get("email_verified")
    groups = found.get(role_claim) or ()
    return Claims(
        subject=str(found["sub"]),
        email=email if isinstance(email, str) else None,
        email_verified=verified if isinstance(verified, bool) else None,
        hosted_domain=found.get("hd") if isinstance(found.get("hd"), str) else None,
        groups=tuple(str(g) for g in groups) if isinstance(groups, list) else (),
    )
