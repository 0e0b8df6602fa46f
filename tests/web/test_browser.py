"""The web app in a real browser: sign-in, acting from the inbox, the dashboard following,
cross-site and forged posts refused, every page accessible, screenshots for the docs."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from changegate.services import users
from tests.identity.conftest import claims_for
from tests.web.conftest import SCREENSHOTS, Site, axe_violations, sign_in

ISO = "daniel.okafor@casperstudios.example"
CAB = "marcus.bell@casperstudios.example"
AUDITOR = "tom.whitfield@casperstudios.example"
HR = "rosa.delgado@casperstudios.example"
REQUESTER = "sofia.martins@casperstudios.example"
ADMIN = "it.admin@casperstudios.example"  # not in the demo: added by the test that needs one
OWED = "CHG-47"  # an emergency whose requester (Sofia) owes its PIR
WAITING = "CHG-44"  # submitted, awaiting one CAB approval and the ISO's (services/demo.py)
PAGES = {
    "home": "/",
    "dashboard": "/dashboard?quarter=2026-Q3",
    "changes": "/changes",
    "change": "/changes/CHG-4",
    "change-to-decide": f"/changes/{WAITING}",
    "calendar": "/calendar?from=2026-08-31&to=2026-10-11",
    "drift": "/drift",
    "waivers": "/waivers",
    "waiver": "/waivers/WVR-1",
    "findings": "/findings",
    "finding": "/findings/FND-1",
    "reviews": "/reviews",
    "review-preview": "/reviews/quarterly/2026-Q3",
    "cab": "/cab",
    "meeting": "/cab/1",  # the demo's closed meeting
    "people": "/people",
    "person": f"/people/{ISO}",
    "ledger": "/ledger?verify=true",
}


def _status_counts(page: Any) -> dict[str, int]:
    page.goto("/dashboard?quarter=2026-Q3")
    rows = page.locator("#by-status tbody tr")
    return {
        rows.nth(i).get_attribute("data-status"): int(rows.nth(i).locator("td").nth(1).inner_text())
        for i in range(rows.count())
    }


def _csp_errors(page: Any) -> list[str]:
    found: list[str] = []
    page.on(
        "console",
        lambda m: found.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return found


def test_no_page_without_a_session(site: Site, browser: Any) -> None:
    page = site.page(browser)
    page.goto("/changes")
    assert "/auth/demo" in page.url  # sent to sign in (the demo sign-in, no identity provider)
    sign_in(page, AUDITOR, "/changes")
    assert page.url.endswith("/changes")
    assert page.get_by_role("heading", name="Changes").is_visible()


def test_approving_from_the_inbox_moves_the_dashboard(site: Site, browser: Any) -> None:
    page = site.page(browser)
    csp = _csp_errors(page)
    sign_in(page, CAB)
    before = _status_counts(page)
    page.goto("/")
    page.get_by_role("button", name=f"Approve {WAITING} v1 as cab").click()
    page.wait_for_url(f"{site.url}/")
    assert page.get_by_role("button", name=f"Approve {WAITING} v1 as cab").count() == 0
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, ISO)
    page.get_by_role("button", name=f"Approve {WAITING} v1 as iso").click()
    page.wait_for_url(f"{site.url}/")
    page.goto(f"/changes/{WAITING}")
    assert "approved" in page.locator("main p").first.inner_text()
    approvals = page.locator("ul.approvals").inner_text()
    assert CAB in approvals and ISO in approvals

    after = _status_counts(page)
    assert after["approved"] == before["approved"] + 1
    assert after.get("submitted", 0) == before["submitted"] - 1
    assert csp == []


def test_the_same_segregation_of_duties_message_as_the_cli(site: Site, browser: Any) -> None:
    page = site.page(browser)
    sign_in(page, CAB)
    page.goto(f"/changes/{WAITING}")
    page.get_by_role("button", name="Approve", exact=True).click()
    page.goto(f"/changes/{WAITING}")
    page.get_by_role("button", name="Approve", exact=True).click()  # the same person again
    assert page.locator("p.error").is_visible()
    assert "already" in page.locator("p.error").inner_text()


def test_a_cross_site_form_post_is_refused(site: Site, browser: Any) -> None:
    page = site.page(browser)
    sign_in(page, ISO)
    # Another origin's page, posting with the victim's cookies.
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    attacker = httpx.Client(cookies=cookies)
    forged = attacker.post(
        f"{site.url}/changes/{WAITING}/decision",
        data={"role": "iso", "decision": "approved", "version": "1", "csrf_token": "guess"},
        headers={"Origin": "https://evil.example"},
    )
    assert forged.status_code == 403
    # Even with the right token, a post from another origin is refused.
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    forged = attacker.post(
        f"{site.url}/changes/{WAITING}/decision",
        data={"role": "iso", "decision": "approved", "version": "1", "csrf_token": token},
        headers={"Origin": "https://evil.example"},
    )
    assert forged.status_code == 403
    page.goto(f"/changes/{WAITING}")
    assert "No decisions on this version" in page.locator("ul.approvals").inner_text()


def test_an_auditor_sees_no_button_and_a_forged_post_is_refused(site: Site, browser: Any) -> None:
    page = site.page(browser)
    sign_in(page, AUDITOR)
    page.goto(f"/changes/{WAITING}")
    assert page.get_by_role("button", name="Approve").count() == 0
    page.goto("/findings/FND-1")
    assert page.get_by_role("button", name="Confirm the violation").count() == 0
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    # The auditor's own session and token, posting the form the page never showed them.
    answer = page.request.post(
        f"/changes/{WAITING}/decision",
        form={"role": "cab", "decision": "approved", "version": "1", "csrf_token": token},
    )
    assert answer.status == 403
    assert "needs one of the roles" in answer.text()
    page.goto(f"/changes/{WAITING}")
    assert "No decisions on this version" in page.locator("ul.approvals").inner_text()


def test_bad_form_input_is_a_clear_4xx_and_writes_nothing(site: Site, browser: Any) -> None:
    page = site.page(browser)
    sign_in(page, ISO)
    page.goto(f"/changes/{WAITING}")
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    answer = page.request.post(
        f"/changes/{WAITING}/decision",
        form={"role": "king", "decision": "approved", "version": "1", "csrf_token": token},
    )
    assert answer.status == 400 and "Nothing was saved" in answer.text()
    answer = page.request.post(
        f"/changes/{WAITING}/decision",
        form={"role": "iso", "decision": "rejected", "version": "1", "csrf_token": token},
    )
    assert answer.status == 422 and "a rejection needs a --comment" in answer.text()
    page.goto(f"/changes/{WAITING}")
    assert "No decisions on this version" in page.locator("ul.approvals").inner_text()


@pytest.mark.parametrize("who", [ISO, HR])
def test_every_page_is_accessible_and_served_under_the_policy(
    site: Site, browser: Any, who: str
) -> None:
    page = site.page(browser)
    csp = _csp_errors(page)
    sign_in(page, who)
    problems = {}
    for name, path in PAGES.items():
        answer = page.goto(path)
        # HR may not preview the ISO's metrics review (the API's table): an error page, 403.
        wanted = 403 if (who, name) == (HR, "review-preview") else 200
        assert answer is not None and answer.status == wanted, (path, answer and answer.status)
        assert "script-src 'self'" in answer.headers["content-security-policy"]
        found = axe_violations(page)
        if found:
            problems[path] = found
        if site.db == "sqlite" and who == ISO:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            # The ledger's head hash covers this run's sign-ins (real time): masked, so the
            # committed screenshot changes only when the page does.
            masked = [page.locator(".digest")] if name == "ledger" else []
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, mask=masked)
    assert problems == {}
    assert csp == []


def test_sign_in_through_the_identity_provider(oidc_site: Site, browser: Any) -> None:
    issuer = oidc_site.app.settings.oidc.issuer  # type: ignore[union-attr]
    claims_for(issuer, ISO)
    page = oidc_site.page(browser)
    page.goto("/changes")
    assert page.url.startswith(issuer)  # the provider's own sign-in page
    page.locator('input[name="sub"]').fill(ISO)
    page.locator('form [type="submit"]').first.click()
    page.wait_for_url(f"{oidc_site.url}/changes")
    assert "Daniel Okafor" in page.locator("header .who").inner_text()
    page.goto("/")
    page.get_by_role("button", name=f"Approve {WAITING} v1 as iso").click()
    page.wait_for_url(f"{oidc_site.url}/")
    page.goto(f"/changes/{WAITING}")
    assert f"approved by {ISO} as iso" in page.locator("ul.approvals").inner_text()
    page.get_by_role("button", name="Sign out").click()
    page.goto("/")
    assert page.url.startswith(issuer)  # signed out: the next page asks to sign in again


def test_a_pir_owed_is_recorded_from_the_home_page(site: Site, browser: Any) -> None:
    page = site.page(browser)
    sign_in(page, REQUESTER)
    page.get_by_role("link", name=f"Open {OWED}").click()
    page.get_by_label("What happened, what was learned").fill("Rotated the IdP certificate.")
    page.get_by_role("button", name="Record the review").click()
    page.wait_for_url(f"{site.url}/changes/{OWED}")
    assert page.get_by_role("button", name="Record the review").count() == 0
    assert "change.pir_recorded" in page.locator("ol.timeline").inner_text()
    page.goto("/")
    assert page.get_by_role("link", name=f"Open {OWED}").count() == 0


def test_a_waiver_is_requested_approved_and_reviewed_on_the_pages(site: Site, browser: Any) -> None:
    page = site.page(browser)
    sign_in(page, REQUESTER)
    page.goto("/waivers")
    page.get_by_label("Title").fill("Skip staging for the docs site")
    page.get_by_label("Justification").fill("Static pages, no staging environment exists.")
    page.get_by_label("Compensating controls").fill("Preview deploys reviewed by a second person.")
    page.get_by_label("Controls waived (e.g. CM-4)").fill("CM-4")
    page.locator('select[name="scope_kind"]').select_option("environment")
    page.get_by_label("Scope value (e.g. CHG-3)").fill("production")
    page.get_by_role("button", name="Request").click()
    key = page.url.rsplit("/", 1)[1]
    assert key.startswith("WVR-") and "requested" in page.locator("main p").first.inner_text()
    page.get_by_role("button", name="Sign out").click()
    for who, role in ((CAB, "cab"), (ISO, "iso")):
        sign_in(page, who)
        page.get_by_role("button", name=f"Approve {key} as {role}").click()
        page.wait_for_url(f"{site.url}/")
        page.get_by_role("button", name="Sign out").click()
    sign_in(page, ISO, f"/waivers/{key}")
    assert "active" in page.locator("main p").first.inner_text()
    page.get_by_label("close").check()
    page.get_by_label("Notes: what was reviewed").fill("The docs site moved to the static host.")
    page.get_by_role("button", name="Record the review").click()
    page.wait_for_url(f"{site.url}/waivers/{key}")
    assert "closed" in page.locator("main p").first.inner_text()


def test_the_iso_previews_the_quarters_metrics_then_signs_them(site: Site, browser: Any) -> None:
    page = site.page(browser)
    sign_in(page, ISO)
    page.get_by_role("link", name="Preview and sign 2026-Q3").click()
    digest = page.locator('input[name="sha256"]').get_attribute("value")
    assert digest and digest in page.locator("main").inner_text()
    page.get_by_label("Notes").fill("Two late emergency obligations; see FND-3 and FND-4.")
    page.get_by_role("button", name="Sign the review of 2026-Q3").click()
    page.wait_for_url(f"{site.url}/reviews/*")
    assert f"Signed by {ISO}" in page.locator("main").inner_text()
    assert "Two late emergency obligations" in page.locator("main").inner_text()
    page.goto("/")
    assert page.get_by_role("link", name="Preview and sign 2026-Q3").count() == 0


def test_the_iso_confirms_a_finding_and_hr_records_discipline(site: Site, browser: Any) -> None:
    page = site.page(browser)
    sign_in(page, ISO)
    button = page.get_by_role("button", name=re.compile(r"^Confirm FND-\d+$")).first
    key = button.inner_text().split()[-1]
    button.click()
    page.wait_for_url(f"{site.url}/")
    assert page.get_by_role("button", name=f"Confirm {key}", exact=True).count() == 0
    page.goto(f"/findings/{key}")
    assert "confirmed" in page.locator("h1").inner_text()
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, HR, f"/findings/{key}")
    page.get_by_label("Person (email)").fill(REQUESTER)
    page.locator('select[name="action"]').select_option("warning")
    page.get_by_role("button", name="Record the action").click()
    page.wait_for_url(f"{site.url}/findings/{key}")
    actions = page.locator("section[aria-labelledby=hr] ul").inner_text()
    assert f"warning for {REQUESTER} by {HR}" in actions


def _checked(page: Any, site: Site, name: str, masked: list[Any]) -> None:
    """axe-core on the page as it is now and, on SQLite, its screenshot for the docs (with
    what changes every run masked: real-time instants, a token's secret)."""
    assert axe_violations(page) == [], name
    if site.db == "sqlite":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, mask=masked)


def test_a_cab_member_calls_a_meeting_attends_and_approves_an_item(
    site: Site, browser: Any
) -> None:
    page = site.page(browser)
    csp = _csp_errors(page)
    sign_in(page, CAB, "/cab")
    page.get_by_label("Held at (UTC)").fill("2026-10-01T15:00")
    page.get_by_label("Title").fill("Weekly CAB")
    page.get_by_role("button", name="Call the meeting").click()
    page.wait_for_url(re.compile(r".*/cab/\d+$"))
    page.get_by_role("button", name="Mark me present").click()
    page.wait_for_load_state()
    assert "Marcus Bell (cab)" in page.locator("section[aria-labelledby=attendance]").inner_text()
    item = page.locator(f"#item-{WAITING}")
    _checked(page, site, "meeting-open", [page.locator("section[aria-labelledby=attendance] time")])
    item.get_by_role("button", name=f"Approve {WAITING} v1").click()
    page.wait_for_url(re.compile(rf".*/cab/\d+#item-{WAITING}$"))
    assert f"approved by {CAB} as cab (version 1)" in item.locator("ul.decisions").inner_text()
    assert item.get_by_role("button", name=f"Approve {WAITING} v1").count() == 0
    # The printable minutes, under their own policy (their style block admitted by its hash).
    page.get_by_role("link", name="HTML").click()
    assert "Weekly CAB" in page.locator("h1").inner_text()
    page.goto(f"/changes/{WAITING}")
    assert f"approved by {CAB} as cab" in page.locator("ul.approvals").inner_text()
    assert csp == []


def test_an_admin_issues_a_token_and_sees_its_secret_once(site: Site, browser: Any) -> None:
    site.app.run(
        lambda ctx: users.add_user(ctx, ADMIN, "Ines Admin", ["admin"]),
        at=datetime(2026, 7, 1, 8, 0, tzinfo=UTC),  # as the demo's people, for the screenshot
    )
    page = site.page(browser)
    csp = _csp_errors(page)
    sign_in(page, ADMIN, "/people")
    _checked(page, site, "people-admin", [page.locator(".at")])
    page.get_by_role("link", name=ISO).first.click()
    page.get_by_label("What it is for").fill("ISO laptop")
    page.get_by_role("button", name=f"Issue a token for {ISO}").click()
    page.wait_for_load_state()
    secret = page.get_by_label("Secret").input_value()
    token_id = page.locator("h1").inner_text().split()[1]
    assert secret.startswith("cgt_") and "never again" in page.locator("main").inner_text()
    masked = [page.locator("input.secret"), page.locator("dd code"), page.locator(".at")]
    _checked(page, site, "token", masked)
    me = httpx.get(f"{site.url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json()["email"] == ISO
    for again in ("/people", f"/people/{ISO}"):
        page.goto(again)
        assert secret not in page.content(), again
    page.goto("/people")
    page.get_by_role("button", name=f"Revoke token {token_id}").click()
    page.wait_for_url(f"{site.url}/people#tokens")
    me = httpx.get(f"{site.url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 401
    assert csp == []
