"""The CI-facing commands, in-process and over HTTP with only a URL and a token."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from changegate.cli.main import run
from changegate.db.tokens import Tokens
from changegate.services import tokens
from tests.api.conftest import JUNIT_FAIL, JUNIT_PASS, SHA, Api, approved_change


@pytest.fixture
def remote(api: Api, server: str, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setenv("CHANGEGATE_URL", server)
    monkeypatch.setenv("CHANGEGATE_TOKEN", api.secrets["ci@example.com"])
    monkeypatch.setenv("CHANGEGATE_DATABASE_URL", "sqlite:////nonexistent/unused.db")
    return api


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_pipeline_with_only_a_url_and_token(
    remote: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = approved_change(remote)
    report, stack = tmp_path / "junit.xml", tmp_path / "stack.yaml"
    report.write_bytes(JUNIT_PASS)
    stack.write_text("Resources: {}\n")
    code, out, err = cli(
        capsys, "gate", "check", "--change", key, "--env", "production", "--commit", SHA
    )
    assert code == 1 and "DENIED" in out and "NO  CM-4" in out, err
    code, out, err = cli(
        capsys,
        "test",
        "record",
        key,
        "--env",
        "staging",
        "--commit",
        SHA,
        "--junit",
        str(report),
        "--doc",
        "https://docs.google.com/d/1",
    )
    assert code == 0 and "passing: 2 passed of 2 executed" in out and "(isolated)" in out, err
    code, out, err = cli(
        capsys, "gate", "check", "--change", key, "--env", "production", "--commit", SHA, "--json"
    )
    decision = json.loads(out)
    assert code == 0 and decision["allowed"] is True, err
    code, out, err = cli(
        capsys,
        "deploy",
        "start",
        "--change",
        key,
        "--env",
        "production",
        "--commit",
        SHA,
        "--run-url",
        "https://ci.example.com/runs/7",
        "--iac-file",
        str(stack),
        "--decision",
        str(decision["decision_id"]),
        "--json",
    )
    assert code == 0, err
    deployment = json.loads(out)
    assert len(deployment["iac_sha256"]) == 64
    code, out, err = cli(capsys, "deploy", "finish", str(deployment["id"]))
    assert code == 0 and "change is implemented" in out, err
    actions = [json.loads(line)["action"] for line in remote.app.read(_export).splitlines()]
    assert actions.count("gate.denied") == 1 and actions.count("gate.allowed") == 1
    assert "deployment.succeeded" in actions and "change.implemented" in actions


def _export(ctx: object) -> str:
    import io

    from changegate import ledger

    out = io.StringIO()
    ledger.export(ctx.session, out)  # type: ignore[attr-defined]
    return out.getvalue()


def test_remote_fails_closed_when_unreachable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHANGEGATE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("CHANGEGATE_TOKEN", "cgt_whatever")
    code, out, err = cli(
        capsys, "gate", "check", "--change", "CHG-1", "--env", "production", "--commit", SHA
    )
    assert code == 2 and "failing closed" in err and out == ""


def test_remote_with_a_revoked_token(remote: Api, capsys: pytest.CaptureFixture[str]) -> None:
    remote.app.run(
        lambda ctx: [
            tokens.revoke(ctx, t.id)
            for t in Tokens(ctx.session).page(100, 0).rows
            if t.user.email == "ci@example.com"
        ],
        actor="local-admin",
    )
    code, _, err = cli(
        capsys, "gate", "check", "--change", "CHG-1", "--env", "production", "--commit", SHA
    )
    assert code == 1 and "invalid, expired or revoked token" in err


def test_failing_report_is_recorded_but_is_not_evidence(
    remote: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = approved_change(remote)
    report = tmp_path / "junit.xml"
    report.write_bytes(JUNIT_FAIL)
    code, out, _ = cli(
        capsys, "test", "record", key, "--env", "staging", "--commit", SHA, "--junit", str(report)
    )
    assert code == 0 and "NOT passing" in out
    code, _, _ = cli(
        capsys, "gate", "check", "--change", key, "--env", "production", "--commit", SHA
    )
    assert code == 1


def test_hostile_report_is_refused_over_http(
    remote: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = approved_change(remote)
    report = tmp_path / "evil.xml"
    report.write_text(
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM '
        '"file:///etc/passwd">]><testsuite><testcase name="&x;"/></testsuite>'
    )
    code, _, err = cli(
        capsys, "test", "record", key, "--env", "staging", "--commit", SHA, "--junit", str(report)
    )
    assert code == 2 and "DTD" in err and len(err.strip().splitlines()) == 1


def test_in_process_needs_as(
    api: Api, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHANGEGATE_URL", raising=False)
    code, _, err = cli(
        capsys, "gate", "check", "--change", "CHG-1", "--env", "production", "--commit", SHA
    )
    assert code == 2 and "--as EMAIL" in err
