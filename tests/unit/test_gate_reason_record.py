"""A gate decision stores each reason as `dataclasses.asdict` would, field for field: a field
added to `Reason` and forgotten in the record fails here."""

from __future__ import annotations

from dataclasses import asdict

from changegate.domain.gate import Reason
from changegate.services.gate import reason_record


def test_a_stored_reason_has_every_field_of_the_reason() -> None:
    for reason in (Reason("CM-4", False, "no run"), Reason("CM-2", True, "waived", "WVR-2")):
        assert reason_record(reason) == asdict(reason)
