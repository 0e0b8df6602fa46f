"""Fixtures for integration tests: real protocol peers on loopback, never patched dotted paths."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
