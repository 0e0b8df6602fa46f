"""POST /api/v1/changes/{key}/test-runs with Google Workspace: a Doc verified against a local
Drive v3, a link outside the shared drive refused 422 with nothing written, a filing queued."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from changegate.config_workspace import GoogleSettings
from changegate.sandbox.drive import FakeDrive, evidence_drive
from tests.api.conftest import JUNIT_PASS, Api, approved_change
from tests.integrations.fake_github import generate_private_key_pem


@pytest.fixture
def drive(tmp_path: Path, api: Api) -> Iterator[FakeDrive]:
    with evidence_drive(tmp_path, generate_private_key_pem()) as fake:
        google = GoogleSettings(fake.key_file, None, fake.url, fake.ca_path)
        api.app.settings = replace(api.app.settings, google=google)
        workspace = api.app.policy.workspace.model_copy(update={"shared_drive": fake.shared})
        api.app.policy = api.app.policy.model_copy(update={"workspace": workspace})
        yield fake
    assert not fake.errors, fake.errors


def post(api: Api, key: str, **form: str) -> httpx.Response:
    return api.call(
        "pipeline",
        "POST",
        f"/api/v1/changes/{key}/test-runs",
        data={"environment": "staging", "commit": "d" * 40, **form},
        files={"junit": ("report.xml", JUNIT_PASS, "application/xml")},
    )


def test_a_doc_in_the_shared_drive_is_verified_and_frozen(api: Api, drive: FakeDrive) -> None:
    key = approved_change(api)
    doc = drive.add_doc("Results", drive.shared, "ok")
    r = post(api, key, doc_url=f"https://docs.google.com/spreadsheets/d/{doc.id}/edit")
    assert r.status_code == 201, r.text
    [frozen] = r.json()["drive_files"]
    assert frozen["content_sha256"] == hashlib.sha256(doc.pdf).hexdigest()


def test_a_doc_of_another_drive_is_422_and_nothing_is_written(api: Api, drive: FakeDrive) -> None:
    key = approved_change(api)
    doc = drive.add_doc("Results", drive.add_drive("Elsewhere"), "ok")
    r = post(api, key, doc_url=f"https://docs.google.com/document/d/{doc.id}/edit")
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "is not in the shared drive" in r.json()["detail"]
    listed = api.call("pipeline", "GET", f"/api/v1/changes/{key}/test-runs").json()
    assert listed["total"] == 0


def test_upload_queues_the_filing(api: Api, drive: FakeDrive) -> None:
    key = approved_change(api)
    r = post(api, key, upload="true")
    assert r.status_code == 201, r.text
    assert r.json()["workspace"] == "filing pending"
