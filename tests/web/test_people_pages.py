"""People and tokens on the pages, without a browser, on SQLite and PostgreSQL: an admin adds a
person, changes their roles, disables and enables them, issues a token (the secret shown once,
stored only as its hash) and revokes it, with `changegate user|token`'s messages; anyone else
sees no form and a forged post is refused; a missing CSRF token and bad input write nothing."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from changegate.api.app import create_app
from changegate.bootstrap import App
from changegate.db.models import Token
from changegate.services import users
from changegate.services.views import users as views
from tests.builders import add_people
from tests.conftest import Result
from tests.web.test_cab_pages import Pages, cli_error, error_of

ADMIN, IVY, ALICE, NEW = (
    "root@example.com",
    "ivy@example.com",
    "alice@example.com",
    "nia@example.com",
)


@pytest.fixture
def pages(app: App) -> Iterator[Pages]:
    add_people(app)
    app.run(lambda ctx: users.add_user(ctx, ADMIN, "Root Admin", ["admin"]))
    with TestClient(create_app(app), base_url="http://testserver") as client:
        yield Pages(app, client)


def roles_of(pages: Pages, email: str) -> tuple[list[str], bool]:
    out = pages.app.read(lambda ctx: views.show(ctx, email))
    return out.roles, out.active


def test_an_admin_adds_a_person_and_changes_their_roles(pages: Pages) -> None:
    root = pages.as_(ADMIN)
    assert "Add a person or principal" in pages.client.get("/people").text
    answer = pages.post(
        "/people", root, email=" Nia@Example.com ", name="Nia New", role="requester"
    )
    assert (answer.status_code, answer.headers["location"]) == (303, f"/people/{NEW}")
    assert pages.actions("user.added")[-1] == {
        "email": NEW,
        "name": "Nia New",
        "roles": ["requester"],
    }
    shown = pages.client.get(f"/people/{NEW}").text
    assert "Nia New" in shown and 'value="requester" checked' in shown
    # Requester for CAB and ISO: added first, then removed, in one transaction.
    pages.client.post(f"/people/{NEW}/roles", data={"csrf_token": root, "role": ["cab", "iso"]})
    assert roles_of(pages, NEW) == (["cab", "iso"], True)
    assert [r["role"] for r in pages.actions("user.role_added")] == ["cab", "iso"]
    assert [r["role"] for r in pages.actions("user.role_removed")] == ["requester"]
    # Nothing changed, nothing written.
    before = pages.ledger()
    pages.client.post(f"/people/{NEW}/roles", data={"csrf_token": root, "role": ["cab", "iso"]})
    assert pages.ledger() == before


def test_an_email_with_url_characters_has_its_own_page(pages: Pages) -> None:
    odd = "o#d/d?x@example.com"
    answer = pages.post("/people", pages.as_(ADMIN), email=odd, name="Odd", role="auditor")
    assert answer.headers["location"] == "/people/o%23d%2Fd%3Fx@example.com"
    shown = pages.client.get(answer.headers["location"])
    assert shown.status_code == 200 and "<h1>Odd</h1>" in shown.text
    link = re.search(r'<a href="(/people/o[^"]+)">', pages.client.get("/people").text)
    assert link is not None and "<h1>Odd</h1>" in pages.client.get(link.group(1)).text


def test_no_role_left_says_what_the_cli_says_and_writes_nothing(
    pages: Pages, cli: Callable[..., Result]
) -> None:
    root = pages.as_(ADMIN)
    before = pages.ledger()
    answer = pages.post(f"/people/{ALICE}/roles", root)  # nothing ticked
    assert answer.status_code == 422
    said = cli("user", "role", "remove", ALICE, "requester")
    assert error_of(answer) == cli_error(said)
    assert "the only role of alice@example.com; disable the user instead" in error_of(answer)
    assert roles_of(pages, ALICE) == (["requester"], True) and pages.ledger() == before


def test_an_admin_disables_and_enables_a_person(pages: Pages) -> None:
    root = pages.as_(ADMIN)
    assert pages.post(f"/people/{ALICE}/disable", root).status_code == 303
    assert roles_of(pages, ALICE) == (["requester"], False)
    shown = pages.client.get(f"/people/{ALICE}").text
    assert f"Enable {ALICE}" in shown and f"Disable {ALICE}" not in shown
    again = pages.post(f"/people/{ALICE}/disable", root)
    assert (again.status_code, error_of(again)) == (422, f"{ALICE} is already disabled")
    assert pages.post(f"/people/{ALICE}/enable", root).status_code == 303
    assert roles_of(pages, ALICE) == (["requester"], True)
    assert [r["email"] for r in pages.actions("user.disabled")] == [ALICE]
    assert [r["email"] for r in pages.actions("user.enabled")] == [ALICE]


def test_a_token_is_shown_once_stored_as_its_hash_and_revoked(pages: Pages) -> None:
    root = pages.as_(ADMIN)
    answer = pages.post(f"/people/{IVY}/tokens", root, name="laptop", expires_days="30")
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    secret = answer.text.split('id="secret" class="secret" type="text" readonly value="')[1]
    secret = secret.split('"', 1)[0]
    assert secret.startswith("cgt_") and "shown this once and never again" in answer.text
    stored = select(Token.id, Token.secret_hash, Token.prefix, Token.name)
    ((token_id, hashed, prefix, name),) = pages.app.read(
        lambda ctx: [tuple(r) for r in ctx.session.execute(stored)]
    )
    assert hashed == hashlib.sha256(secret.encode()).hexdigest()
    assert name == "laptop" and secret not in (prefix, name)
    for page in ("/people", f"/people/{IVY}"):
        assert secret not in pages.client.get(page).text, page
    assert secret[:10] in pages.client.get("/people").text  # its prefix, to recognise it
    me = pages.client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json()["email"] == IVY
    assert pages.post(f"/people/tokens/{token_id}/revoke", root).status_code == 303
    me = pages.client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 401
    again = pages.post(f"/people/tokens/{token_id}/revoke", root)
    assert (again.status_code, error_of(again)) == (422, f"token {token_id} is already revoked")


# (path, form) for every admin action on the pages.
ACTIONS: list[tuple[str, dict[str, str]]] = [
    ("/people", {"email": NEW, "name": "Nia New", "role": "admin"}),
    (f"/people/{IVY}/roles", {"role": "admin"}),
    (f"/people/{IVY}/disable", {}),
    (f"/people/{ALICE}/tokens", {"name": "mine"}),
    ("/people/tokens/{token}/revoke", {}),
]


@pytest.mark.parametrize("who", [IVY, ALICE, "aud@example.com"])
def test_anyone_but_an_admin_sees_no_form_and_a_forged_post_is_refused(
    pages: Pages, who: str
) -> None:
    assert ACTIONS
    pages.post(f"/people/{IVY}/tokens", pages.as_(ADMIN))
    token = pages.app.read(lambda ctx: ctx.session.execute(select(Token.id)).scalar_one())
    csrf = pages.as_(who)
    shown = pages.client.get("/people").text + pages.client.get(f"/people/{IVY}").text
    for form in ("Add a person", "Revoke token", "Save the roles", "Disable", "Issue a token"):
        assert form not in shown, form
    before = pages.ledger()
    for path, form in ACTIONS:
        answer = pages.post(path.format(token=token), csrf, **form)
        assert answer.status_code == 403, (path, answer.text[:300])
        assert f"{who} needs one of the roles admin" in error_of(answer)
    assert pages.ledger() == before and roles_of(pages, IVY) == (["iso"], True)


def test_a_post_without_this_sessions_csrf_token_is_refused(pages: Pages) -> None:
    pages.post(f"/people/{IVY}/tokens", pages.as_(ADMIN))
    token = pages.app.read(lambda ctx: ctx.session.execute(select(Token.id)).scalar_one())
    before = pages.ledger()
    for path, form in ACTIONS:
        target = path.format(token=token)
        assert pages.post(target, "not-the-token", **form).status_code == 403, path
        assert pages.post(target, None, **form).status_code == 400, path
    assert pages.ledger() == before


@pytest.mark.parametrize(
    ("path", "form", "status", "said"),
    [
        ("/people", {"email": "nia", "name": "N", "role": "cab"}, 422, "not an email address"),
        ("/people", {"email": IVY, "name": "Ivy", "role": "cab"}, 422, f"{IVY} already exists"),
        ("/people", {"email": NEW, "name": " ", "role": "cab"}, 422, "give the person's --name"),
        ("/people", {"email": NEW, "name": "Nia"}, 422, "give at least one --role"),
        ("/people", {"email": NEW, "name": "Nia", "role": "king"}, 422, "unknown role 'king'"),
        (f"/people/{IVY}/roles", {"role": "king"}, 422, "unknown role 'king'"),
        (f"/people/{NEW}/disable", {}, 404, f"no user {NEW}"),
        (f"/people/{NEW}/tokens", {}, 404, f"no user {NEW}"),
        (f"/people/{IVY}/tokens", {"expires_days": "0"}, 400, "The form's expires days:"),
        ("/people/tokens/99/revoke", {}, 404, "99"),
    ],
)
def test_bad_input_is_a_4xx_page_that_says_what_and_writes_nothing(
    pages: Pages, path: str, form: dict[str, str], status: int, said: str
) -> None:
    root = pages.as_(ADMIN)
    before = pages.ledger()
    answer = pages.post(path, root, **form)
    assert answer.status_code == status, answer.text[:500]
    assert said in error_of(answer) and "Nothing was" in answer.text
    assert pages.ledger() == before
