"""Runtime settings, read from the environment once, by the composition root only."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from changegate.config_aws import (
    CheckpointSettings,
    CloudTrailSettings,
    checkpoints_from,
    cloudtrail_from,
)
from changegate.config_identity import OidcSettings, WebSettings, oidc_from, web_from
from changegate.config_linear import LinearSettings, linear_from
from changegate.config_workspace import GoogleSettings, google_from
from changegate.domain.documents import check_instant
from changegate.domain.errors import BadInput

DEFAULT_DATABASE_URL = "sqlite:///changegate.db"
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    policy_path: Path | None = None
    clock_override: datetime | None = None
    signing_key_path: Path | None = None
    debug: bool = False
    server_url: str | None = None
    token: str | None = None
    github: GitHubSettings | None = None
    smtp: SmtpSettings | None = None
    slack_webhook_url: str | None = field(default=None, repr=False)  # the URL is the secret
    oidc: OidcSettings | None = None
    web: WebSettings = field(default_factory=WebSettings)
    cloudtrail: CloudTrailSettings | None = None
    checkpoints: CheckpointSettings | None = None
    linear: LinearSettings | None = None
    google: GoogleSettings | None = None
    # A little over the largest legitimate upload (a 50 MiB JUnit report in a multipart form).
    max_body_bytes: int = 52 * 1024 * 1024

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            database_url=env.get("CHANGEGATE_DATABASE_URL") or DEFAULT_DATABASE_URL,
            policy_path=_path(env.get("CHANGEGATE_POLICY")),
            clock_override=_clock(env),
            signing_key_path=_path(env.get("CHANGEGATE_SIGNING_KEY")),
            debug=env.get("CHANGEGATE_DEBUG", "").lower() in TRUE,
            server_url=env.get("CHANGEGATE_URL") or None,
            token=env.get("CHANGEGATE_TOKEN") or None,
            github=_github(env),
            smtp=_smtp(env),
            slack_webhook_url=_slack(env),
            oidc=oidc_from(env),
            web=web_from(env),
            cloudtrail=cloudtrail_from(env),
            checkpoints=checkpoints_from(env, bool(env.get("CHANGEGATE_SIGNING_KEY"))),
            linear=linear_from(env),
            google=google_from(env),
            max_body_bytes=_bytes(env, "CHANGEGATE_MAX_BODY_BYTES", 52 * 1024 * 1024),
        )


@dataclass(frozen=True)
class GitHubSettings:
    """The GitHub App that answers deployment protection rules (all four must be set)."""

    webhook_secret: str
    app_id: str
    private_key_path: Path
    principal: str
    api_url: str = "https://api.github.com"


GITHUB_KEYS = (
    "CHANGEGATE_GITHUB_WEBHOOK_SECRET",
    "CHANGEGATE_GITHUB_APP_ID",
    "CHANGEGATE_GITHUB_PRIVATE_KEY",
    "CHANGEGATE_GITHUB_PRINCIPAL",
)


def _github(env: Mapping[str, str]) -> GitHubSettings | None:
    given = {key: env.get(key, "").strip() for key in GITHUB_KEYS}
    if not any(given.values()):
        return None
    missing = [key for key, value in given.items() if not value]
    if missing:
        raise BadInput(f"GitHub App settings incomplete: set {', '.join(missing)}")
    secret, app_id, key_path, principal = given.values()
    return GitHubSettings(
        secret,
        app_id,
        Path(key_path),
        principal,
        env.get("CHANGEGATE_GITHUB_API_URL") or "https://api.github.com",
    )


@dataclass(frozen=True)
class SmtpSettings:
    """The mail relay notifications go through (CHANGEGATE_SMTP_*; host and sender required)."""

    host: str
    sender: str
    port: int = 25
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False


SMTP_KEYS = (
    "CHANGEGATE_SMTP_HOST",
    "CHANGEGATE_SMTP_PORT",
    "CHANGEGATE_SMTP_FROM",
    "CHANGEGATE_SMTP_USERNAME",
    "CHANGEGATE_SMTP_PASSWORD",
    "CHANGEGATE_SMTP_STARTTLS",
)
LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def _smtp(env: Mapping[str, str]) -> SmtpSettings | None:
    given = {key: env.get(key, "").strip() for key in SMTP_KEYS}
    host, port, sender, username, password, starttls = given.values()
    if not host:
        stray = [key for key, value in given.items() if value]
        if stray:
            raise BadInput(f"{stray[0]} is set but CHANGEGATE_SMTP_HOST is not")
        return None
    if not sender:
        raise BadInput("CHANGEGATE_SMTP_FROM is required when CHANGEGATE_SMTP_HOST is set")
    if "@" not in parseaddr(sender)[1]:
        raise BadInput(f"CHANGEGATE_SMTP_FROM: not an email address: {sender!r}")
    if bool(username) != bool(password):
        raise BadInput(
            "CHANGEGATE_SMTP_USERNAME and CHANGEGATE_SMTP_PASSWORD go together: set both or neither"
        )
    tls = _flag(starttls, "CHANGEGATE_SMTP_STARTTLS")
    # A password sent without TLS is readable on every hop to the relay; only a relay on this
    # host (or a sidecar reached over loopback) is safe to log in to in clear.
    if password and not tls and host.lower() not in LOOPBACK:
        raise BadInput(
            "CHANGEGATE_SMTP_PASSWORD needs CHANGEGATE_SMTP_STARTTLS=true "
            f"(the relay {host} is not on this host)"
        )
    return SmtpSettings(host, sender, _port(port), username or None, password or None, tls)


def _port(raw: str) -> int:
    if not raw:
        return 25
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise BadInput(f"CHANGEGATE_SMTP_PORT: not a TCP port: {raw!r}")
    return int(raw)


def _flag(raw: str, what: str) -> bool:
    if not raw or raw.lower() in FALSE:
        return False
    if raw.lower() in TRUE:
        return True
    raise BadInput(f"{what}: expected true or false, got {raw!r}")


def _slack(env: Mapping[str, str]) -> str | None:
    """The webhook URL is itself the credential: errors name the host, never the path."""
    raw = env.get("CHANGEGATE_SLACK_WEBHOOK_URL", "").strip()
    if not raw:
        return None
    try:
        parts = urlsplit(raw)
        host = parts.hostname or ""
    except ValueError:
        raise BadInput("CHANGEGATE_SLACK_WEBHOOK_URL: not a URL") from None
    if parts.scheme not in ("https", "http") or not host:
        raise BadInput("CHANGEGATE_SLACK_WEBHOOK_URL: expected an https:// URL")
    # Plain HTTP would put the secret path on the wire; allowed only to a local relay or test peer.
    if parts.scheme == "http" and host not in LOOPBACK:
        raise BadInput(
            f"CHANGEGATE_SLACK_WEBHOOK_URL: use https:// (http only for loopback, not {host})"
        )
    return raw


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _clock(env: Mapping[str, str]) -> datetime | None:
    """A fixed clock is for demos and tests; it must be enabled explicitly, never by accident."""
    raw = env.get("CHANGEGATE_CLOCK")
    if not raw:
        return None
    if env.get("CHANGEGATE_ALLOW_CLOCK_OVERRIDE", "").lower() not in TRUE:
        raise BadInput("CHANGEGATE_CLOCK is set but CHANGEGATE_ALLOW_CLOCK_OVERRIDE is not true")
    return parse_instant(raw, "CHANGEGATE_CLOCK")


def parse_instant(raw: str, what: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(f"{what}: not an ISO 8601 time: {raw!r}") from None
    if value.tzinfo is None:  # also a date alone: Python drops a date's zone ("2026-10-01Z")
        raise BadInput(f"{what}: give a time with its zone, e.g. {value.isoformat()}Z")
    try:
        return check_instant(value.astimezone(UTC), what)
    except OverflowError:
        raise BadInput(f"{what}: {raw!r} is outside 1970 to 9000") from None


def _bytes(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    if not raw.isdigit() or not 1024 <= int(raw) <= 2**40:
        raise BadInput(f"{name} must be a number of bytes from 1024 to 2^40, not {raw[:40]!r}")
    return int(raw)
