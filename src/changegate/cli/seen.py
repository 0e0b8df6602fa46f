"""The version of each change this CLI last showed its user, so that `change approve` decides
on the version that was read (CM-2), not on whatever is current when the command runs.

Kept per target (server URL or database URL) in `$XDG_STATE_HOME/changegate/seen.json`
(default `~/.local/state`), mode 0600, replaced atomically, the newest `KEEP` entries only.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from changegate.cli import credentials

KEEP = 1000


def _path() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "changegate" / "seen.json"


def _target() -> str:
    settings = credentials.settings()
    if settings.server_url:
        return settings.server_url.rstrip("/")
    url = settings.database_url
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        return prefix + os.path.abspath(url.removeprefix(prefix))
    return url


def _load(path: Path) -> dict[str, int]:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(found, dict):
        return {}
    return {k: v for k, v in found.items() if isinstance(k, str) and type(v) is int}


def remember(key: str, version: int) -> None:
    """Note that `version` of change `key` was shown. A state directory that cannot be written
    only loses the default: `--version` still works."""
    path = _path()
    entries = _load(path)
    name = f"{_target()} {key.upper()}"
    entries.pop(name, None)
    entries[name] = version
    kept = dict(list(entries.items())[-KEEP:])
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.NamedTemporaryFile(
            "w", dir=path.parent, prefix=".seen-", delete=False, encoding="utf-8"
        ) as out:
            json.dump(kept, out)
        os.chmod(out.name, 0o600)
        os.replace(out.name, path)
    except OSError:
        return


def last_shown(key: str) -> int | None:
    """The version of `key` this CLI last showed for the current target, if any."""
    return _load(_path()).get(f"{_target()} {key.upper()}")
