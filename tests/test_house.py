"""The house explains itself, and what it says stays true."""

from __future__ import annotations

import re
from pathlib import Path

from changegate.db import schema

ROOT = Path(__file__).resolve().parents[1]


def test_contributing_names_only_paths_that_exist() -> None:
    text = (ROOT / "CONTRIBUTING.md").read_text()
    paths = set(re.findall(r"`((?:src|tests|bench|docs)/[\w./-]+)`", text))
    assert len(paths) > 25
    missing = sorted(p for p in paths if not (ROOT / p.rstrip("/")).exists())
    assert missing == []


def test_the_schema_head_constant_is_alembics_head() -> None:
    assert schema.alembic_head() == schema.HEAD
