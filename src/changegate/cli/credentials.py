"""Where `changegate login` keeps the server it signed in to and the token it got.

`$XDG_CONFIG_HOME/changegate/credentials.json` (default `~/.config`), mode 0600 in a 0700
directory, replaced atomically. The stored login is used when the environment names neither
a server (CHANGEGATE_URL) nor a database (CHANGEGATE_DATABASE_URL): a laptop that logged in
talks to the server; a shell set up for local administration keeps acting on its database.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from changegate.config import Settings


@dataclass(frozen=True)
class Stored:
    url: str
    token: str
    email: str


def path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "changegate" / "credentials.json"


def load() -> Stored | None:
    """The stored login; None when there is none or it cannot be read as one."""
    try:
        found = json.loads(path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(found, dict):
        return None
    values = [found.get(k) for k in ("url", "token", "email")]
    if not all(isinstance(v, str) and v for v in values):
        return None
    return Stored(*(str(v) for v in values))


def save(stored: Stored) -> Path:
    """Write the login readable by its owner only (the token is a credential)."""
    target = path()
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".credentials-")
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(dataclasses.asdict(stored), file)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return target


def forget() -> bool:
    try:
        path().unlink()
    except FileNotFoundError:
        return False
    return True


def settings() -> Settings:
    """The settings commands act with: the environment's, or the stored login's server."""
    found = Settings.from_env()
    if found.server_url or os.environ.get("CHANGEGATE_DATABASE_URL"):
        return found
    stored = load()
    if stored is None:
        return found
    return dataclasses.replace(found, server_url=stored.url, token=stored.token)
