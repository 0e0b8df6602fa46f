"""Material fields: the version hash, which fields changed, and CM-1 completeness at submit."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest

from changegate.domain.changes import (
    ChangeFields,
    ChangeType,
    Risk,
    Window,
    changed_fields,
    check_emergency_justified,
    check_submittable,
    check_window,
    missing_for_submit,
    version_hash,
)
from changegate.domain.errors import Refused
from tests.builders import make_fields

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
END = datetime(2026, 11, 2, 11, 0, tzinfo=UTC)

# One edit per material field; the table must cover every field of ChangeFields.
EDITS: dict[str, Any] = {
    "title": "Rotate TLS certificates (again)",
    "scope": "api-gateway and cdn certificates",
    "impact": "none expected",
    "rollback_plan": "restore from backup",
    "risk": Risk.HIGH,
    "change_type": ChangeType.EMERGENCY,
    "justification": "certificate expires tonight",
    "affected_services": ("api-gateway", "cdn"),
    "environments": ("staging", "production"),
    "customer_impact": "clients reconnect once",
    "expected_downtime_minutes": 5,
    "window": Window(START, END),
    "ticket": "ENG-43",
    "commit_authors": ("dev@example.com",),
}


def test_edit_table_covers_every_material_field() -> None:
    assert set(EDITS) == {f.name for f in dataclasses.fields(ChangeFields)}


def test_version_hash_is_a_sha256_hex() -> None:
    digest = version_hash(make_fields())
    assert len(digest) == 64
    assert set(digest) <= set("0123456789abcdef")


def test_version_hash_is_stable_for_equal_fields() -> None:
    assert version_hash(make_fields()) == version_hash(make_fields())
    with_window = make_fields(window=Window(START, END))
    assert version_hash(with_window) == version_hash(make_fields(window=Window(START, END)))


def test_version_hash_pinned() -> None:
    # Pinned so that a change to the canonical form (which would orphan every stored version
    # hash) is a deliberate decision, not an accident.
    fields = ChangeFields(title="t")
    assert fields.as_json() == {
        "title": "t",
        "scope": "",
        "impact": "",
        "rollback_plan": "",
        "risk": Risk.MEDIUM,
        "change_type": ChangeType.NORMAL,
        "justification": "",
        "affected_services": (),
        "environments": (),
        "customer_impact": "",
        "expected_downtime_minutes": 0,
        "window": {"start": None, "end": None},
        "ticket": "",
        "commit_authors": (),
    }
    canonical = (
        '{"affected_services":[],"change_type":"normal","commit_authors":[],'
        '"customer_impact":"","environments":[],"expected_downtime_minutes":0,"impact":"",'
        '"justification":"","risk":"medium","rollback_plan":"","scope":"","ticket":"",'
        '"title":"t","window":{"end":null,"start":null}}'
    )
    assert version_hash(fields) == hashlib.sha256(canonical.encode()).hexdigest()
    windowed = dataclasses.replace(fields, window=Window(START, END))
    assert windowed.as_json()["window"] == {
        "start": "2026-11-02T09:00:00+00:00",
        "end": "2026-11-02T11:00:00+00:00",
    }


@pytest.mark.parametrize(("name", "value"), list(EDITS.items()), ids=list(EDITS))
def test_version_hash_changes_for_every_material_field(name: str, value: Any) -> None:
    base = make_fields()
    edited = dataclasses.replace(base, **{name: value})
    assert getattr(edited, name) != getattr(base, name)  # the edit is a real edit
    assert version_hash(edited) != version_hash(base)


@pytest.mark.parametrize(("name", "value"), list(EDITS.items()), ids=list(EDITS))
def test_changed_fields_lists_exactly_the_edited_field(name: str, value: Any) -> None:
    base = make_fields()
    assert changed_fields(base, dataclasses.replace(base, **{name: value})) == [name]


def test_changed_fields_is_empty_for_no_edit() -> None:
    assert changed_fields(make_fields(), make_fields()) == []


def test_changed_fields_lists_several_edits_sorted() -> None:
    base = make_fields()
    edited = dataclasses.replace(base, title="x", risk=Risk.LOW, ticket="ENG-1", impact="y")
    assert changed_fields(base, edited) == ["impact", "risk", "ticket", "title"]
    assert changed_fields(edited, base) == ["impact", "risk", "ticket", "title"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (Window(START, END), Window(START, END + (END - START))),
        (Window(START, END), Window(None, END)),
        (Window(None, None), Window(START, None)),
    ],
    ids=["end-moved", "start-cleared", "start-set"],
)
def test_window_edits_are_detected(old: Window, new: Window) -> None:
    before, after = make_fields(window=old), make_fields(window=new)
    assert changed_fields(before, after) == ["window"]
    assert version_hash(before) != version_hash(after)


def test_order_of_listed_services_is_material() -> None:
    a = make_fields(affected_services=("api", "cdn"))
    b = make_fields(affected_services=("cdn", "api"))
    assert changed_fields(a, b) == ["affected_services"]


# --- CM-1: completeness at submit ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "require_ticket", "missing"),
    [
        ({}, True, []),
        ({}, False, []),
        ({"scope": ""}, True, ["scope"]),
        ({"impact": "   "}, True, ["impact"]),  # blank is missing
        ({"rollback_plan": "\n\t"}, True, ["rollback_plan"]),
        ({"title": " "}, True, ["title"]),
        ({"ticket": ""}, True, ["ticket"]),
        ({"ticket": ""}, False, []),  # ticket required only when the policy says so
        (
            {"scope": "", "impact": "", "rollback_plan": "", "ticket": ""},
            True,
            ["scope", "impact", "rollback_plan", "ticket"],
        ),
        (
            {"scope": "", "impact": "", "rollback_plan": "", "ticket": ""},
            False,
            ["scope", "impact", "rollback_plan"],
        ),
        ({"change_type": ChangeType.EMERGENCY, "justification": ""}, True, ["justification"]),
        ({"change_type": ChangeType.EMERGENCY, "justification": "outage"}, True, []),
        ({"change_type": ChangeType.NORMAL, "justification": ""}, True, []),  # normal: not needed
        (
            {"change_type": ChangeType.EMERGENCY, "justification": "", "ticket": "", "title": ""},
            True,
            ["title", "ticket", "justification"],
        ),
    ],
    ids=[
        "complete",
        "complete-no-ticket-rule",
        "no-scope",
        "blank-impact",
        "blank-rollback",
        "blank-title",
        "no-ticket-required",
        "no-ticket-not-required",
        "all-missing-ticket",
        "all-missing-no-ticket",
        "emergency-no-justification",
        "emergency-justified",
        "normal-no-justification",
        "emergency-several",
    ],
)
def test_missing_for_submit(
    overrides: dict[str, Any], require_ticket: bool, missing: list[str]
) -> None:
    fields = make_fields(**overrides)
    assert missing_for_submit(fields, require_ticket) == missing
    if missing:
        with pytest.raises(Refused) as caught:
            check_submittable(fields, require_ticket)
        assert caught.value.control == "CM-1"
        assert caught.value.message == (
            f"CM-1: the request is incomplete: missing {', '.join(missing)}"
        )
    else:
        assert check_submittable(fields, require_ticket) is None


@pytest.mark.parametrize(
    ("change_type", "justification", "refused"),
    [
        (ChangeType.EMERGENCY, "", True),
        (ChangeType.EMERGENCY, "  ", True),
        (ChangeType.EMERGENCY, "outage", False),
        (ChangeType.NORMAL, "", False),
    ],
)
def test_check_emergency_justified(
    change_type: ChangeType, justification: str, refused: bool
) -> None:
    fields = make_fields(change_type=change_type, justification=justification)
    if refused:
        with pytest.raises(Refused) as caught:
            check_emergency_justified(fields)
        assert caught.value.control == "CM-3"
        assert caught.value.message == "CM-3: an emergency change needs a justification"
    else:
        assert check_emergency_justified(fields) is None


@pytest.mark.parametrize(
    ("window", "refused"),
    [
        (Window(), False),
        (Window(START, None), False),
        (Window(None, END), False),
        (Window(START, END), False),
        (Window(START, START), True),
        (Window(END, START), True),
    ],
)
def test_check_window(window: Window, refused: bool) -> None:
    if refused:
        with pytest.raises(Refused) as caught:
            check_window(window)
        assert caught.value.message == "CM-1: the planned window ends before it starts"
    else:
        assert check_window(window) is None
