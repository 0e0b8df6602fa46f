"""`changegate evidence export|verify` as an auditor runs them: the demo's quarter exported as
a directory and as a zip, verified offline to the live audit's digest, and every tampering
named by file with exit 1; bad input is one line and exit 2, and writes nothing."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from changegate.services.evidence import signing
from tests.conftest import Result

Cli = Callable[..., Result]
AUDITOR = ("--as", "tom.whitfield@casperstudios.example")
ISO = ("--as", "daniel.okafor@casperstudios.example")
REQUESTER = ("--as", "aisha.khan@casperstudios.example")


@pytest.fixture
def signed(cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    key = tmp_path / "key.pem"
    assert cli("ledger", "keygen", "--out", str(key)).code == 0
    monkeypatch.setenv("CHANGEGATE_SIGNING_KEY", str(key))
    return cli


def export(cli: Cli, out: Path, *extra: str) -> Result:
    return cli("evidence", "export", "--period", "2026-Q3", "--out", str(out), *AUDITOR, *extra)


def tampered(package: Path, where: Path, spoil: Callable[[Path], None]) -> Path:
    copy = where / f"copy-{len(list(where.iterdir()))}"
    shutil.copytree(package, copy)
    spoil(copy)
    return copy


def flip_byte(p: Path) -> None:
    csv = p / "populations" / "deployments.csv"
    data = bytearray(csv.read_bytes())
    data[len(data) // 2] ^= 1
    csv.write_bytes(bytes(data))


def edit_ledger_line(p: Path) -> None:
    jsonl = p / "ledger" / "ledger.jsonl"
    jsonl.write_text(
        jsonl.read_text().replace('"clock_override":true', '"clock_override":false', 1)
    )


def resign_with_another_key(p: Path) -> None:
    manifest = json.loads((p / "manifest.json").read_text())
    forged = signing.sign(manifest, Ed25519PrivateKey.generate())
    (p / "manifest.json").write_text(json.dumps(forged))


TAMPERING: dict[str, tuple[Callable[[Path], None], str]] = {
    "one byte of a population": (
        flip_byte,
        "FAILED: file hashes: populations/deployments.csv: SHA-256 or size differs",
    ),
    "a file removed": (
        lambda p: (p / "policy" / "policy.json").unlink(),
        "FAILED: file hashes: policy/policy.json: listed in the manifest but missing",
    ),
    "an extra file": (
        lambda p: (p / "changes" / "extra.json").write_text("{}"),
        "FAILED: file hashes: changes/extra.json: not listed in the manifest",
    ),
    "a manifest re-signed with another key": (
        resign_with_another_key,
        "FAILED: manifest signature: manifest.json: signed by a key other than "
        "ledger/checkpoint.json's",
    ),
    "a ledger line edited": (
        edit_ledger_line,
        "FAILED: file hashes: ledger/ledger.jsonl: SHA-256 or size differs",
    ),
}


def test_the_demo_quarter_exports_verifies_and_names_every_tampering(
    signed: Cli, tmp_path: Path
) -> None:
    assert signed("demo", "--seed-only").code == 0
    live = signed("audit", "run", "--period", "2026-Q3", *ISO, "--json")
    digest = json.loads(live.out)["run"]["digest"]
    out = tmp_path / "out"
    out.mkdir()
    done = export(signed, out / "q3")
    assert done.code == 0, done.err
    assert done.err == ""  # not a terminal: no progress lines
    assert done.out.startswith(f"evidence for 2026-Q3 written to {out / 'q3'}: ")
    zipped = export(signed, out / "q3.zip", "--quiet")
    assert zipped.code == 0, zipped.err
    # The demo has no checkpoint: the first export signed one at the quarter's last record
    # (after sealing the package), the second reused it, and the ledger still verifies.
    chain = signed("ledger", "verify")
    assert chain.code == 0, chain.out
    assert "1 checkpoint matched" in chain.out
    for package in (out / "q3", out / "q3.zip"):
        checked = signed("evidence", "verify", str(package))
        assert checked.code == 0, checked.out
        lines = checked.out.splitlines()
        assert lines[-1] == "evidence ok"
        assert f"ok: audit re-performed (digest {digest})" in lines
        assert len(lines) == 10  # one per check, then the verdict
    spoilt = tmp_path / "spoilt"
    spoilt.mkdir()
    assert TAMPERING
    for name, (spoil, expected) in TAMPERING.items():
        result = signed("evidence", "verify", str(tampered(out / "q3", spoilt, spoil)))
        assert result.code == 1, name
        assert any(line.startswith(expected) for line in result.out.splitlines()), (
            name,
            result.out,
        )
        assert result.out.splitlines()[-1].startswith("evidence FAILED: "), name


def test_verify_needs_no_database_and_no_settings(
    signed: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert signed("user", "add", "aud@example.com", "--name", "A", "--role", "auditor").code == 0
    out = tmp_path / "out"
    out.mkdir()
    done = signed(
        "evidence", "export", "--period", "2026-Q3", "--out", str(out / "p.zip"),
        "--as", "aud@example.com",
    )  # fmt: skip
    assert done.code == 0, done.err
    monkeypatch.setenv("CHANGEGATE_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("CHANGEGATE_POLICY", str(tmp_path / "no-such-policy.yaml"))
    monkeypatch.delenv("CHANGEGATE_SIGNING_KEY")
    checked = signed("evidence", "verify", str(out / "p.zip"))
    assert checked.code == 0, checked.out + checked.err
    assert checked.out.splitlines()[-1] == "evidence ok"


@pytest.fixture
def people(cli: Cli) -> Cli:
    for email, role in (("aud@example.com", "auditor"), ("rob@example.com", "requester")):
        assert cli("user", "add", email, "--name", email, "--role", role).code == 0
    return cli


def test_refusals_are_one_line_and_write_nothing(
    people: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    no_key = people(
        "evidence", "export", "--period", "2026-Q3", "--out", str(out / "a"),
        "--as", "aud@example.com",
    )  # fmt: skip
    assert (no_key.code, no_key.err.count("\n")) == (2, 1)
    assert "changegate ledger keygen" in no_key.err
    key = tmp_path / "key.pem"
    assert people("ledger", "keygen", "--out", str(key)).code == 0
    monkeypatch.setenv("CHANGEGATE_SIGNING_KEY", str(key))
    cases = {
        "a requester": (("2026-Q3", str(out / "b"), "rob@example.com"), 1, "auditor"),
        "a bad period": (("2026-Q5", str(out / "c"), "aud@example.com"), 2, "2026-Q5"),
        "an occupied directory": (("2026-Q3", str(tmp_path), "aud@example.com"), 2, "empty"),
    }
    assert cases
    for name, ((period, target, who), code, said) in cases.items():
        refused = people("evidence", "export", "--period", period, "--out", target, "--as", who)
        assert (refused.code, refused.err.count("\n")) == (code, 1), (name, refused.err)
        assert said in refused.err, name
    assert list(out.iterdir()) == []
    (tmp_path / "junk.zip").write_text("not a zip")
    for package in (tmp_path / "junk.zip", tmp_path / "missing"):
        bad = people("evidence", "verify", str(package))
        assert (bad.code, bad.err.count("\n"), bad.out) == (2, 1, ""), bad.err
