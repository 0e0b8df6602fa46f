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
        )


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
