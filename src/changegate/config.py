"""Runtime settings, read from the environment once, by the composition root only."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from changegate.domain.errors import BadInput

DEFAULT_DATABASE_URL = "sqlite:///changegate.db"
TRUE = {"1", "true", "yes", "on"}


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
        )


@dataclass(frozen=True)
class GitHubSettings:
    """The GitHub App that answers deployment protection rules (all four must be set)."""

    webhook_secret: str
    app_id: str
    private_key_path: Path
    principal: str
    api_url: str = "https://api.github.com"


GITHUB_KEYS = ("CHANGEGATE_GITHUB_WEBHOOK_SECRET", "CHANGEGATE_GITHUB_APP_ID",
               "CHANGEGATE_GITHUB_PRIVATE_KEY", "CHANGEGATE_GITHUB_PRINCIPAL")


def _github(env: Mapping[str, str]) -> GitHubSettings | None:
    given = {key: env.get(key, "").strip() for key in GITHUB_KEYS}
    if not any(given.values()):
        return None
    missing = [key for key, value in given.items() if not value]
    if missing:
        raise BadInput(f"GitHub App settings incomplete: set {', '.join(missing)}")
    secret, app_id, key_path, principal = given.values()
    return GitHubSettings(secret, app_id, Path(key_path), principal,
                          env.get("CHANGEGATE_GITHUB_API_URL") or "https://api.github.com")


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
    if value.tzinfo is None:
        raise BadInput(f"{what}: give a time zone, e.g. {raw}Z")
    return value.astimezone(UTC)
