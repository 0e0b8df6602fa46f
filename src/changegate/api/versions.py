"""Which version a decision is about: a body field or an `If-Match` precondition (RFC 9110
section 13.1.1) on the change's ETag, `"<version>-<version hash>"`."""

from __future__ import annotations

import re

from changegate.domain.errors import BadInput, VersionRequired

_ETAG = re.compile(r'^(?:W/)?"(?P<version>[1-9][0-9]{0,9})-(?P<hash>[0-9a-f]{64})"$')


def etag(version: int, version_hash: str) -> str:
    """A change's strong ETag: its material version and that version's hash."""
    return f'"{version}-{version_hash}"'


def seen_version(version: int | None, if_match: str | None) -> tuple[int, str | None]:
    """(version, hash or None) a decision names. Raises VersionRequired if neither is given,
    BadInput if If-Match is not one of our ETags or disagrees with `version`."""
    if if_match is None:
        if version is None:
            raise VersionRequired(
                "say which version you decide on: `version` in the body, or If-Match with the "
                "ETag of GET /api/v1/changes/{key}"
            )
        return version, None
    found = _ETAG.match(if_match.strip())
    if found is None:
        raise BadInput('If-Match: not an ETag of a change (expected "<version>-<sha256>")')
    tagged = int(found["version"])
    if version is not None and version != tagged:
        raise BadInput(f"version {version} and If-Match (version {tagged}) disagree")
    return tagged, found["hash"]
