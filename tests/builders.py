"""Plain builder functions for test data."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from changegate.bootstrap import App
from changegate.domain.changes import ChangeFields, ChangeType, Risk
from changegate.services import users

PEOPLE: dict[str, tuple[str, list[str]]] = {
    "alice@example.com": ("Alice Requester", ["requester"]),
    "rob@example.com": ("Rob Requester", ["requester"]),
    "bob@example.com": ("Bob CAB", ["cab"]),
    "carol@example.com": ("Carol CAB", ["cab"]),
    "cody@example.com": ("Cody CAB", ["cab"]),
    "ivy@example.com": ("Ivy ISO", ["iso"]),
    "max@example.com": ("Max CAB and ISO", ["cab", "iso"]),
    "sam@example.com": ("Sam Security", ["security_engineer"]),
    "hana@example.com": ("Hana HR", ["hr"]),
    "aud@example.com": ("Audrey Auditor", ["auditor"]),
    "ci@example.com": ("CI pipeline", ["pipeline"]),
}

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday


def make_fields(**overrides: Any) -> ChangeFields:
    base = ChangeFields(
        title="Rotate TLS certificates",
        scope="api-gateway certificates",
        impact="brief client reconnects",
        rollback_plan="re-import previous cert",
        risk=Risk.MEDIUM,
        ticket="ENG-42",
        environments=("production",),
        affected_services=("api-gateway",),
    )
    if overrides.get("change_type") is ChangeType.EMERGENCY and "justification" not in overrides:
        overrides["justification"] = "customer-facing outage"
    return dataclasses.replace(base, **overrides)


def add_people(app: App, at: datetime = T0) -> None:
    def seed(ctx: Any) -> None:
        for email, (name, roles) in PEOPLE.items():
            users.add_user(ctx, email, name, roles)

    app.run(seed, actor="local-admin", at=at)
