"""Who may do what on a page: read from the API's own operations, so there is one table.

Each page action names the API operation it is the browser's form of; the roles that operation
declares (`x-roles`) decide both whether the page shows the button and whether the form's POST
is accepted. A web action without its API operation is a defect found at start-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from changegate.domain.errors import Forbidden

# action -> (method, path of the API operation it stands for)
ACTIONS: Mapping[str, tuple[str, str]] = {
    "approve-change": ("POST", "/api/v1/changes/{key}/approvals"),
    "record-pir": ("POST", "/api/v1/changes/{key}/pir"),
    "request-waiver": ("POST", "/api/v1/waivers"),
    "approve-waiver": ("POST", "/api/v1/waivers/{key}/approvals"),
    "review-waiver": ("POST", "/api/v1/waivers/{key}/review"),
    "confirm-finding": ("POST", "/api/v1/findings/{key}/confirm"),
    "dismiss-finding": ("POST", "/api/v1/findings/{key}/dismiss"),
    "discipline": ("POST", "/api/v1/findings/{key}/disciplinary-actions"),
    "sign-metrics": ("POST", "/api/v1/reviews/quarterly-metrics"),
    "preview-metrics": ("GET", "/api/v1/reviews/quarterly-metrics/{quarter}/preview"),
    "read-users": ("GET", "/api/v1/users"),
    "read-findings": ("GET", "/api/v1/findings"),
    "read-waivers": ("GET", "/api/v1/waivers"),
    "read-changes": ("GET", "/api/v1/changes"),
    "read-ledger": ("GET", "/api/v1/ledger/verify"),
    "create-meeting": ("POST", "/api/v1/cab/meetings"),
    "attend-meeting": ("POST", "/api/v1/cab/meetings/{meeting_id}/attendance"),
    "decide-item": ("POST", "/api/v1/cab/meetings/{meeting_id}/decisions"),
    "edit-minutes": ("PUT", "/api/v1/cab/meetings/{meeting_id}/minutes"),
    "close-meeting": ("POST", "/api/v1/cab/meetings/{meeting_id}/close"),
}
# People and tokens have no API operation that changes them (`changegate user ...` and
# `changegate token ...` are local administration): on the pages only admins manage them.
ADMINS = frozenset({"admin"})
ADMIN_ACTIONS = ("manage-tokens", "manage-users")


@dataclass(frozen=True)
class Table:
    """Action -> the role names that may take it (empty: nobody)."""

    roles: Mapping[str, frozenset[str]]

    def may(self, action: str, held: Iterable[str]) -> bool:
        return bool(self.roles.get(action, frozenset()) & set(held))

    def check(self, action: str, email: str, held: Iterable[str]) -> None:
        """Raises Forbidden with the API's wording when `held` has none of the roles."""
        if not self.may(action, held):
            needed = ", ".join(sorted(self.roles.get(action, ()))) or "(none)"
            raise Forbidden(f"{email} needs one of the roles {needed}")


def table_of(openapi: Mapping[str, Any]) -> Table:
    """The roles each action's API operation publishes (`x-roles` in the OpenAPI document);
    raises LookupError for an action whose operation is missing."""
    paths = openapi.get("paths", {})
    found = {}
    for action, (method, path) in ACTIONS.items():
        operation = paths.get(path, {}).get(method.lower())
        if operation is None:
            raise LookupError(f"web action {action}: no API operation {method} {path}")
        found[action] = frozenset(operation.get("x-roles", []))
    found.update(dict.fromkeys(ADMIN_ACTIONS, ADMINS))
    return Table(found)
