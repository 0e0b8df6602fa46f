"""People and principals (DESIGN.md section 2)."""

from __future__ import annotations

import re
from enum import StrEnum

from changegate.domain.errors import BadInput


class Role(StrEnum):
    REQUESTER = "requester"
    CAB = "cab"
    ISO = "iso"
    SECURITY_ENGINEER = "security_engineer"
    HR = "hr"
    AUDITOR = "auditor"
    ADMIN = "admin"
    PIPELINE = "pipeline"


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# RFC 5321 section 4.5.3.1.3: a path holds at most 256 octets, brackets included.
EMAIL_MAX = 254


def normalise_email(email: str) -> str:
    """Trimmed and lower-cased; the one form every email takes before it is stored or compared."""
    cleaned = email.strip().lower()
    if len(cleaned) > EMAIL_MAX or not EMAIL.match(cleaned):
        shown = email if len(email) <= 80 else email[:77] + "..."
        raise BadInput(f"not an email address: {shown!r}")
    return cleaned


def parse_roles(names: list[str]) -> list[Role]:
    if not names:
        raise BadInput("give at least one --role")
    valid = ", ".join(r.value for r in Role)
    roles: list[Role] = []
    for name in names:
        try:
            roles.append(Role(name.strip().lower()))
        except ValueError:
            raise BadInput(f"unknown role {name!r}; roles are {valid}") from None
    return sorted(set(roles))
