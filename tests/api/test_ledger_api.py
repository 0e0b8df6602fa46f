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


def test_the_iso_records_a_passing_state_check_and_the_audit_stops_warning(api: Api) -> None:
    approved_change(api)
    preview = {"period": "2026-Q3"}
    before = ok(api.call("iso", "GET", "/api/v1/audits/preview", params=preview))
    assert before["run"]["warnings"] == [
        "ledger state not verified: no passing `changegate ledger verify --state --record` at "
        "or after 2026-10-01T00:00:00.000000+00:00, so the tables this audit read were not "
        "proven to match the ledger"
    ]
    refused = api.call("auditor", "POST", "/api/v1/ledger/state-verifications")
    assert refused.status_code == 403, refused.text
    recorded = ok(api.call("iso", "POST", "/api/v1/ledger/state-verifications"))
    assert (recorded["ok"], recorded["recorded"], recorded["state"]["mismatches"]) == (
        True,
        True,
        [],
    )
    after = ok(api.call("iso", "GET", "/api/v1/audits/preview", params=preview))
    assert after["run"]["warnings"] == []
    # The record itself is in the chain, which still verifies.
    chain = ok(api.call("auditor", "GET", "/api/v1/ledger/verify"))
    assert chain["count"] == recorded["count"] + 1 and chain["recorded"] is None
