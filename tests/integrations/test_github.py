"""The GitHub App adapter against GitHub's documented behaviour, over real sockets.

Signatures use real HMAC (and GitHub's own test vector); the App flow runs against
tests/integrations/fake_github.py, a local HTTP server that verifies the RS256 JWT with the
App's public key and issues and checks installation tokens as GitHub documents.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from changegate.domain.errors import BadInput
from changegate.integrations.github import (
    COMMENT_LIMIT,
    GitHubApp,
    find_change_key,
    parse_protection_rule,
    truncate_comment,
    verify_signature,
)
from changegate.integrations.ports import (
    DeploymentReviewer,
    IntegrationError,
    ProtectionRuleRequest,
)
from tests.integrations.fake_github import (
    JWT_EXPIRED,
    JWT_TOO_LONG,
    JWT_UNDECODABLE,
    SAMPLE,
    SAMPLES_DIR,
    FakeGitHub,
    generate_private_key_pem,
    protection_rule_payload,
)

REPO = "Codertocat/Hello-World"
REVIEW_PATH = "repos/Codertocat/Hello-World/actions/runs/{}/deployment_protection_rule"

AppFactory = Callable[..., GitHubApp]


@pytest.fixture
def make_app(fake_github: FakeGitHub) -> Iterator[AppFactory]:
    clients: list[httpx.Client] = []

    def make(
        *,
        key: bytes | None = None,
        clock: Callable[[], datetime] | None = None,
        base_url: str | None = None,
        timeout: float = 5.0,
    ) -> GitHubApp:
        client = httpx.Client(base_url=base_url or fake_github.url, timeout=timeout)
        clients.append(client)
        return GitHubApp(
            fake_github.app_id,
            key or fake_github.private_key_pem,
            client,
            clock or fake_github.clock.now,
        )

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def app(make_app: AppFactory) -> GitHubApp:
    return make_app()


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def pending(fake: FakeGitHub, run_id: int, **overrides: Any) -> ProtectionRuleRequest:
    return parse_protection_rule(fake.pending_run(run_id, **overrides))


def free_closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_no_secret(exc: IntegrationError, fake: FakeGitHub) -> None:
    text = f"{exc} {exc!r}"
    for token in fake.issued_tokens:
        assert token not in text
    assert "ghs_" not in text and "eyJ" not in text  # no installation token, no JWT
    # Not chained to the httpx error either: that one holds the request, Authorization included.
    assert exc.__cause__ is None
    assert exc.__suppress_context__ or exc.__context__ is None


# -- X-Hub-Signature-256 -----------------------------------------------------------------------


def test_signature_matches_githubs_documented_test_vector() -> None:
    header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert verify_signature(b"It's a Secret to Everybody", b"Hello, World!", header)


def test_signature_over_a_real_payload() -> None:
    body = SAMPLE.read_bytes()
    secret = b"whsec-changegate-test"
    header = sign(secret, body)
    assert verify_signature(secret, body, header)
    assert verify_signature(secret, body, f"  {header.upper().replace('SHA256=', 'sha256=')} ")
    assert not verify_signature(b"another secret", body, header)
    assert not verify_signature(secret, body.replace(b"Codertocat", b"Codertocas", 1), header)
    # GitHub signs the bytes it sent: re-serialised JSON is a different body.
    assert not verify_signature(secret, json.dumps(json.loads(body)).encode(), header)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha1=" + "0" * 40,
        "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c",
        "sha256=" + "0" * 63,
        "sha256=" + "0" * 65,
        "sha256=" + "g" * 64,
        "sha256 = " + "0" * 64,
        "sha256=" + "\u0660" * 64,
    ],
    ids=[
        "missing",
        "empty",
        "no-digest",
        "sha1",
        "no-prefix",
        "short",
        "long",
        "not-hex",
        "spaces",
        "non-ascii-digits",
    ],
)
def test_signature_refuses_missing_or_malformed_headers(header: str | None) -> None:
    assert not verify_signature(b"secret", b"{}", header)


def test_signature_refuses_an_empty_secret() -> None:
    assert not verify_signature(b"", b"{}", sign(b"", b"{}"))


# -- parsing the webhook -----------------------------------------------------------------------


def test_octokit_sample_as_published_names_what_is_missing() -> None:
    payload = json.loads(SAMPLE.read_text(encoding="utf-8"))
    with pytest.raises(
        BadInput,
        match=r"^deployment_protection_rule webhook: missing "
        r"installation\.id$",
    ):
        parse_protection_rule(payload)
    payload["installation"] = {"id": 7}
    with pytest.raises(BadInput, match="deployment_callback_url is not a"):
        parse_protection_rule(payload)  # its callback is the placeholder github.local/deploy-...


@pytest.mark.parametrize("path", sorted(SAMPLES_DIR.glob("*.json")), ids=lambda p: p.name)
def test_every_sample_parses_once_given_installation_and_callback(path: Path) -> None:
    payload = json.loads(path.read_text(encoding="utf-8"))
    payload["installation"] = {"id": 7}
    payload["deployment_callback_url"] = (
        f"https://api.github.com/repos/{REPO}/actions/runs/9/deployment_protection_rule"
    )
    request = parse_protection_rule(payload)
    # The sample has no top-level sha/ref: they come from its deployment.
    assert (request.sha, request.ref) == ("f95f852bd8fca8fcc58a9a2d6c842781e32a215e", "master")
    assert (request.environment, request.event, request.sender) == (
        "my-environment",
        "my-event",
        "Codertocat",
    )
    assert (request.run_id, request.installation_id, request.deployment_id) == (9, 7, 145988746)
    assert request.pull_requests == (2,)
    assert request.deployment_description is None and dict(request.deployment_payload) == {}
    assert request.head_commit_message is None  # this event carries no commit message


def test_realistic_payload_parses_every_field() -> None:
    payload = protection_rule_payload(
        installation_id=31337,
        run_id=4242,
        environment="prod",
        ref="refs/heads/chg-7/fix",
        description="CHG-7 hotfix",
        deployment_payload={"change": "CHG-7"},
    )
    request = parse_protection_rule(payload)
    assert request == ProtectionRuleRequest(
        action="requested",
        environment="prod",
        event="push",
        callback_url=f"https://api.github.com/{REVIEW_PATH.format(4242)}",
        callback_path=REVIEW_PATH.format(4242),
        installation_id=31337,
        repository=REPO,
        run_id=4242,
        sender="Codertocat",
        sha="f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
        ref="refs/heads/chg-7/fix",
        deployment_id=145988746,
        deployment_description="CHG-7 hotfix",
        deployment_payload={"change": "CHG-7"},
        head_commit_message=None,
        pull_requests=(2,),
    )


@pytest.mark.parametrize(
    "path,name",
    [
        (("action",), "action"),
        (("environment",), "environment"),
        (("event",), "event"),
        (("deployment_callback_url",), "deployment_callback_url"),
        (("installation", "id"), "installation.id"),
        (("repository", "full_name"), "repository.full_name"),
        (("sender", "login"), "sender.login"),
    ],
)
def test_missing_required_field_is_named(path: tuple[str, ...], name: str) -> None:
    payload = protection_rule_payload(installation_id=1, run_id=2)
    holder = payload
    for key in path[:-1]:
        holder = holder[key]
    for broken in (None, "", 12 if name != "installation.id" else "12"):
        holder[path[-1]] = broken
        with pytest.raises(BadInput) as caught:
            parse_protection_rule(payload)
        assert str(caught.value) == f"deployment_protection_rule webhook: missing {name}"


def test_installation_id_must_be_a_number_not_a_boolean() -> None:
    payload = protection_rule_payload(installation_id=1, run_id=2)
    payload["installation"]["id"] = True
    with pytest.raises(BadInput, match=r"installation\.id"):
        parse_protection_rule(payload)


@pytest.mark.parametrize(
    "url,path,run_id",
    [
        (
            f"https://api.github.com/repos/{REPO}/actions/runs/77/deployment_protection_rule",
            REVIEW_PATH.format(77),
            77,
        ),
        (
            f"https://ghe.example.com/api/v3/repos/{REPO}/actions/runs/78/deployment_protection_rule",
            REVIEW_PATH.format(78),
            78,
        ),
        (
            "https://api.github.com/repos/codertocat/hello-world/actions/runs/79/"
            "deployment_protection_rule?x=1",
            "repos/codertocat/hello-world/actions/runs/79/deployment_protection_rule",
            79,
        ),
    ],
)
def test_callback_becomes_a_path_under_our_api_root(url: str, path: str, run_id: int) -> None:
    payload = protection_rule_payload(installation_id=1, run_id=1)
    payload["deployment_callback_url"] = url
    request = parse_protection_rule(payload)
    assert (request.callback_path, request.run_id) == (path, run_id)


@pytest.mark.parametrize(
    "url,message",
    [
        ("https://github.local/deploy-the-thing", "is not a"),
        (
            f"ftp://api.github.com/repos/{REPO}/actions/runs/1/deployment_protection_rule",
            "is not a",
        ),
        (
            f"https://api.github.com/repos/{REPO}/actions/runs/x/deployment_protection_rule",
            "is not a",
        ),
        (f"https://api.github.com/repos/{REPO}/actions/runs/1/approvals", "is not a"),
        (
            "https://api.github.com/repos/../../actions/runs/1/deployment_protection_rule",
            "is not a",
        ),
        (
            "https://api.github.com/repos/octo/other/actions/runs/1/deployment_protection_rule",
            f"names octo/other, not {REPO}",
        ),
    ],
)
def test_callback_that_is_not_this_repos_review_endpoint_is_refused(url: str, message: str) -> None:
    payload = protection_rule_payload(installation_id=1, run_id=1)
    payload["deployment_callback_url"] = url
    with pytest.raises(BadInput, match=message):
        parse_protection_rule(payload)


def test_null_deployment_uses_top_level_sha_and_ref() -> None:
    payload = protection_rule_payload(installation_id=1, run_id=3, sha="abc123", ref="main")
    payload["deployment"] = None  # nullable in GitHub's schema
    request = parse_protection_rule(payload)
    assert (request.sha, request.ref, request.deployment_id) == ("abc123", "main", None)
    assert dict(request.deployment_payload) == {}


def test_no_sha_anywhere_parses_so_the_gate_can_reject_with_a_reason() -> None:
    payload = protection_rule_payload(installation_id=1, run_id=3)
    del payload["sha"], payload["ref"], payload["deployment"]
    request = parse_protection_rule(payload)
    assert (request.sha, request.ref) == (None, None)


def test_deployment_payload_may_be_a_json_string_and_is_read_only() -> None:
    payload = protection_rule_payload(
        installation_id=1, run_id=3, deployment_payload='{"change": "CHG-5"}'
    )
    request = parse_protection_rule(payload)
    assert dict(request.deployment_payload) == {"change": "CHG-5"}
    with pytest.raises(TypeError):
        request.deployment_payload["change"] = "CHG-6"
    payload["deployment"]["payload"] = "not json"
    assert dict(parse_protection_rule(payload).deployment_payload) == {}


def test_head_commit_message_is_read_if_a_payload_ever_carries_it() -> None:
    payload = protection_rule_payload(installation_id=1, run_id=3)
    payload["workflow_run"] = {"head_commit": {"message": "Fix login (chg-9)"}}
    assert parse_protection_rule(payload).head_commit_message == "Fix login (chg-9)"


# -- the change key ----------------------------------------------------------------------------


def base_request() -> ProtectionRuleRequest:
    return parse_protection_rule(protection_rule_payload(installation_id=1, run_id=1, ref="main"))


@pytest.mark.parametrize(
    "changes,expected",
    [
        ({"deployment_payload": {"change": "CHG-42"}}, "CHG-42"),
        ({"deployment_payload": {"changegate": {"change": "chg-42"}}}, "CHG-42"),
        ({"deployment_payload": {"change": 42}}, None),
        ({"deployment_description": "Deploys CHG-7 to prod"}, "CHG-7"),
        ({"ref": "chg-42/fix-login"}, "CHG-42"),
        ({"ref": "CHG-42-hotfix"}, "CHG-42"),
        ({"ref": "refs/heads/feature/Chg-0042_login"}, "CHG-42"),
        ({"ref": "release/XCHG-42"}, None),
        ({"ref": "chg42"}, None),
        ({"ref": "main"}, None),
        ({"head_commit_message": "Fix login (chg-9)"}, "CHG-9"),
        ({}, None),
    ],
)
def test_change_key_sources(changes: dict[str, Any], expected: str | None) -> None:
    assert find_change_key(replace(base_request(), **changes)) == expected


@pytest.mark.parametrize(
    "changes,expected",
    [
        (
            {
                "deployment_payload": {"change": "CHG-1", "changegate": {"change": "CHG-5"}},
                "deployment_description": "CHG-2",
                "ref": "chg-3/x",
                "head_commit_message": "CHG-4",
            },
            "CHG-1",
        ),
        (
            {
                "deployment_payload": {"changegate": {"change": "CHG-5"}},
                "deployment_description": "CHG-2",
            },
            "CHG-5",
        ),
        (
            {
                "deployment_payload": {"note": "none"},
                "deployment_description": "CHG-2",
                "ref": "chg-3/x",
                "head_commit_message": "CHG-4",
            },
            "CHG-2",
        ),
        (
            {
                "deployment_description": "no key here",
                "ref": "chg-3/x",
                "head_commit_message": "CHG-4",
            },
            "CHG-3",
        ),
        ({"ref": "main", "head_commit_message": "CHG-4 and CHG-8"}, "CHG-4"),
    ],
)
def test_change_key_precedence(changes: dict[str, Any], expected: str) -> None:
    assert find_change_key(replace(base_request(), **changes)) == expected


# -- comments ----------------------------------------------------------------------------------


def test_comment_is_capped_at_githubs_documented_1024_characters() -> None:
    assert COMMENT_LIMIT == 1024
    assert truncate_comment("ok") == "ok"
    assert truncate_comment("x" * 1024) == "x" * 1024
    cut = truncate_comment("é" * 1020 + " " * 10 + "tail")
    assert cut == "é" * 1020 + "\u2026"  # cut at 1023, trailing blanks dropped, ellipsis added


# -- the App against the local GitHub ----------------------------------------------------------


def test_app_is_a_deployment_reviewer(app: GitHubApp) -> None:
    reviewer: DeploymentReviewer = app
    assert reviewer is app


def test_app_jwt_has_githubs_claims(app: GitHubApp, fake_github: FakeGitHub) -> None:
    token = app.app_jwt()
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = jwt.decode(
        token,
        fake_github.public_key,
        algorithms=["RS256"],
        options={"verify_exp": False, "verify_iat": False},
    )
    now = int(fake_github.clock.now().timestamp())
    assert claims == {"iss": str(fake_github.app_id), "iat": now - 60, "exp": now + 540}


def test_approve_and_reject_share_one_cached_token(app: GitHubApp, fake_github: FakeGitHub) -> None:
    first, second = pending(fake_github, 101), pending(fake_github, 102, environment="staging")
    app.review(first, approved=True, comment="CHG-7 approved by alice@example.com")
    app.review(second, approved=False, comment="CHG-8 is not approved: **CM-2**")

    assert [(r["installation_id"], r["status"]) for r in fake_github.token_requests] == [
        (fake_github.installation_id, 201)
    ]
    assert fake_github.token_requests[0]["claims"]["iss"] == str(fake_github.app_id)
    assert fake_github.token_requests[0]["permissions"] == {"deployments": "write"}
    assert fake_github.reviews == [
        {
            "run_id": 101,
            "repository": REPO,
            "body": {
                "environment_name": "production",
                "state": "approved",
                "comment": "CHG-7 approved by alice@example.com",
            },
        },
        {
            "run_id": 102,
            "repository": REPO,
            "body": {
                "environment_name": "staging",
                "state": "rejected",
                "comment": "CHG-8 is not approved: **CM-2**",
            },
        },
    ]
    for request in fake_github.requests:
        assert request.headers["accept"] == "application/vnd.github+json"
        assert request.headers["x-github-api-version"] == "2022-11-28"
    token = fake_github.issued_tokens[0]
    assert [r.headers["authorization"] for r in fake_github.requests[1:]] == [f"Bearer {token}"] * 2


def test_review_never_follows_the_callback_host(app: GitHubApp, fake_github: FakeGitHub) -> None:
    payload = fake_github.pending_run(103, api_url="https://collector.attacker.example")
    app.review(parse_protection_rule(payload), approved=True, comment="ok")
    assert [r["run_id"] for r in fake_github.reviews] == [103]  # it reached our API root


def test_github_enterprise_server_api_root(github_app_key: bytes) -> None:
    with (
        FakeGitHub(private_key_pem=github_app_key, path_prefix="/api/v3") as ghes,
        httpx.Client(base_url=ghes.url, timeout=5) as client,
    ):
        payload = ghes.pending_run(109, api_url="https://ghe.example.com/api/v3")
        app = GitHubApp(str(ghes.app_id), ghes.private_key_pem, client, ghes.clock.now)
        app.review(parse_protection_rule(payload), approved=True, comment="ok")
    assert [r.path for r in ghes.requests] == [
        f"/api/v3/app/installations/{ghes.installation_id}/access_tokens",
        f"/api/v3/{REVIEW_PATH.format(109)}",
    ]
    assert [r.status for r in ghes.requests] == [201, 204] and not ghes.errors


def test_long_comment_is_truncated_on_the_wire(app: GitHubApp, fake_github: FakeGitHub) -> None:
    app.review(pending(fake_github, 104), approved=False, comment="reason " * 1000)
    comment = fake_github.reviews[0]["body"]["comment"]
    assert len(comment) == 1024 and comment.endswith("\u2026")


@pytest.mark.parametrize(
    "elapsed,tokens",
    [
        (timedelta(minutes=58, seconds=59), 1),  # still more than a minute before expires_at
        (timedelta(minutes=59), 2),  # within the last minute: renew
        (timedelta(hours=2), 2),
    ],
)
def test_token_is_renewed_a_minute_before_it_expires(
    app: GitHubApp, fake_github: FakeGitHub, elapsed: timedelta, tokens: int
) -> None:
    app.review(pending(fake_github, 105), approved=True, comment="first")
    fake_github.clock.advance(elapsed)
    app.review(pending(fake_github, 106), approved=True, comment="second")
    assert len(fake_github.issued_tokens) == tokens
    assert [r["status"] for r in fake_github.token_requests] == [201] * tokens
    assert len(fake_github.reviews) == 2


def test_a_revoked_token_is_replaced_and_the_review_retried_once(
    app: GitHubApp, fake_github: FakeGitHub
) -> None:
    app.review(pending(fake_github, 107), approved=True, comment="first")
    fake_github.revoke_tokens()
    app.review(pending(fake_github, 108), approved=True, comment="second")
    assert [r["run_id"] for r in fake_github.reviews] == [107, 108]
    assert [r.status for r in fake_github.requests] == [201, 204, 401, 201, 204]


def test_concurrent_reviews_mint_one_token(app: GitHubApp, fake_github: FakeGitHub) -> None:
    requests = [pending(fake_github, 200 + n) for n in range(8)]
    threads = [threading.Thread(target=app.review, args=(r, True, "ok")) for r in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fake_github.issued_tokens) == 1
    assert sorted(r["run_id"] for r in fake_github.reviews) == list(range(200, 208))


# -- error mapping -----------------------------------------------------------------------------


def test_a_key_that_is_not_the_apps_gets_401(make_app: AppFactory, fake_github: FakeGitHub) -> None:
    app = make_app(key=generate_private_key_pem())
    with pytest.raises(IntegrationError) as caught:
        app.review(pending(fake_github, 301), approved=True, comment="ok")
    assert caught.value.status == 401
    assert str(caught.value) == (
        f"GitHub POST /app/installations/{fake_github.installation_id}"
        f"/access_tokens: HTTP 401: {JWT_UNDECODABLE}"
    )
    assert fake_github.reviews == [] and len(fake_github.token_requests) == 1
    assert_no_secret(caught.value, fake_github)


@pytest.mark.parametrize(
    "skew,message",
    [
        (timedelta(minutes=2), JWT_TOO_LONG),  # our clock ahead: exp > GitHub's now + 10 min
        (timedelta(minutes=-11), JWT_EXPIRED),  # our clock behind: exp already past
    ],
)
def test_clock_skew_beyond_the_jwt_window_is_reported(
    make_app: AppFactory, fake_github: FakeGitHub, skew: timedelta, message: str
) -> None:
    app = make_app(clock=lambda: fake_github.clock.now() + skew)
    with pytest.raises(IntegrationError, match=re.escape(f"HTTP 401: {message}")) as caught:
        app.installation_token(fake_github.installation_id)
    assert caught.value.status == 401


def test_a_small_clock_skew_is_tolerated(make_app: AppFactory, fake_github: FakeGitHub) -> None:
    app = make_app(clock=lambda: fake_github.clock.now() + timedelta(seconds=50))
    assert app.installation_token(fake_github.installation_id) in fake_github.issued_tokens


def test_unknown_installation_is_404(app: GitHubApp, fake_github: FakeGitHub) -> None:
    with pytest.raises(
        IntegrationError,
        match=r"/app/installations/999/access_tokens: "
        r"HTTP 404: Not Found",
    ):
        app.installation_token(999)


def test_server_error_on_the_token_endpoint(app: GitHubApp, fake_github: FakeGitHub) -> None:
    fake_github.fail_next(1, 500)
    with pytest.raises(IntegrationError) as caught:
        app.review(pending(fake_github, 302), approved=True, comment="ok")
    assert caught.value.status == 500
    assert "access_tokens: HTTP 500: Internal Server Error" in str(caught.value)
    assert_no_secret(caught.value, fake_github)


def test_server_error_on_the_review_endpoint_keeps_the_token_out(
    app: GitHubApp, fake_github: FakeGitHub
) -> None:
    app.review(pending(fake_github, 303), approved=True, comment="ok")  # token now cached
    fake_github.fail_next(1, 500)
    with pytest.raises(IntegrationError) as caught:
        app.review(pending(fake_github, 304), approved=False, comment="no")
    assert caught.value.status == 500
    assert str(caught.value) == (
        f"GitHub POST /{REVIEW_PATH.format(304)}: HTTP 500: Internal Server Error"
    )
    assert_no_secret(caught.value, fake_github)


def test_unknown_run_is_404_and_wrong_environment_422(
    app: GitHubApp, fake_github: FakeGitHub
) -> None:
    stale = parse_protection_rule(
        protection_rule_payload(installation_id=fake_github.installation_id, run_id=999)
    )
    with pytest.raises(IntegrationError, match=r"runs/999/deployment_protection_rule: HTTP 404"):
        app.review(stale, approved=True, comment="ok")
    wrong = replace(pending(fake_github, 305), environment="staging")
    with pytest.raises(IntegrationError, match="HTTP 422: Validation Failed") as caught:
        app.review(wrong, approved=True, comment="ok")
    assert caught.value.status == 422 and fake_github.reviews == []


def test_connection_refused(make_app: AppFactory, fake_github: FakeGitHub) -> None:
    app = make_app(base_url=f"http://127.0.0.1:{free_closed_port()}")
    with pytest.raises(IntegrationError) as caught:
        app.review(pending(fake_github, 306), approved=True, comment="ok")
    assert caught.value.status is None
    assert "access_tokens: no response: ConnectError" in str(caught.value)


def test_connection_refused_with_a_cached_token_keeps_it_out(
    app: GitHubApp, fake_github: FakeGitHub
) -> None:
    app.review(pending(fake_github, 307), approved=True, comment="ok")
    request = pending(fake_github, 308)
    fake_github.stop()  # GitHub goes away; the App still holds a valid token
    with pytest.raises(IntegrationError, match="deployment_protection_rule: no response") as caught:
        app.review(request, approved=True, comment="ok")
    assert caught.value.status is None
    assert_no_secret(caught.value, fake_github)


def test_timeout(make_app: AppFactory, fake_github: FakeGitHub) -> None:
    app = make_app(timeout=0.2)
    fake_github.delay_next(2.0)
    with pytest.raises(IntegrationError, match="access_tokens: no response: timed out") as caught:
        app.installation_token(fake_github.installation_id)
    assert caught.value.status is None


# -- construction ------------------------------------------------------------------------------


def test_bad_private_key_is_refused_without_echoing_it(fake_github: FakeGitHub) -> None:
    junk = b"-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----\n"
    with httpx.Client(base_url=fake_github.url) as client, pytest.raises(ValueError) as caught:
        GitHubApp(1, junk, client, fake_github.clock.now)
    assert "c2VjcmV0" not in str(caught.value) and caught.value.__cause__ is None


def test_naive_clock_is_refused(make_app: AppFactory) -> None:
    app = make_app(clock=lambda: datetime(2026, 3, 2, 9, 30))
    with pytest.raises(ValueError, match="aware"):
        app.app_jwt()


# -- the fake itself keeps GitHub's contract ---------------------------------------------------


@pytest.mark.parametrize(
    "scheme,body,status",
    [
        ("token", {"environment_name": "production", "state": "approved"}, 204),
        ("Bearer", {"environment_name": "production", "comment": "status report"}, 204),
        ("Bearer", {"environment_name": "production"}, 422),
        ("Bearer", {"environment_name": "production", "state": "maybe"}, 422),
        ("Bearer", {"environment_name": "production", "state": "approved", "extra": 1}, 422),
        ("Bearer", b"{not json", 400),
        ("Basic", {"environment_name": "production", "state": "approved"}, 401),
    ],
)
def test_fake_review_endpoint_contract(
    app: GitHubApp, fake_github: FakeGitHub, scheme: str, body: object, status: int
) -> None:
    fake_github.pending_run(401)
    token = app.installation_token(fake_github.installation_id)
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = httpx.post(
        f"{fake_github.url}/{REVIEW_PATH.format(401)}",
        content=content,
        headers={"Authorization": f"{scheme} {token}"},
    )
    assert response.status_code == status
    if status != 204:
        assert set(response.json()) >= {"message", "documentation_url"}


def test_fake_refuses_a_jwt_where_a_token_is_due_and_unknown_api_versions(
    app: GitHubApp, fake_github: FakeGitHub
) -> None:
    fake_github.pending_run(402)
    url = f"{fake_github.url}/{REVIEW_PATH.format(402)}"
    body = {"environment_name": "production", "state": "approved"}
    jwt_auth = httpx.post(url, json=body, headers={"Authorization": f"Bearer {app.app_jwt()}"})
    assert (jwt_auth.status_code, jwt_auth.json()["message"]) == (401, "Bad credentials")
    version = httpx.post(
        f"{fake_github.url}/app/installations/1/access_tokens",
        headers={"X-GitHub-Api-Version": "2020-01-01"},
    )
    assert version.status_code == 400
