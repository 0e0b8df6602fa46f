"""`changegate review policy|config|metrics|doc` as a user runs them: preview, sign by digest,
print; bad input is one line and exit 2, a refusal exit 1, and neither writes anything.

The clock is pinned with CHANGEGATE_CLOCK: 2027-01-10, so 2026 has ended and 2027 has not."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result

Cli = Callable[..., Result]
IVY = "ivy@example.com"


@pytest.fixture
def org(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("CHANGEGATE_ALLOW_CLOCK_OVERRIDE", "true")
    monkeypatch.setenv("CHANGEGATE_CLOCK", "2027-01-10T09:00:00Z")
    for email, name, role in (
        ("bob@example.com", "Bob", "cab"),
        (IVY, "Ivy", "iso"),
        ("sam@example.com", "Sam", "security_engineer"),
    ):
        assert cli("user", "add", email, "--name", name, "--role", role).code == 0
    return cli


def digest_of(preview: Result) -> str:
    found = re.search(r"^sha256 ([0-9a-f]{64})$", preview.out, re.MULTILINE)
    assert found, preview.out
    return found.group(1)


def nothing_signed(cli: Cli) -> bool:
    return cli("review", "list").out == "no signed reviews\n"


@pytest.mark.parametrize("noun", ["policy", "config"])
def test_preview_then_sign_the_printed_digest(org: Cli, noun: str, tmp_path: Path) -> None:
    preview = org("review", noun, "--year", "2026", "--preview")
    assert preview.code == 0, preview.err
    digest = digest_of(preview)
    assert f"to sign this report: changegate review {noun} --year 2026 --sha256 {digest}" in (
        preview.out
    )
    as_json = json.loads(org("review", noun, "--year", "2026", "--preview", "--json").out)
    assert as_json["sha256"] == digest and as_json["signable"] is True
    signed = org("review", noun, "--year", "2026", "--sha256", digest, "--as", IVY, "--json")
    assert signed.code == 0, signed.err
    review = json.loads(signed.out)
    assert (review["period"], review["report"]["report_sha256"]) == ("2026", digest)
    html, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    made = org("review", "doc", str(review["id"]), "--format", "html", "--out", str(html))
    assert made.code == 0 and made.out.endswith(f"of HTML written to {html}\n"), made.err
    assert digest in html.read_text() and IVY in html.read_text()
    assert org("review", "doc", str(review["id"]), "--out", str(pdf)).code == 0
    assert pdf.read_bytes().startswith(b"%PDF")


def test_refusals_exit_1_and_write_nothing(org: Cli) -> None:
    digest = digest_of(org("review", "config", "--year", "2026", "--preview"))
    as_cab = org(
        "review", "config", "--year", "2026", "--sha256", digest, "--as", "bob@example.com"
    )
    assert as_cab.code == 1 and "needs the iso role" in as_cab.err
    running = org("review", "policy", "--year", "2027", "--preview")
    assert running.code == 0 and "not signable yet: 2027 has not ended yet" in running.out
    early = org("review", "policy", "--year", "2027", "--sha256", digest_of(running), "--as", IVY)
    assert early.code == 1 and "2027 has not ended yet" in early.err
    stale = org("review", "config", "--year", "2026", "--sha256", "0" * 64, "--as", IVY)
    assert stale.code == 1 and "changed since it was previewed" in stale.err
    assert nothing_signed(org)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("review", "policy", "--year", "20x6", "--preview"), "not a year: '20x6'"),
        (("review", "config", "--year", "20x6", "--sha256", "0" * 64), "not a year"),
        (("review", "policy", "--year", "2026", "--sha256", "abc"), "not a SHA-256: 'abc'"),
        (("review", "policy", "--year", "2026", "--sha256", "g" * 64), "not a SHA-256"),
        (("review", "policy", "--year", "2026"), "give --sha256 HEX from"),
        (("review", "config", "--year", "2026", "--preview", "--sha256", "0" * 64), "not both"),
        (("review", "metrics", "--quarter", "2026-Q5", "--preview"), "not a quarter"),
        (("review", "metrics", "--quarter", "2026-Q4", "--sha256", "12"), "not a SHA-256"),
    ],
)
def test_bad_input_is_one_line_exit_2(org: Cli, args: tuple[str, ...], message: str) -> None:
    result = org(*args, "--as", IVY) if "--preview" not in args else org(*args)
    assert result.code == 2, (result.out, result.err)
    assert result.err.count("\n") == 1 and message in result.err, result.err
    assert "Traceback" not in result.err
    assert nothing_signed(org)


def test_doc_of_an_unknown_review_or_into_a_missing_folder(org: Cli, tmp_path: Path) -> None:
    missing = org("review", "doc", "7", "--format", "pdf", "--out", str(tmp_path / "r.pdf"))
    assert missing.code == 2 and missing.err.count("\n") == 1
    digest = digest_of(org("review", "policy", "--year", "2026", "--preview"))
    org("review", "policy", "--year", "2026", "--sha256", digest, "--as", IVY)
    nowhere = tmp_path / "no" / "such" / "r.pdf"
    failed = org("review", "doc", "1", "--out", str(nowhere))
    assert failed.code == 2 and failed.err.count("\n") == 1 and "cannot write" in failed.err
    assert org("review", "doc", "1", "--format", "docx", "--out", "x").code == 2


def test_metrics_preview_then_pinned_signature_and_the_old_call(org: Cli) -> None:
    preview = org("review", "metrics", "--quarter", "2026-q4", "--preview")
    assert preview.code == 0 and '"quarter": "2026-Q4"' in preview.out
    digest = digest_of(preview)
    pinned = org("review", "metrics", "--quarter", "2026-Q4", "--sha256", digest, "--as", IVY)
    assert pinned.code == 0 and pinned.out.startswith("quarterly metrics review 1 for 2026-Q4")
    old = org("review", "metrics", "--quarter", "2026-Q4", "--as", IVY)
    assert old.code == 0 and old.out.startswith("quarterly metrics review 2 for 2026-Q4")
