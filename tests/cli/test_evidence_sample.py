"""`changegate evidence sample`: a reproducible sample from a package's population, offline,
drawn exactly as the documented algorithm says (re-implemented here by hand with hashlib)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result

Cli = Callable[..., Result]
AUDITOR = ("--as", "tom.whitfield@casperstudios.example")


@pytest.fixture
def package(cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    key = tmp_path / "key.pem"
    assert cli("ledger", "keygen", "--out", str(key)).code == 0
    monkeypatch.setenv("CHANGEGATE_SIGNING_KEY", str(key))
    assert cli("demo", "--seed-only").code == 0
    out = tmp_path / "q3"
    done = cli("evidence", "export", "--period", "2026-Q3", "--out", str(out), *AUDITOR)
    assert done.code == 0, done.err
    return out


def by_hand(package: Path, population: str, seed: str, width: int = 1) -> list[str]:
    text = (package / "populations" / f"{population}.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))[1:]
    keys = ["/".join(r[:width]) for r in rows]
    return sorted(keys, key=lambda k: hashlib.sha256(f"{seed}\n{k}".encode()).hexdigest())


def test_a_sample_is_the_lowest_ranks_and_draws_again_the_same(
    cli: Cli, package: Path, tmp_path: Path
) -> None:
    args = ("evidence", "sample", str(package), "--population", "approvals")
    first = cli(*args, "--size", "3", "--seed", "fy2026-q3", "--json")
    assert first.code == 0, first.err
    record = json.loads(first.out)
    expected = by_hand(package, "approvals", "fy2026-q3")[:3]
    assert len(expected) == 3
    assert record["keys"] == expected
    assert record["algorithm"] == "sha256-rank/1"
    assert record["key_columns"] == ["id"]
    csv_bytes = (package / "populations" / "approvals.csv").read_bytes()
    assert record["population_sha256"] == hashlib.sha256(csv_bytes).hexdigest()
    again = cli(*args, "--size", "3", "--seed", "fy2026-q3", "--json")
    assert json.loads(again.out) == record
    other = cli(*args, "--size", "3", "--seed", "another", "--json")
    assert json.loads(other.out)["keys"] != record["keys"]
    out = tmp_path / "sample.csv"
    written = cli(*args, "--size", "3", "--seed", "fy2026-q3", "--out", str(out))
    assert written.code == 0, written.err
    assert "3 of" in written.out
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert [r[0] for r in rows[1:]] == expected
    assert json.loads(out.with_suffix(".json").read_text())["keys"] == expected


def test_auto_size_and_composite_keys(cli: Cli, package: Path) -> None:
    auto = cli(
        "evidence", "sample", str(package), "--population", "change_versions",
        "--size", "auto", "--seed", "s", "--json",
    )  # fmt: skip
    assert auto.code == 0, auto.err
    record = json.loads(auto.out)
    # A change's versions share the change's key: the key takes the version column too.
    assert record["key_columns"] == ["change_key", "version"]
    assert record["size"] >= 1
    assert record["size_basis"]
    assert record["keys"] == by_hand(package, "change_versions", "s", width=2)[: record["size"]]
    assert all(f.startswith("changes/") for f in record["evidence"])


def test_a_tampered_population_is_refused_naming_the_file(cli: Cli, package: Path) -> None:
    target = package / "populations" / "approvals.csv"
    target.write_bytes(target.read_bytes().replace(b"approved", b"rejected", 1))
    refused = cli(
        "evidence", "sample", str(package), "--population", "approvals",
        "--size", "2", "--seed", "s",
    )  # fmt: skip
    assert refused.code == 1
    assert "populations/approvals.csv does not match the manifest" in refused.err


BAD = {
    "unknown population": (("--population", "nope", "--size", "2", "--seed", "s"), "it has: "),
    "size not a number": (("--population", "changes", "--size", "many", "--seed", "s"), "--size"),
    "size zero": (("--population", "changes", "--size", "0", "--seed", "s"), "--size"),
    "empty seed": (("--population", "changes", "--size", "2", "--seed", ""), "--seed"),
}


def test_bad_input_is_one_line_exit_2(cli: Cli, package: Path) -> None:
    assert BAD
    for case, (args, said) in BAD.items():
        bad = cli("evidence", "sample", str(package), *args)
        assert (bad.code, bad.err.count("\n"), bad.out) == (2, 1, ""), (case, bad.err)
        assert said in bad.err, case


def test_the_package_carries_minutes_and_a_valid_oscal_document(cli: Cli, package: Path) -> None:
    from trestle.oscal.assessment_results import AssessmentResults

    checked = cli("evidence", "verify", str(package), "--json")
    assert checked.code == 0, checked.out
    verdict = json.loads(checked.out)
    assert verdict["ok"] is True
    assert [c["name"] for c in verdict["checks"] if not c["ok"]] == []
    assert len(verdict["checks"]) == 9

    manifest = json.loads((package / "manifest.json").read_text())
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    assert (package / "cab" / "meeting-1.pdf").read_bytes().startswith(b"%PDF")
    assert "cab/meeting-1.html" in listed
    assert (package / "populations" / "cab_meetings.csv").read_text().count("\n") == 2
    doc = json.loads((package / "oscal" / "assessment-results.json").read_text())
    AssessmentResults.model_validate(doc["assessment-results"])
    resources = doc["assessment-results"]["back-matter"]["resources"]
    pinned = {r["rlinks"][0]["href"]: r["rlinks"][0]["hashes"][0]["value"] for r in resources}
    assert pinned["populations/approvals.csv"] == listed["populations/approvals.csv"]
    assert pinned["cab/meeting-1.pdf"] == listed["cab/meeting-1.pdf"]
    result = doc["assessment-results"]["results"][0]
    failing = [f for f in result["findings"] if f["target"]["status"]["state"] == "not-satisfied"]
    assert len(failing) == manifest["audit"]["counts"]["findings"]


def test_the_docs_file_hash_recipe_runs_verbatim(package: Path) -> None:
    import re
    import subprocess

    docs = (Path(__file__).resolve().parents[2] / "docs" / "evidence.md").read_text()
    found = re.search(r"\*\*File hashes\.\*\*.*?```sh\n(.*?)```", docs, re.S)
    assert found, "docs/evidence.md lost its file-hash recipe"
    recipe = found.group(1)

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", recipe], cwd=package, text=True, capture_output=True, check=False
        )

    # Twice: the recipe must not trip over what an earlier run left behind.
    for _ in range(2):
        clean = run()
        assert clean.stdout.splitlines() == ["every file matches", "nothing added or missing"]
    (package / "changes" / "extra.json").write_text("{}")
    assert "> changes/extra.json" in run().stdout


def test_a_cab_decision_dropped_and_re_signed_disagrees_with_the_ledger(
    cli: Cli, package: Path, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from tests.services.test_evidence import resign

    key = load_pem_private_key((tmp_path / "key.pem").read_bytes(), password=None)
    csv_path = package / "populations" / "cab_decisions.csv"
    lines = csv_path.read_bytes().split(b"\r\n")
    assert lines[1].startswith(b"1,1,CHG-44,")
    csv_path.write_bytes(b"\r\n".join([lines[0], *lines[2:]]))
    resign(package, key, "populations/cab_decisions.csv")  # type: ignore[arg-type]
    checked = cli("evidence", "verify", str(package))
    assert checked.code == 1
    assert (
        "FAILED: populations against the ledger: populations/cab_decisions.csv: in the ledger, "
        "not in the population: 1 1 CHG-44 priya.raman@casperstudios.example cab deferred 1  "
        "2026-09-28T14:19:00.000000+00:00"
    ) in checked.out.splitlines()
