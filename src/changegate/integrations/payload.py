"""Reading a vendor's JSON payload field by field: present and typed, or one line of BadInput
naming the payload and the first field missing (`pull_request_review webhook: missing
review.user.login`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard

from changegate.domain.errors import BadInput


def is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)  # JSON true is not an id


def mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def optional_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value.strip() else None


def optional_int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    return value if is_int(value) else None


class Fields:
    """Required fields of one kind of payload; `what` names it in every message."""

    def __init__(self, what: str) -> None:
        self.what = what

    def text(self, data: Mapping[str, Any], key: str, name: str | None = None) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise BadInput(f"{self.what}: missing {name or key}")
        return value

    def number(self, data: Mapping[str, Any], key: str, name: str | None = None) -> int:
        value = data.get(key)
        if not is_int(value):
            raise BadInput(f"{self.what}: missing {name or key}")
        return value
