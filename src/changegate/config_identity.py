"""Runtime settings for signing people in: the OpenID Connect provider and the web session.

Read from the environment by `config.Settings.from_env` only (docs/identity.md lists them).
Any OIDC provider works through its discovery document (OpenID Connect Discovery 1.0);
Google Workspace is the example: issuer https://accounts.google.com, allowed domain = the
Workspace's primary domain, which Google states in the ID token's `hd` claim.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from changegate.domain.errors import BadInput
from changegate.domain.identity import IdentityRules
from changegate.domain.users import parse_roles

OIDC_KEYS = (
    "CHANGEGATE_OIDC_ISSUER",
    "CHANGEGATE_OIDC_CLIENT_ID",
    "CHANGEGATE_OIDC_CLIENT_SECRET",
    "CHANGEGATE_PUBLIC_URL",
)
LOOPBACK = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class OidcSettings:
    """The relying party's registration at the provider (all four keys must be set)."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    # Where people reach this server; the redirect URI registered at the provider is
    # PUBLIC_URL + /auth/callback.
    public_url: str
    allowed_domains: tuple[str, ...] = ()
    # Optional: the ID token claim holding group names, and each group -> changegate role.
    role_claim: str = "groups"
    role_map: Mapping[str, str] = field(default_factory=dict)
    scopes: str = "openid email profile"

    @property
    def redirect_uri(self) -> str:
        return self.public_url.rstrip("/") + "/auth/callback"

    def rules(self) -> IdentityRules:
        roles = {group: parse_roles([role])[0] for group, role in self.role_map.items()}
        return IdentityRules(self.allowed_domains, roles)


@dataclass(frozen=True)
class WebSettings:
    """The browser's session: lifetime, cookie flags, the key that signs the sign-in cookie."""

    session_lifetime: timedelta = timedelta(hours=12)
    # None: Secure when the request came over HTTPS or PUBLIC_URL is https://.
    cookie_secure: bool | None = None
    # Signs the short-lived cookie that carries state, nonce and PKCE verifier between
    # /auth/login and /auth/callback. Unset: a random key per server process (one process
    # only; several behind a load balancer must share one).
    secret_key: str | None = field(default=None, repr=False)
    public_url: str | None = None


def _http_url(raw: str, what: str, keep_slash: bool = False) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInput(f"{what}: expected an https:// URL, got {raw!r}")
    # Plain HTTP would carry codes and cookies in clear: only for a provider on this host.
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise BadInput(f"{what}: use https:// (http only for localhost, not {parts.hostname})")
    # An issuer is compared with the provider's own spelling, trailing slash and all (Auth0's
    # ends in one); other URLs are bases that paths are appended to.
    return raw if keep_slash else raw.rstrip("/")


def _list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip().lower() for item in raw.split(",") if item.strip())


def _role_map(raw: str) -> dict[str, str]:
    """`group=role,group=role` (a group may be an email-shaped name: split on the last =)."""
    mapping: dict[str, str] = {}
    for item in (i.strip() for i in raw.split(",") if i.strip()):
        group, sep, role = item.rpartition("=")
        if not sep or not group.strip():
            raise BadInput(f"CHANGEGATE_OIDC_ROLE_MAP: expected group=role, got {item!r}")
        mapping[group.strip()] = parse_roles([role])[0].value
    return mapping


def oidc_from(env: Mapping[str, str]) -> OidcSettings | None:
    given = {key: env.get(key, "").strip() for key in OIDC_KEYS}
    if not any(given[k] for k in OIDC_KEYS[:3]):
        return None
    missing = [key for key, value in given.items() if not value]
    if missing:
        raise BadInput(f"OpenID Connect settings incomplete: set {', '.join(missing)}")
    issuer, client_id, secret, public = given.values()
    return OidcSettings(
        _http_url(issuer, "CHANGEGATE_OIDC_ISSUER", keep_slash=True),
        client_id,
        secret,
        _http_url(public, "CHANGEGATE_PUBLIC_URL"),
        _list(env.get("CHANGEGATE_OIDC_ALLOWED_DOMAINS", "")),
        env.get("CHANGEGATE_OIDC_ROLE_CLAIM", "").strip() or "groups",
        _role_map(env.get("CHANGEGATE_OIDC_ROLE_MAP", "")),
        env.get("CHANGEGATE_OIDC_SCOPES", "").strip() or "openid email profile",
    )


def web_from(env: Mapping[str, str]) -> WebSettings:
    raw_hours = env.get("CHANGEGATE_SESSION_HOURS", "").strip()
    if raw_hours and (not raw_hours.isdigit() or not 1 <= int(raw_hours) <= 24 * 30):
        raise BadInput(f"CHANGEGATE_SESSION_HOURS: whole hours, 1 to 720, not {raw_hours!r}")
    secure = env.get("CHANGEGATE_COOKIE_SECURE", "").strip().lower()
    if secure not in ("", "auto", "true", "false"):
        raise BadInput(f"CHANGEGATE_COOKIE_SECURE: expected true, false or auto, got {secure!r}")
    key = env.get("CHANGEGATE_SECRET_KEY", "").strip()
    if key and len(key) < 32:
        raise BadInput("CHANGEGATE_SECRET_KEY: at least 32 characters (`openssl rand -hex 32`)")
    public = env.get("CHANGEGATE_PUBLIC_URL", "").strip()
    return WebSettings(
        timedelta(hours=int(raw_hours)) if raw_hours else timedelta(hours=12),
        None if secure in ("", "auto") else secure == "true",
        key or None,
        _http_url(public, "CHANGEGATE_PUBLIC_URL") if public else None,
    )
