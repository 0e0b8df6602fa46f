"""CloudTrail in the evidence package (CM-5): the period's production changes and attempts as a
population, each change's pipeline calls in its folder with the record as received, and the
audit re-performed from the package to the same CM-5 finding."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.test_trail_cli import ALICE, IVY, OPS, console_change, ops, policy
from tests.conftest import Result

Cli = Callable[..., Result]
AUDITOR = ("--as", "aud@example.com")
DEPLOYER = "arn:aws:iam::123456789012:role/deployer"
UNCOVERED = "0f6c5a1e-1d2b-4c3d-9e8f-0000000000a1"
PIPELINE = "0f6c5a1e-1d2b-4c3d-9e8f-0000000000a2"
__all__ = ["ops"]  # the fixture, shared with the trail CLI's tests


def pipeline_call(tmp_path: Path, key: str) -> Path:
    """The same console call made by the deploy role's session that names change `key`."""
    record = json.loads(gzip.decompress(console_change(tmp_path, "x", "x").read_bytes()))
    [made] = record["Records"]
    number = key.split("-")[1]
    made.update(
        eventID=PIPELINE,
        eventTime="2026-08-03T10:10:00Z",
        userIdentity={
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:chg-" + number + "-run-7",
            "arn": f"arn:aws:sts::123456789012:assumed-role/deployer/chg-{number}-run-7",
            "accountId": "123456789012",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROAEXAMPLE",
                    "arn": DEPLOYER,
                    "accountId": "123456789012",
                    "userName": "deployer",
                }
            },
        },
    )
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps({"Records": [made]}))
    return path


def a_change_deployed_by_its_pipeline(ops: Cli) -> str:
    key = ops(
        "change", "create", *ALICE, "--title", "Key for the build box", "--scope", "ec2",
        "--impact", "none", "--rollback", "delete the key", "--risk", "low",
        "--ticket", "ENG-12", "--env", "production",
    ).out.strip()  # fmt: skip
    assert ops("change", "submit", key, *ALICE).code == 0
    return key


@pytest.fixture
def audited(ops: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Cli, str]:
    monkeypatch.setenv(
        "CHANGEGATE_POLICY",
        str(
            policy(
                tmp_path,
                accounts=[{"account": "123456789012", "environment": "production"}],
                pipeline_roles=[DEPLOYER],
            )
        ),
    )
    monkeypatch.setenv("CHANGEGATE_ALLOW_CLOCK_OVERRIDE", "true")
    monkeypatch.setenv("CHANGEGATE_CLOCK", "2026-08-03T09:30:00Z")
    assert ops("user", "add", "aud@example.com", "--name", "Aud", "--role", "auditor").code == 0
    key = a_change_deployed_by_its_pipeline(ops)
    for path in (
        console_change(tmp_path, "2026-08-03T09:00:00Z", UNCOVERED),
        pipeline_call(tmp_path, key),
    ):
        assert ops("trail", "ingest", str(path), *OPS).code == 0
    monkeypatch.setenv("CHANGEGATE_CLOCK", "2026-10-05T09:00:00Z")
    assert ops("audit", "run", "--period", "2026-Q3", *IVY).code == 1
    key_file = tmp_path / "key.pem"
    assert ops("ledger", "keygen", "--out", str(key_file)).code == 0
    monkeypatch.setenv("CHANGEGATE_SIGNING_KEY", str(key_file))
    return ops, key


def test_the_package_holds_the_aws_changes_and_re_performs_cm5(
    audited: tuple[Cli, str], tmp_path: Path
) -> None:
    ops, key = audited
    out = tmp_path / "q3"
    done = ops("evidence", "export", "--period", "2026-Q3", "--out", str(out), *AUDITOR)
    assert done.code == 0, done.err
    with (out / "populations" / "aws_events.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["event_id"], r["actor_kind"], r["change_key"]) for r in rows] == [
        (UNCOVERED, "person", ""),
        (PIPELINE, "pipeline", key),
    ]
    assert {r["environment"] for r in rows} == {"production"}
    [call] = json.loads((out / "changes" / key / "aws_events.json").read_text())
    assert (call["event_id"], call["record"]["eventID"]) == (PIPELINE, PIPELINE)
    assert call["record"]["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] == DEPLOYER
    # The pipeline's session names a change that is not deployed: not covered either.
    findings = json.loads((out / "audit" / "results.json").read_text())["findings"]
    cm5 = sorted(f["subject"] for f in findings if f["rule"] == "CM-5.unauthorised-aws-change")
    assert cm5 == [f"aws-event:{UNCOVERED}", f"aws-event:{PIPELINE}"]
    checked = ops("evidence", "verify", str(out))
    assert checked.code == 0, checked.out
    assert "ok: audit re-performed" in checked.out
