"""Google Workspace's pure parts: which links name a Drive file, the settings, the policy's
default for documented tests, and the gate's CM-4 reason when the policy requires it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from changegate import policy as policy_file
from changegate.config_workspace import google_from
from changegate.domain.errors import BadInput
from changegate.domain.gate import GateFacts, decide
from changegate.services.workspace import doc_file_id
from tests.unit.test_gate_decide import CHANGE, PASSING, REQUEST

ID = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-"
LINKS = {
    f"https://docs.google.com/document/d/{ID}/edit?usp=sharing": ID,
    f"https://docs.google.com/spreadsheets/d/{ID}/edit#gid=0": ID,
    f"https://drive.google.com/file/d/{ID}/view": ID,
    f"https://drive.google.com/open?id={ID}": ID,
}
NOT_LINKS = [
    "https://wiki.example.com/results",
    f"http://docs.google.com/document/d/{ID}/edit",  # not https
    f"https://docs.google.com.evil.example/document/d/{ID}/edit",
    "https://docs.google.com/document/u/0/",
    "https://drive.google.com/open?id=short",
]


@pytest.mark.parametrize(("url", "file_id"), sorted(LINKS.items()))
def test_docs_sheets_and_drive_links_name_their_file(url: str, file_id: str) -> None:
    assert LINKS
    assert doc_file_id(url) == file_id


@pytest.mark.parametrize("url", NOT_LINKS)
def test_other_links_are_bad_input(url: str) -> None:
    assert NOT_LINKS
    with pytest.raises(BadInput, match="is not a Google Docs, Sheets or Drive link"):
        doc_file_id(url)


BAD_SETTINGS = {
    "subject without key": (
        {"CHANGEGATE_GOOGLE_SUBJECT": "qa@example.com"},
        "CHANGEGATE_GOOGLE_SUBJECT is set but CHANGEGATE_GOOGLE_CREDENTIALS is not",
    ),
    "subject not an email": (
        {"CHANGEGATE_GOOGLE_CREDENTIALS": "sa.json", "CHANGEGATE_GOOGLE_SUBJECT": "qa"},
        "not an email address",
    ),
    "plain http": (
        {"CHANGEGATE_GOOGLE_CREDENTIALS": "sa.json", "CHANGEGATE_GOOGLE_DRIVE_URL": "http://x"},
        "expected an https:// URL",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_SETTINGS))
def test_bad_settings_are_named(case: str) -> None:
    assert BAD_SETTINGS
    env, said = BAD_SETTINGS[case]
    with pytest.raises(BadInput, match=said):
        google_from(env)


def test_no_settings_no_drive() -> None:
    assert google_from({}) is None
    found = google_from({"CHANGEGATE_GOOGLE_CREDENTIALS": "/etc/changegate/sa.json"})
    assert found is not None and str(found.credentials) == "/etc/changegate/sa.json"


@pytest.mark.parametrize(
    ("workspace", "gate", "required"),
    [
        ({}, {}, False),
        ({"shared_drive": "0AAbc"}, {}, True),
        ({"shared_drive": "0AAbc"}, {"require_documented_tests": False}, False),
        ({}, {"require_documented_tests": True}, True),
    ],
)
def test_documented_tests_default_on_with_a_shared_drive(
    workspace: dict[str, object], gate: dict[str, object], required: bool
) -> None:
    document = policy_file.merge(
        policy_file.default_document(), {"workspace": workspace, "gate": gate}
    )
    assert policy_file.from_document(document, "test").documented_tests is required


def test_the_gate_counts_only_a_documented_run_when_the_policy_requires_it() -> None:
    undocumented = replace(PASSING, documented=False)
    facts = GateFacts(REQUEST, CHANGE, (undocumented,), documented_tests=True)
    denied = decide(facts)
    [cm4] = [r for r in denied.reasons if r.control == "CM-4"]
    assert not denied.allowed and not cm4.ok
    assert "passed but is not documented in Google Workspace" in cm4.message
    assert decide(replace(facts, documented_tests=False)).allowed
    assert decide(replace(facts, evidence=(PASSING,))).allowed
