"""The web app without a browser: the headers every page carries, the one authorization table,
error pages, and the assets served from the package (these run even without Chromium)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from changegate.api.access import DECIDERS
from changegate.api.app import create_app
from changegate.bootstrap import App
from changegate.domain.changes import Window
from changegate.domain.identity import SignInMethod
from changegate.services import changes, demo, reviews, users, web_sessions
from changegate.web import access
from changegate.web.cookies import SESSION
from tests.builders import add_people, make_fields


@pytest.fixture
def browser_like(app: App) -> Iterator[TestClient]:
    """A client signed in as the ISO (a session made by the service, as sign-in makes it)."""
    add_people(app)
    secret, _ = app.run(
        lambda ctx: web_sessions.start(ctx, "ivy@example.com", SignInMethod.DEMO),
        actor="ivy@example.com",
    )
    with TestClient(create_app(app), base_url="http://testserver") as client:
        client.cookies.set(SESSION, secret)
        yield client


def test_every_page_carries_a_policy_without_inline_script(browser_like: TestClient) -> None:
    for path in ("/", "/changes", "/ledger", "/no-such-page"):
        answer = browser_like.get(path)
        headers = answer.headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert "frame-ancestors 'none'" in csp and headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["cache-control"] == "no-store"
        assert "<script>" not in answer.text and " style=" not in answer.text, path
    # The API keeps its own answers: a problem document, no page headers.
    api = browser_like.get("/api/v1/changes")
    assert api.status_code == 401 and "content-security-policy" not in api.headers


def test_an_unknown_change_is_a_404_page_that_says_so(browser_like: TestClient) -> None:
    answer = browser_like.get("/changes/CHG-404")
    assert answer.status_code == 404 and "text/html" in answer.headers["content-type"]
    assert "CHG-404" in answer.text and "Nothing was changed" in answer.text


def test_a_form_without_its_csrf_token_is_refused_and_writes_nothing(
    browser_like: TestClient,
) -> None:
    answer = browser_like.post(
        "/changes/CHG-1/decision",
        data={"role": "iso", "decision": "approved", "version": "1", "csrf_token": "x"},
    )
    assert answer.status_code == 403 and "did not come from changegate" in answer.text


def test_each_page_action_has_its_api_operations_roles(browser_like: TestClient) -> None:
    table = access.table_of(browser_like.app.openapi())  # type: ignore[attr-defined]
    assert table.roles["approve-change"] == frozenset(r.value for r in DECIDERS)
    assert table.roles["confirm-finding"] == frozenset({"iso"})
    assert table.roles["discipline"] == frozenset({"hr"})
    assert set(access.ACTIONS) <= set(table.roles)
    with pytest.raises(LookupError):
        access.table_of({"paths": {}})


def test_assets_come_from_the_package_with_their_licence(browser_like: TestClient) -> None:
    chart = browser_like.get("/static/chart.umd.min.js")
    assert chart.status_code == 200 and "Chart.js v4.6.1" in chart.text[:200]
    assert "MIT" in browser_like.get("/static/chart.js.LICENSE.md").text
    for sheet in ("changegate.css", "app.css"):  # the pages', and the sign-in pages'
        assert browser_like.get(f"/static/{sheet}").status_code == 200


PAGES = (
    "/",
    "/dashboard",
    "/changes",
    "/calendar",
    "/drift",
    "/waivers",
    "/findings",
    "/reviews",
    "/cab",
    "/people",
    "/ledger",
)


def test_no_page_is_readable_without_a_session(app: App) -> None:
    with TestClient(create_app(app)) as client:
        for path in PAGES:
            answer = client.get(path, follow_redirects=False)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/auth/login?next="), path
        # A session that ended is no session.
        client.cookies.set(SESSION, "not-a-session")
        assert client.get("/", follow_redirects=False).status_code == 303


def test_tokens_are_listed_for_admins_only(app: App, browser_like: TestClient) -> None:
    assert "API tokens" not in browser_like.get("/people").text  # the ISO
    app.run(lambda ctx: users.add_user(ctx, "root@example.com", "Root", ["admin"]))
    secret, _ = app.run(
        lambda ctx: web_sessions.start(ctx, "root@example.com", SignInMethod.DEMO),
        actor="root@example.com",
    )
    browser_like.cookies.set(SESSION, secret)
    assert "API tokens" in browser_like.get("/people").text


def test_the_calendar_highlights_two_changes_on_one_service_at_once(
    app: App, browser_like: TestClient
) -> None:
    start = datetime(2026, 12, 8, 14, 0, tzinfo=UTC)
    for minutes in (0, 60):  # the second opens while the first is still open
        window = Window(start + timedelta(minutes=minutes), start + timedelta(minutes=120))
        app.run(
            lambda ctx, w=window: changes.create(ctx, make_fields(window=w)),
            actor="alice@example.com",
            at=start - timedelta(days=7),
        )
    page = browser_like.get("/calendar?from=2026-12-07&to=2026-12-13").text
    assert "1 conflict" in page and "both change api-gateway" in page
    assert page.count('class="conflict"') == 3  # the conflict, and each change in its week


def test_the_dashboard_shows_the_figures_the_review_signs(app: App) -> None:
    from tests.web.conftest import QUARTER_START, with_demo_sign_in

    demo.seed(with_demo_sign_in(app), QUARTER_START)
    iso = "daniel.okafor@casperstudios.example"
    secret, _ = app.run(lambda ctx: web_sessions.start(ctx, iso, SignInMethod.DEMO), actor=iso)
    with TestClient(create_app(app)) as client:
        client.cookies.set(SESSION, secret)
        board = client.get("/dashboard?quarter=2026-Q3").text
        signed = app.read(lambda ctx: reviews.preview_quarter(ctx, "2026-Q3")).report
        preview = client.get("/reviews/quarterly/2026-Q3").text
    pir = signed["emergencies"]["pir_on_time_percent"]
    assert pir is not None and f"{pir:.1f} %" in board and f"<dd>{pir}</dd>" in preview
    for status, n in signed["changes_by_status"].items():
        assert f'<tr data-status="{status}"><td>{status}</td><td>{n}</td></tr>' in board
