"""CAB meetings over HTTP on both databases: the same rules as the services, problem bodies for
every refusal, the minutes document as HTML and PDF, and who may do what."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from changegate.cli.main import run
from tests.api.conftest import ROLE_PEOPLE, Api, new_change

MEETINGS = "/api/v1/cab/meetings"
WHEN = "2026-12-03T14:00:00Z"


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    body: dict[str, Any] = response.json()
    return body


def problem(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == f"https://changegate.dev/problems/{kind}" and body["status"] == status
    return body


def submitted(api: Api, **fields: Any) -> str:
    key = new_change(api, **fields)
    ok(api.call("requester", "POST", f"/api/v1/changes/{key}/submit"))
    return key


def decision(api: Api, who: str, meeting: int, **body: Any) -> httpx.Response:
    return api.call(who, "POST", f"{MEETINGS}/{meeting}/decisions", json=body)


def test_a_meeting_from_agenda_to_closed_minutes(api: Api) -> None:
    key = submitted(api)
    made = ok(api.call("cab", "POST", MEETINGS, json={"at": WHEN, "title": "Weekly"}), 201)
    assert [(i["change"], i["kind"], i["version"]) for i in made["agenda"]] == [
        (key, "approval", 1)
    ]
    assert made["held_at"] == "2026-12-03T14:00:00+00:00" and made["status"] == "open"
    meeting = made["id"]
    for who in ("cab", "iso"):
        ok(api.call(who, "POST", f"{MEETINGS}/{meeting}/attendance"))
    ok(decision(api, "cab", meeting, change=key, outcome="approved", version=1))
    after = ok(decision(api, "iso", meeting, change=key, outcome="approved", version=1))
    assert after["agenda"][0]["change_status"] == "approved"
    assert [(d["by"], d["role"]) for d in after["agenda"][0]["decisions"]] == [
        ("bob@example.com", "cab"),
        ("ivy@example.com", "iso"),
    ]
    change = ok(api.call("auditor", "GET", f"/api/v1/changes/{key}"))
    assert [a["approver"] for a in change["approvals"]] == ["bob@example.com", "ivy@example.com"]
    ok(api.call("iso", "PUT", f"{MEETINGS}/{meeting}/minutes", json={"text": "All approved."}))
    closed = ok(api.call("cab", "POST", f"{MEETINGS}/{meeting}/close"))
    assert closed["status"] == "closed" and len(closed["minutes_sha256"]) == 64
    listed = ok(api.call("auditor", "GET", MEETINGS))
    assert (listed["total"], listed["items"][0]["id"], listed["items"][0]["attendees"]) == (
        1,
        meeting,
        2,
    )
    for path, body in (
        ("attendance", None),
        ("close", None),
        ("decisions", {"change": key, "outcome": "deferred", "version": 1, "reason": "x"}),
    ):
        problem(
            api.call("cab", "POST", f"{MEETINGS}/{meeting}/{path}", json=body),
            409,
            "invalid-transition",
        )
    refused = api.call("cab", "PUT", f"{MEETINGS}/{meeting}/minutes", json={"text": "new"})
    assert (
        "cannot edit minutes of a CAB meeting that is closed"
        in problem(refused, 409, "invalid-transition")["detail"]
    )


def test_the_minutes_document_as_html_and_pdf(api: Api) -> None:
    title = "<script>alert('cab')</script>"
    meeting = ok(api.call("cab", "POST", MEETINGS, json={"at": WHEN, "title": title}), 201)["id"]
    html = api.call("auditor", "GET", f"{MEETINGS}/{meeting}/minutes-document")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "<script>" not in html.text
    assert "&lt;script&gt;alert(&#39;cab&#39;)&lt;/script&gt;" in html.text
    pdf = api.call("auditor", "GET", f"{MEETINGS}/{meeting}/minutes-document?format=pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    problem(
        api.call("auditor", "GET", f"{MEETINGS}/{meeting}/minutes-document?format=doc"),
        422,
        "bad-input",
    )


def test_refusals_are_problems_and_write_nothing(api: Api) -> None:
    own = new_change(api)  # alice's, submitted below after an edit makes version 2
    ok(api.call("requester", "POST", f"/api/v1/changes/{own}/submit"))
    meeting = ok(api.call("cab", "POST", MEETINGS, json={"at": WHEN}), 201)["id"]
    ok(api.call("requester", "PATCH", f"/api/v1/changes/{own}", json={"scope": "all"}))
    problem(api.call("cab", "POST", MEETINGS, json={"at": "2026-12-03T14:00:00"}), 422, "bad-input")
    problem(api.call("cab", "POST", f"{MEETINGS}/99/attendance"), 404, "not-found")
    problem(
        decision(api, "cab", meeting, change=own, outcome="approved", version=2),
        409,
        "refused-by-rule",
    )
    other = api.call(
        "cab", "POST", f"{MEETINGS}/{meeting}/attendance", json={"person": "carol@example.com"}
    )
    assert "may mark only themself present" in problem(other, 403, "forbidden")["detail"]
    ok(api.call("cab", "POST", f"{MEETINGS}/{meeting}/attendance"))
    stale = decision(api, "cab", meeting, change=own, outcome="approved", version=1)
    assert problem(stale, 409, "version-moved")["current_version"] == 2
    problem(decision(api, "cab", meeting, change=own, outcome="maybe", version=2), 422, "bad-input")
    problem(
        decision(api, "cab", meeting, change=own, outcome="deferred", version=2), 422, "bad-input"
    )
    problem(api.call("requester", "POST", MEETINGS, json={"at": WHEN}), 403, "forbidden")
    problem(api.call("auditor", "POST", f"{MEETINGS}/{meeting}/close"), 403, "forbidden")
    shown = ok(api.call("auditor", "GET", f"{MEETINGS}/{meeting}"))
    assert shown["agenda"][0]["decisions"] == [] and shown["agenda"][0]["moved"] is True
    assert [a["email"] for a in shown["attendance"]] == ["bob@example.com"]
    assert ok(api.call("auditor", "GET", "/api/v1/ledger/verify"))["ok"] is True


def test_the_cli_runs_a_meeting_through_a_server_with_only_a_token(
    api: Api,
    server: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    key = submitted(api)
    monkeypatch.setenv("CHANGEGATE_URL", server)
    monkeypatch.setenv("CHANGEGATE_DATABASE_URL", "sqlite:////nonexistent/unused.db")

    def cli(who: str, *args: str) -> tuple[int, str, str]:
        monkeypatch.setenv("CHANGEGATE_TOKEN", api.secrets[ROLE_PEOPLE[who]])
        capsys.readouterr()
        code = run(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    assert cli("cab", "cab", "meeting", "create", "--at", WHEN)[0] == 0
    assert cli("cab", "cab", "meeting", "attend", "1")[0] == 0
    code, out, err = cli("cab", "cab", "meeting", "decide", "1", key, "approve", "--version", "1")
    assert code == 0 and "approved by bob@example.com as cab" in out, err
    code, _, err = cli("cab", "cab", "meeting", "decide", "1", key, "defer", "--version", "2")
    assert code == 2 and "a deferred item needs a --reason" in err
    code, _, err = cli("auditor", "cab", "meeting", "close", "1")
    assert code == 1 and "needs one of the roles" in err
    pdf = tmp_path / "minutes.pdf"
    code, _, err = cli(
        "auditor", "cab", "meeting", "minutes-doc", "1", "--format", "pdf", "--out", str(pdf)
    )
    assert code == 0 and pdf.read_bytes().startswith(b"%PDF"), err
    code, _, err = cli("auditor", "cab", "meeting", "minutes-doc", "9", "--out", str(pdf))
    assert code == 2 and "no CAB meeting 9" in err
