"""The repository's own test data: every file a test reads is under tests/fixtures/.

`fixture(...)` returns a path that must exist (a missing input fails the test loudly, it never
skips), and `files(...)` a glob that must match something, so a parametrised test can never run
over an empty parameter set. Provenance and licences: tests/fixtures/SOURCES.md.
"""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"


class MissingFixture(AssertionError):
    """A test input is missing from tests/fixtures (a broken checkout, or a renamed file)."""


def fixture(*parts: str) -> Path:
    path = FIXTURES.joinpath(*parts)
    if not path.exists():
        raise MissingFixture(f"test input missing: {path} (see tests/fixtures/SOURCES.md)")
    return path


def files(folder: str, pattern: str, minimum: int = 1) -> list[Path]:
    """Files under tests/fixtures/<folder> matching the glob; at least `minimum` of them."""
    found = sorted(
        p for p in fixture(folder).glob(pattern) if p.is_file() and not p.name.startswith("LICENSE")
    )
    if len(found) < minimum:
        raise MissingFixture(
            f"expected at least {minimum} files {pattern} under "
            f"{FIXTURES / folder}, found {len(found)}"
        )
    return found
