"""The fixtures are all there, all accounted for in SOURCES.md, and unchanged since copied."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from tests.fixtures import FIXTURES

ROW = re.compile(r"^\| (?P<file>[^|]+?) \| (?P<bytes>\d+) \| (?P<sha>[0-9a-f]{16}) \|")


def _listed() -> dict[str, tuple[int, str]]:
    rows = {}
    for line in (FIXTURES / "SOURCES.md").read_text().splitlines():
        match = ROW.match(line)
        if match:
            rows[match["file"]] = (int(match["bytes"]), match["sha"])
    return rows


def _present() -> set[str]:
    return {
        str(p.relative_to(FIXTURES))
        for p in FIXTURES.rglob("*")
        if p.is_file() and p.name != "SOURCES.md"
    }


def test_every_fixture_is_listed_with_its_provenance_and_nothing_listed_is_missing() -> None:
    listed = _listed()
    assert len(listed) > 200
    assert set(listed) == _present()


def test_every_fixture_is_byte_for_byte_what_sources_md_records() -> None:
    for name, (size, prefix) in _listed().items():
        data = (FIXTURES / name).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()[:16]) == (size, prefix), name


def test_nothing_in_the_repository_reads_outside_it() -> None:
    root = Path(__file__).resolve().parents[1]
    offenders = [
        str(p.relative_to(root))
        for folder in ("src", "tests", "bench")
        for p in (root / folder).rglob("*.py")
        if p.name != "test_fixtures.py"
        and re.search(r"\.\./shared|[\"']shared[\"']\s*/", p.read_text())
    ]
    assert offenders == []
