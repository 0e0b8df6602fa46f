"""Fixtures for integration tests: real protocol peers on loopback, never patched dotted paths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from changegate.sandbox.drive import FakeDrive, evidence_drive
from tests.integrations.fake_github import FakeGitHub, generate_private_key_pem


@pytest.fixture(scope="session")
def github_app_key() -> bytes:
    """One RSA key per session: generating a 2048-bit key per test would dominate the run."""
    return generate_private_key_pem()


@pytest.fixture
def fake_github(github_app_key: bytes) -> Iterator[FakeGitHub]:
    """A local GitHub with `.url`, `.app_id`, `.private_key_pem`, `.clock`, `.reviews`,
    `.token_requests`, `.requests`; `pending_run(run_id)` returns a realistic webhook payload."""
    with FakeGitHub(private_key_pem=github_app_key) as fake:
        yield fake
    assert not fake.errors, f"the fake GitHub itself failed: {fake.errors!r}"


@pytest.fixture
def fake_drive(tmp_path: Path, github_app_key: bytes) -> Iterator[FakeDrive]:
    """A local Drive v3 over TLS with one shared drive (`.shared`), and the service account
    key file whose token_uri is the peer (`.key_file`); `.ca_path` is the CA to trust."""
    with evidence_drive(tmp_path, github_app_key) as fake:
        yield fake
    assert not fake.errors, f"the fake Drive itself failed: {fake.errors!r}"
