"""The OpenID Connect provider this server signs people in with, built once from settings."""

from __future__ import annotations

import httpx
from fastapi import Request

from changegate.integrations.oidc import Provider, Registration
from changegate.web.cookies import app_of


def of(request: Request) -> Provider:
    """The provider for this app (built on first use; its discovery and keys are cached)."""
    state = request.app.state
    found: Provider | None = getattr(state, "oidc_provider", None)
    if found is None:
        oidc = app_of(request).settings.oidc
        if oidc is None:
            raise LookupError("no identity provider is configured")
        # No redirects: the client secret and codes go only to the discovered endpoints.
        client = httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0), follow_redirects=False)
        registration = Registration(
            oidc.issuer,
            oidc.client_id,
            oidc.client_secret,
            oidc.redirect_uri,
            oidc.scopes,
            oidc.role_claim,
        )
        found = state.oidc_provider = Provider(registration, client)
    return found
