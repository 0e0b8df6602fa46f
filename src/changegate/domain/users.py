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


def normalise_email(email: str) -> str:
    cleaned = email.strip().lower()
    if not EMAIL.match(cleaned):
        raise BadInput(f"not an email address: {email!r}")
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
