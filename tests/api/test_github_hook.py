"""/hooks/github end to end: signed delivery in, gate decision, answer to a local GitHub."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from changegate import bootstrap
from changegate.api.app import create_app
from changegate.bootstrap import App
from changegate.config import GitHubSettings, Settings
from changegate.db.models import LedgerRecord
from changegate.services import tokens, users
from tests.api.conftest import JUNIT_PASS, Api, approved_change, record_tests
from tests.builders import PEOPLE
from tests.integrations.fake_github import FakeClock, FakeGitHub, generate_private_key_pem

SECRET = "hook-secret"
BOT = "github-app@example.com"
SHA = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"  # the fake payload's commit


@dataclass
class Hook:
    api: Api
    fake: FakeGitHub
    client: TestClient

    def deliver(
        self,
        payload: dict[str, Any],
        delivery: str,
        event: str = "deployment_protection_rule",
        secret: str = SECRET,
    ) -> httpx.Response:
        body = json.dumps(payload).encode()
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return self.client.post(
            "/hooks/github",
            content=body,
            headers={
                "X-GitHub-Event": event,
                "X-GitHub-Delivery": delivery,
                "X-Hub-Signature-256": signature,
                "Content-Type": "application/json",
            },
        )

    def actions(self) -> list[str]:
        return self.api.app.read(
            lambda ctx: [
                r.action for r in ctx.session.query(LedgerRecord).order_by(LedgerRecord.seq)
            ]
        )


@pytest.fixture(scope="module")
def rsa_key() -> bytes:
    return generate_private_key_pem()


@pytest.fixture
def hook(db_url: str, tmp_path: Path, rsa_key: bytes) -> Iterator[Hook]:
    key_file = tmp_path / "app.pem"
    key_file.write_bytes(rsa_key)
    with FakeGitHub(private_key_pem=rsa_key, clock=FakeClock(datetime.now(UTC))) as fake:
        settings = Settings(
            database_url=db_url,
            github=GitHubSettings(SECRET, str(fake.app_id), key_file, BOT, fake.url),
        )
        app: App = bootstrap.build(settings)

        def seed(ctx: Any) -> dict[str, str]:
            people = dict(PEOPLE) | {BOT: ("GitHub App", ["pipeline"])}
            out = {}
            for email, (name, roles) in people.items():
                users.add_user(ctx, email, name, roles)
                out[email] = tokens.create_token(ctx, email, "t", 1)[1]
            return out

        secrets = app.run(seed, actor="local-admin")
        with TestClient(create_app(app), raise_server_exceptions=False) as client:
            yield Hook(Api(app, client, secrets), fake, client)
        app.engine.dispose()


def ready_change(hook: Hook) -> str:
    key = approved_change(hook.api)
    assert record_tests(hook.api, key, sha=SHA, report=JUNIT_PASS).status_code == 201
    return key


def test_an_allowed_deployment_is_approved_on_github(hook: Hook) -> None:
    key = ready_change(hook)
    payload = hook.fake.pending_run(101, deployment_payload={"change": key})
    response = hook.deliver(payload, "d-1")
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "approved"
    [review] = hook.fake.reviews
    assert review["body"]["state"] == "approved"
    assert review["body"]["environment_name"] == "production"
    assert f"changegate ALLOWED {key}" in review["body"]["comment"]
    assert {"gate.allowed", "github.review_sent"} <= set(hook.actions())


def test_a_missing_precondition_is_rejected_with_its_reasons(hook: Hook) -> None:
    key = approved_change(hook.api)  # approved, but no staging evidence for this commit
    response = hook.deliver(hook.fake.pending_run(102, description=f"deploy {key}"), "d-2")
    assert response.json()["state"] == "rejected"
    comment = hook.fake.reviews[0]["body"]["comment"]
    assert "DENIED" in comment and "NO CM-4" in comment


def test_no_change_key_is_rejected_naming_cm1(hook: Hook) -> None:
    response = hook.deliver(hook.fake.pending_run(103), "d-3")
    assert response.json()["state"] == "rejected"
    assert "NO CM-1" in hook.fake.reviews[0]["body"]["comment"]


def test_a_replayed_delivery_is_ignored(hook: Hook) -> None:
    key = ready_change(hook)
    payload = hook.fake.pending_run(104, deployment_payload={"change": key})
    assert hook.deliver(payload, "d-4").status_code == 200
    again = hook.deliver(payload, "d-4")
    assert again.json() == {"status": "duplicate", "delivery": "d-4"}
    assert len(hook.fake.reviews) == 1
    assert hook.actions().count("gate.allowed") == 1


def test_a_bad_signature_writes_nothing(hook: Hook) -> None:
    before = len(hook.actions())
    response = hook.deliver(hook.fake.pending_run(105), "d-5", secret="wrong")
    assert response.status_code == 401
    assert len(hook.actions()) == before and hook.fake.reviews == []


def test_github_down_is_502_and_a_redelivery_answers(hook: Hook) -> None:
    key = ready_change(hook)
    payload = hook.fake.pending_run(106, deployment_payload={"change": key})
    hook.fake.fail_next(1, 500)
    first = hook.deliver(payload, "d-6")
    assert first.status_code == 502 and first.json()["decision_id"]
    assert "github.review_failed" in hook.actions()
    second = hook.deliver(payload, "d-6")
    assert second.status_code == 200 and second.json()["state"] == "approved"
    assert [r["body"]["state"] for r in hook.fake.reviews] == ["approved"]


def test_ping_and_other_events(hook: Hook) -> None:
    assert hook.deliver({"zen": "hi"}, "d-7", event="ping").json() == {"status": "pong"}
    other = hook.deliver({"action": "completed"}, "d-8", event="workflow_run")
    assert other.status_code == 202


def test_an_unparseable_delivery_is_400(hook: Hook) -> None:
    response = hook.deliver({"action": "requested"}, "d-9")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
