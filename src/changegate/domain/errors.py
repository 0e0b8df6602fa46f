"""Domain errors. They carry no HTTP status or exit code: entry points map them in one table."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a rule raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Refused(DomainError):
    """A policy rule refused the action. `control` names the rule (CM-2, SoD, ...)."""

    def __init__(self, control: str, message: str) -> None:
        super().__init__(f"{control}: {message}")
        self.control = control


class InvalidTransition(Refused):
    def __init__(self, current: str, action: str, hint: str = "", subject: str = "change") -> None:
        detail = f"cannot {action} a {subject} that is {current}"
        super().__init__("state", f"{detail}; {hint}" if hint else detail)
        self.current = current
        self.action = action


class BadInput(DomainError):
    """The caller's input is malformed or names something that does not exist."""


class NotFound(BadInput):
    pass


class Forbidden(DomainError):
    """The actor lacks the role for this action."""


class Unauthenticated(DomainError):
    """The credentials name no one: invalid, expired or revoked (HTTP 401, RFC 6750)."""


class Conflict(DomainError):
    """A concurrent writer changed the record first (compare-and-set lost); safe to retry."""


class VersionMoved(DomainError):
    """A decision named a version the record has moved on from (HTTP 409): the decider has not
    seen what they would be deciding on. Never retried."""

    def __init__(self, key: str, seen: int, current: int) -> None:
        super().__init__(
            f"{key} is at version {current}; you decided on version {seen}, which is no longer "
            f"current: read version {current} and decide again"
        )
        self.extra = {"key": key, "your_version": seen, "current_version": current}


class VersionRequired(BadInput):
    """A decision that does not say which version it decides on (HTTP 428, RFC 6585)."""
