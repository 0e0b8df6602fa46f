"""CAB meetings on the pages, without a browser, on SQLite and PostgreSQL: call a meeting, mark
attendance, decide items, write minutes, close, print; the CLI's messages for SoD and version
binding; refusals for the wrong role, a missing CSRF token and bad input, each writing nothing."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from changegate.api.app import create_app
from changegate.bootstrap import App
from changegate.db.models import LedgerRecord
from changegate.domain.changes import Risk
from changegate.domain.identity import SignInMethod
from changegate.services import changes, users, web_sessions
from changegate.web.cookies import SESSION
from tests.builders import T0, add_people, make_fields
from tests.conftest import Result

ALICE, BOB, CAROL, IVY = (
    "alice@example.com",
    "bob@example.com",
    "carol@example.com",
    "ivy@example.com",
)
AUDITOR, RITA = "aud@example.com", "rita@example.com"


@dataclass
class Pages:
    """The web app over one database; `as_(email)` signs someone in (an OpenID session, made by
    the service as sign-in makes it) and returns their CSRF token."""

    app: App
    client: TestClient

    def as_(self, email: str) -> str:
        secret, csrf = self.app.run(
            lambda ctx: web_sessions.start(ctx, email, SignInMethod.OIDC), actor=email
        )
        self.client.cookies.set(SESSION, secret)
        return csrf

    def post(self, path: str, csrf: str | None, **form: Any) -> httpx.Response:
        data = form | ({"csrf_token": csrf} if csrf is not None else {})
        return self.client.post(path, data=data, follow_redirects=False)

    def ledger(self) -> int:
        count = select(func.count()).select_from(LedgerRecord)
        return int(self.app.read(lambda ctx: ctx.session.execute(count).scalar_one()))

    def actions(self, action: str) -> list[dict[str, Any]]:
        stmt = select(LedgerRecord.payload).where(LedgerRecord.action == action)
        rows = self.app.read(
            lambda ctx: list(ctx.session.execute(stmt.order_by(LedgerRecord.seq)).scalars())
        )
        return [json.loads(p) for p in rows]


@pytest.fixture
def pages(app: App) -> Iterator[Pages]:
    add_people(app)
    app.run(lambda ctx: users.add_user(ctx, RITA, "Rita Requester and CAB", ["requester", "cab"]))
    with TestClient(create_app(app), base_url="http://testserver") as client:
        yield Pages(app, client)


def submitted(pages: Pages, by: str = ALICE, **fields: Any) -> str:
    def make(ctx: Any) -> str:
        key = changes.create(ctx, make_fields(**fields)).key
        changes.submit(ctx, key)
        return key

    made: str = pages.app.run(make, actor=by, at=T0)
    return made


def call(pages: Pages, csrf: str, title: str = "Weekly CAB") -> int:
    answer = pages.post("/cab", csrf, held_at="2026-12-03T14:00", title=title)
    assert answer.status_code == 303, answer.text[:500]
    return int(answer.headers["location"].rsplit("/", 1)[1])


def error_of(answer: httpx.Response) -> str:
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', answer.text, re.DOTALL)
    assert found, answer.text[:500]
    return html.unescape(found.group(1))


def cli_error(result: Result) -> str:
    assert result.code in (1, 2) and result.err.startswith("error: "), result
    return result.err.removeprefix("error: ").strip()


def test_a_meeting_from_call_to_closed_minutes_on_the_pages(pages: Pages) -> None:
    key = submitted(pages)
    bob = pages.as_(BOB)
    assert "Call the meeting" in pages.client.get("/cab").text
    meeting = call(pages, bob)
    shown = pages.client.get(f"/cab/{meeting}").text
    assert "Weekly CAB" in shown and f"{key}</a>" in shown and "Mark me present" in shown
    assert f"Approve {key} v1" not in shown  # not present yet
    assert pages.post(f"/cab/{meeting}/attendance", bob).status_code == 303
    shown = pages.client.get(f"/cab/{meeting}").text
    assert "Mark me present" not in shown and f"Approve {key} v1" in shown
    answer = pages.post(
        f"/cab/{meeting}/decisions", bob, change=key, outcome="approved", version="1"
    )
    assert (answer.status_code, answer.headers["location"]) == (303, f"/cab/{meeting}#item-{key}")
    ivy = pages.as_(IVY)
    pages.post(f"/cab/{meeting}/attendance", ivy)
    pages.post(f"/cab/{meeting}/decisions", ivy, change=key, outcome="approved", version="1")
    shown = pages.client.get(f"/cab/{meeting}").text
    assert f"approved by {BOB} as cab (version 1)" in shown
    assert f"approved by {IVY} as iso (version 1)" in shown
    assert 'class="status s-approved">approved' in shown  # the change, through its approvals
    assert f"Approve {key} v1" not in shown  # nothing awaits on it any more
    pages.post(f"/cab/{meeting}/minutes", ivy, text="CHG approved.\r\nDeploy Thursday.")
    assert pages.actions("cab.minutes_edited") == [{"minutes": "CHG approved.\nDeploy Thursday."}]
    assert pages.post(f"/cab/{meeting}/close", ivy).status_code == 303
    shown = pages.client.get(f"/cab/{meeting}").text
    (closed,) = pages.actions("cab.meeting_closed")
    assert f'minutes SHA-256 <span class="digest">{closed["sha256"]}</span>' in shown
    for gone in ("Save the minutes", "Close the meeting", "Mark me present", "Approve "):
        assert gone not in shown, gone
    assert "CHG approved.\nDeploy Thursday." in shown


def test_the_printable_minutes_as_html_and_pdf(pages: Pages) -> None:
    bob = pages.as_(BOB)
    meeting = call(pages, bob, title="<script>alert('cab')</script>")
    pages.as_(AUDITOR)  # everyone reads them
    assert f'href="/cab/{meeting}/minutes"' in pages.client.get(f"/cab/{meeting}").text
    document = pages.client.get(f"/cab/{meeting}/minutes")
    assert document.status_code == 200 and "<script>alert" not in document.text
    # The document's own style block, admitted by its hash; no script at all.
    style = re.search(r"<style>(.*?)</style>", document.text, re.DOTALL)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    policy = document.headers["content-security-policy"]
    assert f"style-src 'sha256-{digest}'" in policy and "default-src 'none'" in policy
    pdf = pages.client.get(f"/cab/{meeting}/minutes.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert pages.client.get("/cab/99/minutes").status_code == 404


def test_sod_and_a_moved_version_say_what_the_cli_says(
    pages: Pages, cli: Callable[..., Result]
) -> None:
    own = submitted(pages, by=RITA)  # Rita sits on the CAB and requested this change
    moved = submitted(pages)
    meeting = call(pages, pages.as_(BOB))
    pages.app.run(lambda ctx: changes.edit(ctx, moved, {"scope": "all of it"}), actor=ALICE)
    rita = pages.as_(RITA)
    pages.post(f"/cab/{meeting}/attendance", rita)
    shown = pages.client.get(f"/cab/{meeting}").text
    assert f"{moved} has moved to version 2 since the agenda was made (version 1)" in shown
    assert 'name="version" value="2"' in shown and f"Approve {moved} v2" in shown
    before = pages.ledger()
    sod = pages.post(f"/cab/{meeting}/decisions", rita, change=own, outcome="approved", version="1")
    stale = pages.post(
        f"/cab/{meeting}/decisions", rita, change=moved, outcome="approved", version="1"
    )
    assert (sod.status_code, stale.status_code) == (409, 409)
    assert pages.ledger() == before
    said = cli(
        "cab", "meeting", "decide", str(meeting), own, "approve", "--version", "1", "--as", RITA
    )
    assert error_of(sod) == cli_error(said) and "SoD: rita@example.com requested" in error_of(sod)
    said = cli(
        "cab", "meeting", "decide", str(meeting), moved, "approve", "--version", "1", "--as", RITA
    )
    assert error_of(stale) == cli_error(said)
    assert "is at version 2; you decided on version 1" in error_of(stale)
    pages.post(f"/cab/{meeting}/decisions", rita, change=moved, outcome="approved", version="2")
    assert f"approved by {RITA} as cab (version 2)" in pages.client.get(f"/cab/{meeting}").text


def test_a_high_risk_item_needs_the_quorum_before_the_change_is_approved(pages: Pages) -> None:
    key = submitted(pages, risk=Risk.HIGH)  # policy: 2 CAB approvals and the ISO
    meeting = call(pages, pages.as_(BOB))
    statuses = []
    for who in (BOB, IVY, CAROL):
        csrf = pages.as_(who)
        pages.post(f"/cab/{meeting}/attendance", csrf)
        pages.post(f"/cab/{meeting}/decisions", csrf, change=key, outcome="approved", version="1")
        shown = pages.client.get(f"/cab/{meeting}").text
        statuses.append(re.findall(r"change <span class=\"status s-(\w+)\"", shown)[0])
    assert statuses == ["submitted", "submitted", "approved"]


def test_a_deferral_names_its_reason_and_leaves_the_change_awaiting(pages: Pages) -> None:
    key = submitted(pages)
    bob = pages.as_(BOB)
    meeting = call(pages, bob)
    pages.post(f"/cab/{meeting}/attendance", bob)
    answer = pages.post(
        f"/cab/{meeting}/decisions",
        bob,
        change=key,
        outcome="deferred",
        version="1",
        reason="Load test first.",
    )
    assert answer.status_code == 303
    shown = pages.client.get(f"/cab/{meeting}").text
    assert f"deferred by {BOB} as cab (version 1)" in shown and "Load test first." in shown
    assert f"Approve {key} v1" in shown  # still awaiting


# (path under /cab, form) for every CAB action on the pages.
ACTIONS: list[tuple[str, dict[str, str]]] = [
    ("", {"held_at": "2026-12-03T14:00"}),
    ("/{m}/attendance", {}),
    ("/{m}/decisions", {"change": "{key}", "outcome": "deferred", "version": "1", "reason": "x"}),
    ("/{m}/minutes", {"text": "forged"}),
    ("/{m}/close", {}),
]


@pytest.mark.parametrize("who", [AUDITOR, ALICE])
def test_who_may_not_act_sees_no_form_and_a_forged_post_is_refused(pages: Pages, who: str) -> None:
    assert ACTIONS
    key = submitted(pages)
    meeting = call(pages, pages.as_(BOB))
    csrf = pages.as_(who)
    shown = pages.client.get("/cab").text + pages.client.get(f"/cab/{meeting}").text
    for button in ("Call the meeting", "Mark me present", "Save the minutes", "Close the meeting"):
        assert button not in shown, button
    before = pages.ledger()
    for path, form in ACTIONS:
        filled = {k: v.format(key=key) for k, v in form.items()}
        answer = pages.post("/cab" + path.format(m=meeting), csrf, **filled)
        assert answer.status_code == 403, (path, answer.text[:300])
        assert f"{who} needs one of the roles cab, iso" in error_of(answer)
    assert pages.ledger() == before


def test_a_post_without_this_sessions_csrf_token_is_refused(pages: Pages) -> None:
    key = submitted(pages)
    bob = pages.as_(BOB)
    meeting = call(pages, bob)
    before = pages.ledger()
    for path, form in ACTIONS:
        filled = {k: v.format(key=key) for k, v in form.items()}
        target = "/cab" + path.format(m=meeting)
        assert pages.post(target, "not-the-token", **filled).status_code == 403, path
        assert pages.post(target, None, **filled).status_code == 400, path
    assert pages.ledger() == before


@pytest.mark.parametrize(
    ("path", "form", "status", "said"),
    [
        ("", {"held_at": "next thursday"}, 400, "The form's held at:"),
        ("/{m}/decisions", {"outcome": "maybe"}, 400, "The form's outcome:"),
        ("/{m}/decisions", {"version": "0"}, 400, "The form's version:"),
        ("/{m}/decisions", {"outcome": "deferred"}, 422, "a deferred item needs a --reason"),
        ("/{m}/decisions", {"change": "CHG-999"}, 404, "CHG-999"),
        ("/{m}/minutes", {"text": "x" * 100_001}, 400, "The form's text:"),
        ("/99/attendance", {}, 404, "99"),
    ],
)
def test_bad_input_is_a_4xx_page_that_says_what_and_writes_nothing(
    pages: Pages, path: str, form: dict[str, str], status: int, said: str
) -> None:
    key = submitted(pages)
    bob = pages.as_(BOB)
    meeting = call(pages, bob)
    pages.post(f"/cab/{meeting}/attendance", bob)
    before = pages.ledger()
    base = {"change": key, "outcome": "approved", "version": "1"} if "decisions" in path else {}
    answer = pages.post("/cab" + path.format(m=meeting), bob, **(base | form))
    assert answer.status_code == status, answer.text[:500]
    assert said in error_of(answer) and "Nothing was" in answer.text
    assert pages.ledger() == before
