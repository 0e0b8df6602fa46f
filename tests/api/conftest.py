"""API fixtures: a client per role, on both databases, and a real server for the CLI."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from changegate.api.app import create_app
from changegate.bootstrap import App
from changegate.services import tokens, users
from tests.builders import PEOPLE

ROLE_PEOPLE = {
    "requester": "alice@example.com",
    "cab": "bob@example.com",
    "iso": "ivy@example.com",
    "security_engineer": "sam@example.com",
    "hr": "hana@example.com",
    "auditor": "aud@example.com",
    "admin": "root@example.com",
    "pipeline": "ci@example.com",
}


@dataclass
class Api:
    app: App
    client: TestClient
    secrets: dict[str, str]

    def as_(self, who: str) -> dict[str, str]:
        email = ROLE_PEOPLE.get(who, who)
        return {"Authorization": f"Bearer {self.secrets[email]}"}

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, path, headers=self.as_(who), **kwargs)


@pytest.fixture
def api(app: App) -> Iterator[Api]:
    people = dict(PEOPLE) | {"root@example.com": ("Root Admin", ["admin"])}

    def seed(ctx: Any) -> dict[str, str]:
        out = {}
        for email, (name, roles) in people.items():
            users.add_user(ctx, email, name, roles)
            out[email] = tokens.create_token(ctx, email, "test", 30)[1]
        return out

    secrets = app.run(seed, actor="local-admin")
    with TestClient(create_app(app), raise_server_exceptions=False) as client:
        yield Api(app, client, secrets)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(api: Api) -> Iterator[str]:
    """The same API on a real socket, for the CLI's remote mode."""
    port = free_port()
    config = uvicorn.Config(create_app(api.app), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


JUNIT_PASS = b"""<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="regression" tests="2" failures="0" errors="0" time="1.5">
<testcase classname="checkout" name="test_pay" time="1.0"/>
<testcase classname="checkout" name="test_refund" time="0.5"/>
</testsuite></testsuites>"""

JUNIT_FAIL = b"""<?xml version="1.0" encoding="utf-8"?>
<testsuite name="regression" tests="2" failures="1">
<testcase classname="checkout" name="test_pay" time="1.0"><failure message="boom"/></testcase>
<testcase classname="checkout" name="test_refund" time="0.5"/>
</testsuite>"""

SHA = "9fceb02d0ae598e95dc970b74767f19372d61af8"
OTHER_SHA = "1111111111111111111111111111111111111111"


def new_change(api: Api, **fields: Any) -> str:
    body = {
        "title": "Rotate certs",
        "scope": "gateway",
        "impact": "reconnects",
        "rollback_plan": "re-import old cert",
        "risk": "low",
        "ticket": "ENG-1",
        "environments": ["production"],
    } | fields
    response = api.call("requester", "POST", "/api/v1/changes", json=body)
    assert response.status_code == 201, response.text
    key: str = response.json()["key"]
    return key


def approved_change(api: Api, **fields: Any) -> str:
    key = new_change(api, **fields)
    assert api.call("requester", "POST", f"/api/v1/changes/{key}/submit").status_code == 200
    for who, role in (("cab", "cab"), ("iso", "iso")):
        r = api.call(
            who,
            "POST",
            f"/api/v1/changes/{key}/approvals",
            json={"role": role, "decision": "approved", "version": 1},
        )
        assert r.status_code == 200, r.text
    return key


def record_tests(
    api: Api, key: str, env: str = "staging", sha: str = SHA, report: bytes = JUNIT_PASS
) -> httpx.Response:
    return api.call(
        "pipeline",
        "POST",
        f"/api/v1/changes/{key}/test-runs",
        data={"environment": env, "commit": sha},
        files={"junit": ("report.xml", report, "application/xml")},
    )


Gate = Callable[..., dict[str, Any]]


def gate(
    api: Api, key: str, env: str = "production", sha: str = SHA, who: str = "pipeline"
) -> dict[str, Any]:
    r = api.call(
        who, "POST", "/api/v1/gate", json={"change": key, "environment": env, "commit": sha}
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body
