"""CloudTrail log files for tests, built from real records (tests/fixtures/cloudtrail): the
organisation trail sample's 20 records (AWS services acting, reads: counted, not kept) and the
user guide's five console and API writes (EC2 StartInstances, StopInstances, CreateKeyPair; IAM
CreateUser, AddUserToGroup), moved from eventVersion 1.0 to 1.11 in account 123456789012, so
that each file carries fresh eventIDs and, where asked, changes changegate keeps."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Result
from tests.fixtures import fixture

SNITCH = ("cloudtrail", "ccbrown-cloud-snitch", "aws-cloudtrail-logs")
ORG = "AWSLogs/o-1234abcde/222222222222/CloudTrail/us-east-1/2025/03/06/"
ORG_SAMPLE = "222222222222_CloudTrail_us-east-1_20250306T0230Z_QF6qcgyiaVnSueXa.json.gz"
NAMESPACE = uuid.UUID("6f1b7f3e-3c1e-4a43-9d53-7c1a2b1f0e11")
GUIDE_WRITES = [
    "log-file-examples__01__cloudtrail-log-file-examples-ec2.json",
    "log-file-examples__02__cloudtrail-log-file-examples-ec2.json",
    "log-file-examples__03__cloudtrail-log-file-examples-ec2.json",
    "log-file-examples__04__cloudtrail-log-file-examples-iam.json",
    "log-file-examples__05__cloudtrail-log-file-examples-iam.json",
]


def org_records() -> list[dict[str, Any]]:
    sample = fixture(*SNITCH, *ORG.split("/")[:-1], ORG_SAMPLE)
    records: list[dict[str, Any]] = json.loads(gzip.decompress(sample.read_bytes()))["Records"]
    return records


def writes() -> list[dict[str, Any]]:
    """The user guide's five writes, as a current trail in 123456789012 records them."""
    out = []
    for name in GUIDE_WRITES:
        path = fixture("cloudtrail", "aws-docs-cloudtrail-user-guide", name)
        [record] = json.loads(path.read_text())["Records"]
        out.append(
            record
            | {
                "eventVersion": "1.11",
                "readOnly": False,
                "eventTime": "2025-03-06T02:40:00Z",
                "recipientAccountId": "123456789012",
                "eventType": "AwsApiCall",
            }
        )
    return out


def templates() -> list[dict[str, Any]]:
    """The organisation sample's 20 records, then the console CreateKeyPair: one kept in 21."""
    return [*org_records(), writes()[2]]


def generated(
    index: int, count: int, shapes: list[dict[str, Any]] | None = None
) -> tuple[str, bytes, list[str]]:
    """A log file of `count` records cycling through `shapes` (default `templates()`) in the
    organisation layout (account 222222222222 in the key, while the writes name 123456789012
    as their recipient): its key, its gzip body and its records' eventIDs in order."""
    shapes = shapes or templates()
    records = []
    for i in range(count):
        record = dict(shapes[i % len(shapes)])
        record["eventID"] = str(uuid.uuid5(NAMESPACE, f"{index}-{i}"))
        records.append(record)
    key = f"{ORG}222222222222_CloudTrail_us-east-1_20250306T03{index:02d}Z_Gen{index:04d}.json.gz"
    body = gzip.compress(json.dumps({"Records": records}).encode())
    return key, body, [r["eventID"] for r in records]


def operators(cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """The CLI under a policy mapping 123456789012 to production, with ops@example.com (admin,
    who ingests) and ivy@example.com (ISO, who reads)."""
    policy = tmp_path / "trail-policy.yaml"
    policy.write_text(
        json.dumps(
            {
                "identity": {"local_decisions": "allow"},
                "cloudtrail": {
                    "accounts": [{"account": "123456789012", "environment": "production"}]
                },
            }
        )
    )
    monkeypatch.setenv("CHANGEGATE_POLICY", str(policy))
    assert cli("user", "add", "ops@example.com", "--name", "Ops", "--role", "admin").code == 0
    assert cli("user", "add", "ivy@example.com", "--name", "Ivy", "--role", "iso").code == 0
    return cli
