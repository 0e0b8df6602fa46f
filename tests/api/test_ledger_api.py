"""The ledger over the API: verification, with the live tables compared when asked."""

from __future__ import annotations

from typing import Any

from changegate.services import ledger_state
from tests.api.conftest import Api, approved_change


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text[:500]
    body: dict[str, Any] = response.json()
    return body


def test_the_auditor_asks_the_api_for_the_state_check(api: Api) -> None:
    approved_change(api)
    plain = ok(api.call("auditor", "GET", "/api/v1/ledger/verify"))
    assert plain["ok"] is True and plain["state"] is None
    checked = ok(api.call("auditor", "GET", "/api/v1/ledger/verify", params={"state": "true"}))
    assert checked["ok"] is True
    assert checked["state"]["mismatches"] == []
    assert checked["state"]["checked"] == list(ledger_state.CHECKED)
