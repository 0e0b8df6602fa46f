"""What the server refuses before a route reads the body, and bodies that are hostile in shape:
each answers 4xx with a problem body, never 5xx, and writes nothing."""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import Api

JSON = {"content-type": "application/json"}
CHANGE = {"title": "t", "scope": "s", "impact": "i", "rollback_plan": "r", "ticket": "ENG-1"}


def ledger_count(api: Api) -> int:
    count: int = api.call("auditor", "GET", "/api/v1/ledger/verify").json()["count"]
    return count


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic dTpw"}])
def test_no_bearer_token_is_401_before_the_body_is_read(api: Api, headers: dict[str, str]) -> None:
    # Malformed JSON, and over the size limit by its header: the token is checked first.
    r = api.client.post(
        "/api/v1/changes", content=b"{", headers=JSON | headers | {"content-length": "1"}
    )
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "token", ["cgt_nope", "x" * 47, "cgt_" + "A" * 42 + "!", "cgt_" + "A" * 44, "cgt_" + "é" * 43]
)
def test_a_token_no_one_could_have_made_is_401_before_the_body_is_read(
    api: Api, token: str
) -> None:
    r = api.client.post(
        "/api/v1/changes",
        content=b"{",
        headers=JSON | {"Authorization": f"Bearer {token}".encode()},  # raw UTF-8 bytes too
    )
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert r.json()["detail"] == "invalid, expired or revoked token"


def test_a_well_formed_unknown_token_is_401_after_the_body_is_parsed(api: Api) -> None:
    # Shaped like a real one: only the database can say no, in the use case's transaction.
    unknown = {"Authorization": "Bearer cgt_" + "A" * 43}
    r = api.client.post("/api/v1/changes", json={"title": "t"}, headers=unknown)
    assert r.status_code == 401 and r.json()["detail"] == "invalid, expired or revoked token"
    assert r.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_a_body_over_the_limit_is_413_by_its_length_and_by_its_stream(api: Api) -> None:
    limit = api.app.settings.max_body_bytes
    assert limit == 52 * 1024 * 1024
    before = ledger_count(api)
    big = b" " * (limit + 1)
    declared = api.client.post("/api/v1/changes", content=big, headers=api.as_("requester") | JSON)
    assert declared.status_code == 413, declared.text
    assert declared.json()["detail"] == "the request body is over the 54,525,952-byte limit"

    def chunks() -> object:
        for _ in range(53):
            yield b" " * (1024 * 1024)

    streamed = api.client.post(
        "/api/v1/changes", content=chunks(), headers=api.as_("requester") | JSON
    )
    assert streamed.status_code == 413, streamed.text
    assert ledger_count(api) == before


def test_a_body_nested_too_deeply_is_bad_input(api: Api) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    r = api.client.post("/api/v1/changes", content=deep, headers=api.as_("requester") | JSON)
    assert (r.status_code, r.json()["detail"]) == (400, "body: nested too deeply")


def test_a_nul_is_refused_and_the_text_backslash_u0000_is_stored_as_sent(api: Api) -> None:
    nul = api.call("requester", "POST", "/api/v1/changes", json=CHANGE | {"title": "a\x00b"})
    assert nul.status_code == 422
    assert nul.json()["detail"] == "body: text may not contain NUL characters"
    text = api.call("requester", "POST", "/api/v1/changes", json=CHANGE | {"title": "a\\u0000b"})
    assert text.status_code == 201, text.text
    assert text.json()["title"] == "a\\u0000b" and len(text.json()["title"]) == 8


def test_a_webhook_body_nested_too_deeply_is_answered_not_a_500(api: Api) -> None:
    # Unsigned, so refused at the signature when the GitHub App is configured; otherwise 404.
    deep = json.dumps({"a": 1})[:-1] + "," + '"b":' + "[" * 50_000 + "]" * 50_000 + "}"
    r = api.client.post("/hooks/github", content=deep, headers=JSON)
    assert r.status_code < 500, r.text
