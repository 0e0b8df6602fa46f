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
from tests.api.conftest import JUNIT_PASS, Api, approved_change, new_change, record_tests
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


def test_a_signed_delivery_nested_too_deeply_is_400_not_a_server_error(hook: Hook) -> None:
    body = b'{"action": "requested", "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"X-GitHub-Event": "deployment_protection_rule", "X-GitHub-Delivery": "d-deep"}
    response = hook.client.post(
        "/hooks/github", content=body, headers=headers | {"X-Hub-Signature-256": signature}
    )
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == "body: nested too deeply (over 100 levels)"


def test_case_15_environment_names_are_case_insensitive(hook: Hook) -> None:
    """GitHub sends `Production`; the policy's environment is `production` (real-world case 15)."""
    from tests.fixtures import fixture

    payload = json.loads(fixture("real-world", "case-15.json").read_text())
    sha = payload["sha"]
    key = approved_change(hook.api)
    assert key == "CHG-1"  # the case's branch, refs/heads/chg-1-fix, names it
    assert record_tests(hook.api, key, sha=sha, report=JUNIT_PASS).status_code == 201
    run_id = 1000000001
    registered = hook.fake.pending_run(
        run_id, environment="Production", repository="example-org/example-repo"
    )
    payload["installation"]["id"] = registered["installation"]["id"]
    payload["deployment_callback_url"] = registered["deployment_callback_url"]
    response = hook.deliver(payload, "case-15")
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "approved"
    [review] = hook.fake.reviews
    assert review["body"]["environment_name"] == "Production"  # answered in GitHub's own words
    decision = hook.api.call(
        "auditor", "GET", f"/api/v1/gate/decisions/{response.json()['decision_id']}"
    )
    assert decision.status_code == 200, decision.text
    assert decision.json()["environment"] == "production"


def test_an_environment_the_policy_does_not_know_is_answered_and_recorded(hook: Hook) -> None:
    key = ready_change(hook)
    payload = hook.fake.pending_run(110, environment="qa-east", deployment_payload={"change": key})
    response = hook.deliver(payload, "d-10")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"] == "rejected" and body["decision_id"]
    comment = hook.fake.reviews[0]["body"]["comment"]
    assert "NO policy: 'qa-east' is not an environment the policy defines" in comment
    assert {"gate.denied", "github.review_sent"} <= set(hook.actions())


def test_a_request_without_a_usable_sha_is_still_answered(hook: Hook) -> None:
    payload = hook.fake.pending_run(111, sha="not-a-sha")
    response = hook.deliver(payload, "d-11")
    assert response.status_code == 200 and response.json()["state"] == "rejected"
    assert "not a commit SHA" in hook.fake.reviews[0]["body"]["comment"]
    assert "github.denied_unparseable" in hook.actions()


def _octokit(event: str, name: str) -> dict[str, Any]:
    from tests.fixtures import fixture

    path = fixture("github-webhooks", "octokit-webhooks", event, name)
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def approved_review(title: str) -> dict[str, Any]:
    """octokit's submitted review, made an approval of a pull request that names a change."""
    payload = _octokit("pull_request_review", "submitted.payload.json")
    payload["review"] = payload["review"] | {
        "state": "approved",
        "user": payload["review"]["user"] | {"login": "octo-reviewer"},
    }
    payload["pull_request"] = payload["pull_request"] | {"title": title}
    return payload


def merged(title: str) -> dict[str, Any]:
    """octokit's closed pull request, made a merge (GitHub sets merged, merged_by, the SHA)."""
    payload = _octokit("pull_request", "closed.payload.json")
    payload["pull_request"] = payload["pull_request"] | {
        "title": title,
        "merged": True,
        "merged_at": "2019-05-15T15:20:33Z",
        "merged_by": {"login": "Octo-Merger", "id": 9},
        "merge_commit_sha": "c4295bd74fb0f4fda03689c3df3f2803b658fd85",
    }
    return payload


def test_peer_review_from_github_is_kept_on_the_change_and_bars_the_author(hook: Hook) -> None:
    key = new_change(hook.api)
    assert hook.api.call("requester", "POST", f"/api/v1/changes/{key}/submit").status_code == 200
    # The pull request's author, Codertocat, is Bob (a CAB member) on GitHub.
    hook.api.app.run(
        lambda ctx: users.link_github(ctx, "bob@example.com", "Codertocat"), actor="local-admin"
    )
    first = hook.deliver(approved_review(f"{key}: rotate certs"), "r-1", "pull_request_review")
    assert first.json() == {"status": "recorded", "event": "pull_request_review", "change": key}
    again = hook.deliver(approved_review(f"{key}: rotate certs"), "r-1", "pull_request_review")
    assert again.json()["status"] == "duplicate"
    done = hook.deliver(merged(f"{key}: rotate certs"), "r-2", "pull_request")
    assert done.json()["change"] == key
    shown = hook.api.call("auditor", "GET", f"/api/v1/changes/{key}").json()
    assert [
        (r["kind"], r["author"], r["by"], r["pull_request"]) for r in shown["code_reviews"]
    ] == [
        ("approved", "codertocat", "octo-reviewer", 2),
        ("merged", "codertocat", "octo-merger", 2),
    ]
    refused = hook.api.call(
        "cab", "POST", f"/api/v1/changes/{key}/approvals",
        json={"role": "cab", "decision": "approved", "version": 1},
    )  # fmt: skip
    assert refused.status_code == 409, refused.text
    assert "authored this change" in refused.json()["detail"]
    assert {"github.pull_request_approved", "github.pull_request_merged"} <= set(hook.actions())


@pytest.mark.parametrize(
    ("event", "name"),
    [
        ("pull_request_review", "submitted.payload.json"),  # a comment, not an approval
        ("pull_request_review", "dismissed.payload.json"),
        ("pull_request", "closed.payload.json"),  # closed without merging
        ("pull_request", "opened.payload.json"),
    ],
)
def test_what_is_not_review_evidence_is_ignored(hook: Hook, event: str, name: str) -> None:
    before = len(hook.actions())
    response = hook.deliver(_octokit(event, name), f"x-{name}", event)
    assert response.status_code == 202 and response.json()["status"] == "ignored"
    assert len(hook.actions()) == before


def test_a_malformed_approval_is_400_naming_the_field(hook: Hook) -> None:
    payload = approved_review("CHG-1")
    del payload["review"]["commit_id"]
    response = hook.deliver(payload, "r-bad", "pull_request_review")
    assert response.status_code == 400
    assert response.json()["detail"] == "pull_request_review webhook: missing review.commit_id"


def test_an_over_long_delivery_id_is_answered_and_still_deduplicated(hook: Hook) -> None:
    key = ready_change(hook)
    payload = hook.fake.pending_run(120, deployment_payload={"change": key})
    long_id = "d-" + "x" * 400
    first = hook.deliver(payload, long_id)
    assert first.status_code == 200, first.text
    assert first.json()["state"] == "approved"
    again = hook.deliver(payload, long_id)
    assert again.json()["status"] == "duplicate"
    assert len(hook.fake.reviews) == 1
