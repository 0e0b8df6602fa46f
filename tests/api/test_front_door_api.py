"""The API's front door: docs that work offline, typed answers, pages, and the CLI over HTTP."""

from __future__ import annotations

import json
import re

import pytest

from changegate.cli.main import run
from tests.api.conftest import Api, approved_change, new_change


def test_root_is_the_web_app_and_the_docs_are_served_without_a_cdn(api: Api) -> None:
    root = api.client.get("/", follow_redirects=False)  # no session: sign in first
    assert (root.status_code, root.headers["location"]) == (303, "/auth/login?next=%2F")
    page = api.client.get("/docs").text
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page)
    assert assets and all(a.startswith("/") for a in assets), assets
    assert "cdn" not in page.lower()
    for asset in assets:
        served = api.client.get(asset)
        assert served.status_code == 200 and len(served.content) > 1000, asset
    assert api.client.get("/redoc").status_code == 200


def test_head_answers_wherever_get_does_without_a_body(api: Api) -> None:
    root = api.client.head("/", follow_redirects=False)
    assert (root.status_code, root.headers["location"]) == (303, "/auth/login?next=%2F")
    for path in ("/docs", "/api/v1/health", "/openapi.json"):
        got, head = api.client.get(path), api.client.head(path)
        assert (head.status_code, head.content) == (200, b""), path
        assert head.headers["content-length"] == str(len(got.content)), path
    # Authentication is the GET's: no token, no answer, not even headers.
    assert api.client.head("/api/v1/changes").status_code == 401
    # A path with no GET stays a 405, as it is for GET itself; unauthenticated, it is 401
    # first (nothing of the API answers before the token).
    assert api.client.head("/api/v1/gate", headers=api.as_("pipeline")).status_code == 405
    assert api.client.head("/api/v1/gate").status_code == 401


def test_every_operation_declares_a_schema_for_its_success_answer(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    missing = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            ok = [code for code in op["responses"] if code.startswith("2")]
            # JSON answers name their model; a document (HTML, PDF) declares its media types.
            schemas = [
                media.get("schema")
                for c in ok
                for media in (op["responses"][c].get("content") or {"none": {}}).values()
            ]
            if not ok or not all(schemas) or any(s == {} for s in schemas):
                missing.append((method, path))
    assert missing == []
    names = set(document["components"]["schemas"])
    assert {"ChangeOut", "Page_ChangeSummaryOut_", "GateDecisionOut", "StatusOut"} <= names


def test_lists_are_pages_counted_in_sql(api: Api) -> None:
    keys = [new_change(api) for _ in range(4)]
    page = api.call("auditor", "GET", "/api/v1/changes", params={"limit": 2, "offset": 1}).json()
    assert [c["key"] for c in page["items"]] == keys[1:3]
    assert (page["total"], page["limit"], page["offset"]) == (4, 2, 1)
    refused = api.call("auditor", "GET", "/api/v1/changes", params={"limit": 0})
    assert refused.status_code == 422


def test_validation_messages_are_the_validators_own(api: Api) -> None:
    bad = api.call("requester", "POST", "/api/v1/changes", json={"title": "a\u0000b"})
    assert bad.status_code == 422
    assert "Value error" not in bad.text and "NUL" in bad.json()["detail"]


@pytest.fixture
def remote(api: Api, server: str, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setenv("CHANGEGATE_URL", server)
    monkeypatch.setenv("CHANGEGATE_TOKEN", api.secrets["ivy@example.com"])
    # Nothing local to fall back on: every answer below comes from the server.
    monkeypatch.setenv("CHANGEGATE_DATABASE_URL", "sqlite:////nonexistent/unused.db")
    return api


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_every_served_command_goes_to_the_server(
    remote: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    key = approved_change(remote)
    pending = new_change(remote)
    remote.call("requester", "POST", f"/api/v1/changes/{pending}/submit")
    code, out, err = cli(capsys, "change", "list", "--json")
    assert code == 0, err
    assert [c["key"] for c in json.loads(out)["items"]] == [key, pending]
    code, out, _ = cli(capsys, "change", "show", key)
    assert code == 0 and out.startswith(f"{key}  Rotate certs") and "approved" in out
    for args in (
        ("waiver", "list"),
        ("finding", "list"),
        ("drift", "list"),
        ("review", "list"),
        ("baseline", "list"),
        ("change", "overdue"),
        ("ledger", "verify"),
        ("policy", "show"),
        ("user", "list"),
    ):
        code, _, err = cli(capsys, *args)
        assert code == 0, (args, err)
    assert cli(capsys, "change", "show", pending)[0] == 0  # read through the server: version 1
    code, out, err = cli(capsys, "change", "approve", pending, "--role", "iso")
    assert code == 0 and "iso approved version 1 by ivy@example.com" in out, err
    code, out, _ = cli(capsys, "status", "--json")
    status = json.loads(out)
    assert status["you"]["person"] == "ivy@example.com"
    assert status["database"].startswith(("sqlite", "postgresql"))  # the server's, masked


def test_as_is_refused_and_local_administration_says_so(
    remote: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "change", "list", "--as", "ivy@example.com")
    assert (code, out) == (2, "") and "the token is the identity" in err
    for args in (
        ("user", "add", "x@example.com", "--name", "X", "--role", "cab"),
        ("token", "list"),
        ("init",),
        ("ledger", "export"),
        ("outbox", "list"),
        ("worker", "--once"),
    ):
        code, out, err = cli(capsys, *args)
        assert code == 2 and "local administration" in err and "unset CHANGEGATE_URL" in err, args
        assert len(err.splitlines()) == 1


def test_every_operation_declares_its_error_answers_as_problems(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    operations = [
        (path, method, op)
        for path, item in document["paths"].items()
        if path.startswith("/api/") and path != "/api/v1/health"
        for method, op in item.items()
    ]
    assert len(operations) >= 30
    for path, method, op in operations:
        declared = set(op["responses"])
        wanted = {"400", "422"}
        if "x-roles" in op:
            wanted |= {"401", "403", "404"}
        if method in {"post", "patch", "put", "delete"}:
            wanted |= {"409", "413"}
        assert wanted <= declared, (method, path, sorted(declared))
        for status in wanted:
            content = op["responses"][status]["content"]
            assert "application/problem+json" in content, (method, path, status)
    approvals = document["paths"]["/api/v1/changes/{key}/approvals"]["post"]["responses"]
    assert "428" in approvals


def test_over_the_api_an_approval_of_a_moved_on_version_names_both(
    remote: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    key = new_change(remote)
    remote.call("requester", "POST", f"/api/v1/changes/{key}/submit")
    assert cli(capsys, "change", "show", key)[0] == 0  # the ISO reads version 1 ...
    edited = {"rollback_plan": "restore the snapshot"}
    remote.call("requester", "PATCH", f"/api/v1/changes/{key}", json=edited)  # ... it moves on
    code, _, err = cli(capsys, "change", "approve", key, "--role", "iso")
    assert code == 2
    assert err.strip().startswith(f"error: {key} is at version 2; you decided on version 1")
