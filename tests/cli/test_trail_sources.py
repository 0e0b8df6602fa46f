"""Which local files `trail ingest FILE|DIR...` reads, in which order (cli/trail_sources.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from changegate.cli.trail_sources import files
from changegate.domain.errors import BadInput

LAYOUT = [
    "AWSLogs/o-1/111111111111/CloudTrail/us-east-1/2026/08/03/b.json.gz",
    "AWSLogs/o-1/111111111111/CloudTrail/us-east-1/2026/08/03/a.json.gz",
    "AWSLogs/o-1/111111111111/CloudTrail/eu-west-1/2026/08/04/c.json",
    "AWSLogs/o-1/111111111111/CloudTrail-Digest/us-east-1/2026/08/03/d.txt",
    "AWSLogs/o-1/222222222222/CloudTrail/us-east-1/2026/08/03/e.ndjson",
    "AWSLogs/o-1/111111111111-x/CloudTrail/us-east-1/2026/08/03/f.jsonl",
]


def test_a_tree_is_read_folder_by_folder_in_name_order(tmp_path: Path) -> None:
    for name in LAYOUT:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    (tmp_path / "AWSLogs" / "loop").symlink_to(tmp_path / "AWSLogs")  # not followed
    single = tmp_path / "single.json"
    single.write_text("{}")
    got = [Path(name).relative_to(tmp_path).as_posix() for name, _, _ in files([tmp_path, single])]
    expected = sorted((n for n in LAYOUT if not n.endswith(".txt")), key=lambda n: n.split("/"))
    assert got == [*expected, "single.json", "single.json"]  # as given, the file twice


def test_every_path_is_checked_before_any_is_read(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}")
    with pytest.raises(BadInput, match=r"cannot read .*missing: no such file or directory"):
        files([tmp_path, tmp_path / "missing"])
