"""Runtime settings for Linear, the front door for change and waiver requests (issue 15).

Read from the environment by `config.Settings.from_env` only (README's settings table and
docs/linear.md list them). The teams, labels and state mapping are policy (`linear:`), not
settings: they are what the organisation decided, and the audit shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from changegate.domain.errors import BadInput

API_URL = "https://api.linear.app/graphql"


@dataclass(frozen=True)
class LinearSettings:
    """A personal API key (sent as `Authorization: KEY`) or an OAuth access token (sent as
    `Authorization: Bearer TOKEN`), and the secret Linear signs webhook deliveries with."""

    credential: str = field(repr=False)
    oauth: bool
    webhook_secret: str = field(repr=False)
    url: str = API_URL

    @property
    def authorization(self) -> str:
        return f"Bearer {self.credential}" if self.oauth else self.credential


def linear_from(env: Mapping[str, str]) -> LinearSettings | None:
    key = env.get("CHANGEGATE_LINEAR_API_KEY", "").strip()
    token = env.get("CHANGEGATE_LINEAR_OAUTH_TOKEN", "").strip()
    secret = env.get("CHANGEGATE_LINEAR_WEBHOOK_SECRET", "").strip()
    url = env.get("CHANGEGATE_LINEAR_URL", "").strip() or API_URL
    if not (key or token or secret):
        return None
    if key and token:
        raise BadInput("set CHANGEGATE_LINEAR_API_KEY or CHANGEGATE_LINEAR_OAUTH_TOKEN, not both")
    if not (key or token):
        raise BadInput(
            "Linear settings incomplete: set CHANGEGATE_LINEAR_API_KEY "
            "(or CHANGEGATE_LINEAR_OAUTH_TOKEN)"
        )
    if not secret:
        raise BadInput("Linear settings incomplete: set CHANGEGATE_LINEAR_WEBHOOK_SECRET")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadInput(f"CHANGEGATE_LINEAR_URL: {url!r} is not an http(s) URL")
    return LinearSettings(key or token, bool(token), secret, url)
