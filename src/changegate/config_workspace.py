"""Runtime settings for Google Workspace, where test evidence is filed (issue 15).

Read from the environment by `config.Settings.from_env` only (README's settings table and
docs/workspace.md list them). Which shared drive and folder hold the evidence is policy
(`workspace:`), not settings: it is what the organisation decided, and the audit shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from changegate.domain.errors import BadInput


@dataclass(frozen=True)
class GoogleSettings:
    """A service account's key file (JSON, as the Cloud console downloads it); `subject`, a
    Workspace user it acts as (domain-wide delegation); `drive_url` another Drive endpoint (a
    local peer in tests); `ca_certs` a PEM bundle to trust for it instead of the default roots."""

    credentials: Path
    subject: str | None = None
    drive_url: str | None = None
    ca_certs: Path | None = None


def google_from(env: Mapping[str, str]) -> GoogleSettings | None:
    key = env.get("CHANGEGATE_GOOGLE_CREDENTIALS", "").strip()
    others = (
        "CHANGEGATE_GOOGLE_SUBJECT",
        "CHANGEGATE_GOOGLE_DRIVE_URL",
        "CHANGEGATE_GOOGLE_CA_CERTS",
    )
    given = {name: env.get(name, "").strip() for name in others}
    if not key:
        stray = [name for name, value in given.items() if value]
        if stray:
            raise BadInput(f"{stray[0]} is set but CHANGEGATE_GOOGLE_CREDENTIALS is not")
        return None
    subject, url, ca = given.values()
    if subject and "@" not in subject:
        raise BadInput(f"CHANGEGATE_GOOGLE_SUBJECT: not an email address: {subject!r}")
    if url:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise BadInput(f"CHANGEGATE_GOOGLE_DRIVE_URL: expected an https:// URL, got {url!r}")
    return GoogleSettings(Path(key), subject or None, url or None, Path(ca) if ca else None)
