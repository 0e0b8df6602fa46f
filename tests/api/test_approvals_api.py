"""An approval names the version its approver read (CM-2): a body `version` or `If-Match` with
the ETag of the change they fetched; a change that moved on answers 409 naming both."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import Api, new_change

APPROVE = {"role": "cab", "decision": "approved"}


def submitted(api: Api) -> str:
    key = new_change(api)
    assert api.call("requester", "POST", f"/api/v1/changes/{key}/submit").status_code == 200
    return key


def decide(api: Api, key: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    return api.client.post(
        f"/api/v1/changes/{key}/approvals", json=body, headers=api.as_("cab") | headers
    )


def edit(api: Api, key: str) -> None:
    body = {"rollback_plan": "re-import the old cert and restart"}
    assert api.call("requester", "PATCH", f"/api/v1/changes/{key}", json=body).status_code == 200


def test_the_etag_names_the_version_and_if_match_binds_the_approval(api: Api) -> None:
    key = submitted(api)
    read = api.call("cab", "GET", f"/api/v1/changes/{key}")
    tag = read.headers["ETag"]
    assert tag == f'"1-{read.json()["version_hash"]}"'
    done = decide(api, key, APPROVE, **{"If-Match": tag})
    assert done.status_code == 200, done.text
    assert [(a["version"], a["counts"]) for a in done.json()["approvals"]] == [(1, True)]


def test_an_edit_after_the_read_answers_409_naming_both_versions(api: Api) -> None:
    key = submitted(api)
    tag = api.call("cab", "GET", f"/api/v1/changes/{key}").headers["ETag"]
    edit(api, key)
    for stale in (
        decide(api, key, APPROVE, **{"If-Match": tag}),
        decide(api, key, APPROVE | {"version": 1}),
    ):
        assert stale.status_code == 409, stale.text
        problem = stale.json()
        assert stale.headers["content-type"] == "application/problem+json"
        assert (problem["your_version"], problem["current_version"]) == (1, 2)
        assert problem["detail"].startswith(f"{key} is at version 2; you decided on version 1")
    shown = api.call("cab", "GET", f"/api/v1/changes/{key}").json()
    assert shown["approvals"] == [] and shown["version"] == 2


def test_a_decision_that_names_no_version_is_428_and_writes_nothing(api: Api) -> None:
    key = submitted(api)
    before = api.call("auditor", "GET", "/api/v1/ledger/verify").json()["count"]
    missing = decide(api, key, APPROVE)
    assert missing.status_code == 428, missing.text
    assert "say which version you decide on" in missing.json()["detail"]
    assert api.call("auditor", "GET", "/api/v1/ledger/verify").json()["count"] == before


def test_if_match_that_is_not_our_etag_or_disagrees_with_the_body_is_bad_input(
    api: Api,
) -> None:
    key = submitted(api)
    tag = api.call("cab", "GET", f"/api/v1/changes/{key}").headers["ETag"]
    assert decide(api, key, APPROVE, **{"If-Match": "*"}).status_code == 422
    assert decide(api, key, APPROVE, **{"If-Match": '"1-abc"'}).status_code == 422
    assert decide(api, key, APPROVE | {"version": 2}, **{"If-Match": tag}).status_code == 422
    forged = '"1-' + "0" * 64 + '"'
    assert decide(api, key, APPROVE, **{"If-Match": forged}).status_code == 422
