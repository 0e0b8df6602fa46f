"""`changegate linear check|sync` against a local Linear (changegate/sandbox/linear.py), on both
databases; and the adapter's GraphQL held to Linear's published schema."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from changegate.integrations.linear import OPERATIONS, LinearGraphQL, fresh, verify_signature
from changegate.integrations.linear_ports import LinearAttachment
from changegate.integrations.ports import IntegrationError
from changegate.sandbox.linear import API_KEY, FakeLinear, validation_errors
from tests.api.test_linear_hook import REQUESTER, TEMPLATE
from tests.builders import PEOPLE
from tests.conftest import Result


@pytest.fixture
def linear(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLinear]:
    with FakeLinear() as fake:
        monkeypatch.setenv("CHANGEGATE_LINEAR_API_KEY", API_KEY)
        monkeypatch.setenv("CHANGEGATE_LINEAR_WEBHOOK_SECRET", "s")
        monkeypatch.setenv("CHANGEGATE_LINEAR_URL", fake.url)
        yield fake
    assert not fake.errors, f"the local Linear refused what changegate sent: {fake.errors!r}"


def graphql(fake: FakeLinear, slept: list[float] | None = None) -> LinearGraphQL:
    waits = slept if slept is not None else []
    return LinearGraphQL(httpx.Client(timeout=10), fake.url, API_KEY, sleep=waits.append)


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_every_operation_is_valid_against_linears_schema(name: str) -> None:
    assert len(OPERATIONS) == 7
    assert validation_errors(OPERATIONS[name]) == []


def test_the_schema_check_catches_a_field_linear_lacks() -> None:
    assert validation_errors('query { issue(id: "x") { id approvedBy { email } } }')


def test_signature_and_freshness_follow_linears_sdk() -> None:
    body = b'{"action":"create"}'
    good = hmac.new(b"secret", body, hashlib.sha256).hexdigest()
    assert verify_signature(b"secret", body, good)
    assert not verify_signature(b"secret", body + b" ", good)
    assert not verify_signature(b"", body, good)
    assert not verify_signature(b"secret", body, None)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    ms = int(now.timestamp() * 1000)
    assert fresh(ms - 60_000, now) and not fresh(ms - 60_001, now) and not fresh(None, now)


def test_a_rate_limit_is_waited_out_from_its_headers(linear: FakeLinear) -> None:
    linear.ratelimit = 1
    slept: list[float] = []
    api = graphql(linear, slept)
    assert api.workspace().teams[0].key == "ENG"
    assert len(slept) == 1 and 0 < slept[0] <= 1.0
    assert linear.operations == ["Workspace", "Workspace"]


def test_a_rate_limit_that_persists_fails_with_429(linear: FakeLinear) -> None:
    linear.ratelimit = 5
    with pytest.raises(IntegrationError) as caught:
        graphql(linear).workspace()
    assert caught.value.status == 429


def test_a_comment_sent_twice_is_posted_once(linear: FakeLinear) -> None:
    issue = linear.add_issue("t", "d", REQUESTER)
    api = graphql(linear)
    assert api.comment(issue["id"], "0b7c4c52-5a39-4d2e-9c0c-1b1a2f3e4d5c", "hello") is True
    assert api.comment(issue["id"], "0b7c4c52-5a39-4d2e-9c0c-1b1a2f3e4d5c", "hello") is False
    assert linear.comments_on(issue) == ["hello"]
    link = LinearAttachment("https://cg.example/changes/CHG-1", "CHG-1", "submitted", {"a": 1})
    api.attach(issue["identifier"], link)
    api.attach(issue["id"], link)
    assert len(linear.attachments_on(issue)) == 1
    assert api.issue("ENG-999") is None


def seed(cli: Callable[..., Result]) -> None:
    assert cli("init").code == 0
    for email, (name, roles) in PEOPLE.items():
        args = ["user", "add", email, "--name", name]
        for role in roles:
            args += ["--role", role]
        result = cli(*args)
        assert result.code == 0, result.err


def test_check_prints_what_it_found(cli: Callable[..., Result], linear: FakeLinear) -> None:
    seed(cli)
    result = cli("linear", "check")
    assert result.code == 0, result.err
    for wanted in ("ENG (Engineering)", "change-request", "exception-request", "In Review"):
        assert wanted in result.out


def test_check_names_what_the_workspace_lacks_in_one_line(
    cli: Callable[..., Result], linear: FakeLinear
) -> None:
    seed(cli)
    linear.team["labels"].remove("exception-request")
    linear.team["states"] = [s for s in linear.team["states"] if s["name"] != "Todo"]
    result = cli("linear", "check")
    assert result.code == 2
    [line] = result.err.strip().splitlines()
    assert "no label 'exception-request'" in line and "no workflow state 'Todo'" in line


def test_check_without_settings_is_one_line_exit_2(
    cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CHANGEGATE_LINEAR_API_KEY", "CHANGEGATE_LINEAR_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    result = cli("linear", "check")
    assert result.code == 2 and "Linear is not configured" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_sync_applies_issues_whose_webhooks_were_lost(
    cli: Callable[..., Result], linear: FakeLinear
) -> None:
    seed(cli)
    issue = linear.add_issue("Rotate payments cert", TEMPLATE, REQUESTER)
    linear.add_issue("Fix typo", TEMPLATE, REQUESTER, labels=("bug",))
    result = cli("linear", "sync", "--since", "2020-01-01T00:00:00Z", "--json")
    assert result.code == 0, result.err
    done: dict[str, Any] = json.loads(result.out)
    assert (done["read"], done["outcomes"], done["queued"]) == (1, {"created": 1}, 1)
    shown = json.loads(cli("change", "show", "CHG-1", "--json").out)
    assert shown["ticket"] == issue["identifier"] and shown["status"] == "submitted"
    # From the cursor on, nothing is read twice.
    again = json.loads(cli("linear", "sync", "--json").out)
    assert again["outcomes"] in ({}, {"unchanged": 1})
    assert cli("change", "list", "--json").out.count('"key"') == 1


def test_sync_with_a_bad_since_is_one_line_exit_2(
    cli: Callable[..., Result], linear: FakeLinear
) -> None:
    result = cli("linear", "sync", "--since", "yesterday")
    assert result.code == 2 and "--since" in result.err
