"""Baselines from a template, AWS Config snapshots in, drift out: as a security engineer would."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result
from tests.fixtures import files

Cli = Callable[..., Result]
TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Logs:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: logs-prod
      VersioningConfiguration:
        Status: Enabled
      Tags:
        - {Key: owner, Value: !Ref AWS::AccountId}
"""


def snapshot(path: Path, at: str, status: str) -> Path:
    path.write_text(
        json.dumps(
            {
                "fileVersion": "1.0",
                "configurationItems": [
                    {
                        "configurationItemVersion": "1.3",
                        "configurationItemCaptureTime": at,
                        "configurationItemStatus": "OK",
                        "resourceType": "AWS::S3::Bucket",
                        "resourceId": "logs-prod",
                        "resourceName": "logs-prod",
                        "ARN": "arn:aws:s3:::logs-prod",
                        "awsRegion": "us-east-1",
                        "awsAccountId": "123456789012",
                        "configuration": {"name": "logs-prod", "owner": {"id": "abc"}},
                        "supplementaryConfiguration": {
                            "BucketVersioningConfiguration": {"status": status}
                        },
                        "tags": {"owner": "123456789012"},
                    },
                    {"resourceType": "AWS::S3::Bucket"},
                ],
            }
        )
    )
    return path


@pytest.fixture
def team(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("CHANGEGATE_ALLOW_CLOCK_OVERRIDE", "true")
    monkeypatch.setenv("CHANGEGATE_CLOCK", "2026-09-01T09:00:00Z")
    for email in ("sam@example.com", "sec@example.com"):
        assert cli("user", "add", email, "--name", email, "--role", "security_engineer").code == 0
    return cli


def test_import_approve_ingest_scan_remediate(
    team: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = tmp_path / "stack.yaml"
    template.write_text(TEMPLATE)
    sam, sec = ("--as", "sam@example.com"), ("--as", "sec@example.com")
    assert team("baseline", "import", str(template), "--name", "logs", *sam).code == 0
    refused = team("baseline", "approve", "logs", *sam)
    assert refused.code == 1 and "SoD" in refused.err
    assert team("baseline", "approve", "logs", *sec).code == 0
    ingested = team(
        "config",
        "ingest",
        str(snapshot(tmp_path / "a.json", "2026-09-01T08:00:00Z", "Suspended")),
        *sam,
    )
    # One malformed item is data lost: the good item lands, the exit code says not all did.
    assert ingested.code == 1 and "ingested 1 configuration item " in ingested.out
    assert "skipped:" in ingested.err and "item 2" in ingested.err
    scan = json.loads(team("drift", "scan", *sam, "--json").out)
    assert len(scan["opened"]) == 1
    [found] = json.loads(team("drift", "list", "--json").out)["items"]
    assert found["due_at"] == "2026-09-03T09:00:00+00:00"
    assert found["differences"] == [
        {"path": "/VersioningConfiguration/Status", "expected": "Enabled", "actual": "Suspended"}
    ]
    # The owner tag names the account by !Ref AWS::AccountId: bound from the observation.
    assert scan["unverifiable"] == 0
    monkeypatch.setenv("CHANGEGATE_CLOCK", "2026-09-02T09:00:00Z")
    team(
        "config",
        "ingest",
        str(snapshot(tmp_path / "b.json", "2026-09-02T08:00:00Z", "Enabled")),
        *sam,
    )
    assert json.loads(team("drift", "scan", *sam, "--json").out)["closed"] == [found["id"]]
    # Incremental: nothing new to compare; --full compares everything and finds nothing more.
    again = json.loads(team("drift", "scan", *sam, "--json").out)
    full = json.loads(team("drift", "scan", "--full", *sam, "--json").out)
    assert again["opened"] == again["closed"] == full["opened"] == full["closed"] == []
    assert full["checked"] == again["checked"] == 1
    assert (again["compared"], full["compared"]) == (0, 1)
    shown = json.loads(team("drift", "show", str(found["id"]), "--json").out)
    assert shown["status"] == "remediated" and shown["remediation_seconds"] == 23 * 3600
    monkeypatch.setenv("CHANGEGATE_CLOCK", "2026-10-02T09:00:00Z")
    verified = json.loads(team("baseline", "verify", "--quarter", "2026-Q3", *sec, "--json").out)[
        "report"
    ]
    assert verified["drift"]["found"] == 1 and verified["drift"]["late"] == 0
    assert team("ledger", "verify").code == 0


def test_every_fixture_template_imports(team: Cli) -> None:
    templates = files("cloudformation/templates", "*.*", minimum=4)
    for i, path in enumerate(templates):
        result = team("baseline", "import", str(path), "--name", f"t{i}", "--as", "sam@example.com")
        assert result.code == 0, (path, result.err)


def test_bad_template_is_one_line_exit_2(team: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("Resources: [1, 2\n")
    result = team("baseline", "import", str(bad), "--name", "x", "--as", "sam@example.com")
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1


def test_ingest_from_aws_config_over_moto(team: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """`config ingest --source aws` through boto3's standard environment, against moto."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        for name, value in {
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            monkeypatch.setenv(name, value)
        config, s3 = boto3.client("config"), boto3.client("s3")
        config.put_configuration_recorder(
            ConfigurationRecorder={
                "name": "default",
                "roleARN": "arn:aws:iam::123456789012:role/config",
                "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
            }
        )
        s3.create_bucket(Bucket="logs-prod")
        result = team(
            "config",
            "ingest",
            "--source",
            "aws",
            "--resource-type",
            "AWS::S3::Bucket",
            "--as",
            "sam@example.com",
        )
        assert result.code == 0 and "ingested 1 configuration item " in result.out, result.err
    finally:
        server.stop()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    down = team(
        "config",
        "ingest",
        "--source",
        "aws",
        "--resource-type",
        "AWS::S3::Bucket",
        "--as",
        "sam@example.com",
    )
    assert down.code == 2 and len(down.err.strip().splitlines()) == 1, down.err


def test_ingest_cloudformation_drift_and_scan(
    team: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Drift detection results (a local CloudFormation speaking the Query protocol) become
    observations, compared with the baseline imported from the same template."""
    from tests.integrations.fake_cloudformation import FakeCloudFormation, documented

    sample = documented("detect-drift-stack__03__describe-stack-resource-drifts.json")
    [queue] = sample["StackResourceDrifts"]
    template = tmp_path / "queue.yaml"
    template.write_text(
        "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n"
        "      DelaySeconds: 20\n      VisibilityTimeout: 60\n"
        "      RedrivePolicy: {deadLetterTargetArn: !GetAtt DLQ.Arn, "
        "maxReceiveCount: 10}\n"
    )
    sam = ("--as", "sam@example.com")
    assert (
        team(
            "baseline",
            "import",
            str(template),
            "--name",
            "queue",
            *sam,
            "--physical",
            f"Queue={queue['PhysicalResourceId']}",
        ).code
        == 0
    )
    assert team("baseline", "approve", "queue", "--as", "sec@example.com").code == 0
    with FakeCloudFormation([queue], in_progress_polls=0) as fake:
        for name, value in {
            "AWS_ENDPOINT_URL": fake.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            monkeypatch.setenv(name, value)
        result = team(
            "config",
            "ingest",
            "--source",
            "cloudformation",
            "--stack",
            "my-stack-with-resource-drift",
            *sam,
        )
    assert result.code == 0 and "ingested 1 configuration item " in result.out, result.err
    assert len(json.loads(team("drift", "scan", *sam, "--json").out)["opened"]) == 1
    [found] = json.loads(team("drift", "list", "--json").out)["items"]
    assert found["differences"] == [
        {"path": "/DelaySeconds", "expected": 20, "actual": 120},
        {"path": "/RedrivePolicy/maxReceiveCount", "expected": 10, "actual": 12},
    ]


def test_adopt_observed_configuration_as_a_baseline(team: Cli, tmp_path: Path) -> None:
    sam = ("--as", "sam@example.com")
    team(
        "config",
        "ingest",
        str(snapshot(tmp_path / "a.json", "2026-09-01T08:00:00Z", "Enabled")),
        *sam,
    )
    made = team(
        "baseline",
        "adopt",
        "--name",
        "observed",
        "--resource",
        "AWS::S3::Bucket=logs-prod",
        *sam,
        "--json",
    )
    assert made.code == 0 and json.loads(made.out)["source"] == "observed", made.err
    assert team("baseline", "approve", "observed", "--as", "sec@example.com").code == 0
    assert json.loads(team("drift", "scan", *sam, "--json").out)["opened"] == []
    team(
        "config",
        "ingest",
        str(snapshot(tmp_path / "b.json", "2026-09-01T08:30:00Z", "Suspended")),
        *sam,
    )
    assert len(json.loads(team("drift", "scan", *sam, "--json").out)["opened"]) == 1
    missing = team("baseline", "adopt", "--name", "x", "--resource", "AWS::S3::Bucket=nope", *sam)
    assert missing.code == 2 and "no observed configuration" in missing.err


def _aws_env(monkeypatch: pytest.MonkeyPatch, **endpoints: str) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        **endpoints,
    }.items():
        monkeypatch.setenv(name, value)


def test_cloud_control_observes_what_a_baseline_declares(
    team: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`config ingest --source cloudcontrol --baseline NAME`: live properties, already in the
    CloudFormation vocabulary, compared as they are; a resource gone is observed deleted."""
    from tests.integrations.fake_cloudcontrol import FakeCloudControl

    template = tmp_path / "stack.yaml"
    template.write_text(TEMPLATE + "  Gone:\n    Type: AWS::SQS::Queue\n"
                        "    Properties: {QueueName: old-jobs}\n")  # fmt: skip
    sam, sec = ("--as", "sam@example.com"), ("--as", "sec@example.com")
    assert team("baseline", "import", str(template), "--name", "logs", *sam).code == 0
    assert team("baseline", "approve", "logs", *sec).code == 0
    bucket = {
        "BucketName": "logs-prod",
        "Arn": "arn:aws:s3:::logs-prod",
        "DomainName": "logs-prod.s3.amazonaws.com",
        "VersioningConfiguration": {"Status": "Suspended"},
        "Tags": [{"Key": "owner", "Value": "123456789012"}],
    }
    resources = {("AWS::S3::Bucket", "logs-prod"): bucket}
    with FakeCloudControl(resources) as peer:
        _aws_env(monkeypatch, AWS_ENDPOINT_URL=peer.url)
        result = team("config", "ingest", "--source", "cloudcontrol", "--baseline", "logs", *sam)
        assert result.code == 0 and "ingested 2 configuration items" in result.out, result.err
        assert sorted(op for op, _ in peer.requests) == ["GetResource", "GetResource"]
        listed = team("config", "ingest", "--source", "cloudcontrol",
                      "--resource-type", "AWS::S3::Bucket", *sam)  # fmt: skip
        assert listed.code == 0, listed.err
        assert peer.requests[-1][0] == "ListResources"
    scan = json.loads(team("drift", "scan", "--json", *sam).out)
    assert len(scan["opened"]) == 2
    found = {d["resource_id"]: d["differences"] for d in
             json.loads(team("drift", "list", "--json").out)["items"]}  # fmt: skip
    assert found == {
        "logs-prod": [
            {
                "path": "/VersioningConfiguration/Status",
                "expected": "Enabled",
                "actual": "Suspended",
            }
        ],
        "old-jobs": [{"path": "/", "expected": "present", "actual": "ResourceDeleted"}],
    }
    # Mistakes are one line, exit 2.
    for bad in (
        ["--identifier", "x"],
        ["--resource-type", "AWS::S3::Bucket", "--resource-type", "AWS::SQS::Queue",
         "--identifier", "x"],
    ):  # fmt: skip
        refused = team("config", "ingest", "--source", "cloudcontrol", *bad, *sam)
        assert refused.code == 2 and len(refused.err.strip().splitlines()) == 1, refused.err


def test_baseline_import_reads_physical_ids_from_the_stack(
    team: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`baseline import --stack NAME` over moto: a `!Sub` name no observation could match is
    mapped to the physical id CloudFormation reports."""
    import boto3
    from moto.server import ThreadedMotoServer

    template = (
        "Parameters:\n  Env: {Type: String, Default: prod}\n"
        "Resources:\n  Jobs:\n    Type: AWS::SQS::Queue\n"
        "    Properties:\n      QueueName: !Sub 'jobs-${Env}-${AWS::StackName}'\n"
    )
    path = tmp_path / "jobs.yaml"
    path.write_text(template)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        _aws_env(monkeypatch, AWS_ENDPOINT_URL=f"http://{host}:{port}")
        cfn = boto3.client("cloudformation")
        stack = f"jobs-{uuid.uuid4().hex[:8]}"  # moto's state outlives its server
        cfn.create_stack(StackName=stack, TemplateBody=template)
        [deployed] = cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]
        sam = ("--as", "sam@example.com")
        without = team("baseline", "import", str(path), "--name", "a", *sam)
        assert without.code == 0 and "warning: Jobs: no physical id" in without.err
        imported = team("baseline", "import", str(path), "--name", "b", "--stack", stack, *sam)
        assert imported.code == 0 and "warning" not in imported.err, imported.err
    finally:
        server.stop()
    [declared] = json.loads(team("baseline", "show", "b", "--json").out)["declared"]
    # SQS's physical id is the queue URL, as CloudFormation reports it.
    assert (declared["id"], declared["id_source"]) == (deployed["PhysicalResourceId"], "physical")


def test_a_production_resource_no_baseline_declares_is_a_cfg1_finding(
    team: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "environments:\n"
        "  - {name: staging, isolated: true, aws_accounts: ['210987654321']}\n"
        "  - {name: production, production: true, aws_accounts: ['123456789012']}\n"
    )
    sam = ("--as", "sam@example.com")
    template = tmp_path / "stack.yaml"
    template.write_text(TEMPLATE)
    assert team("baseline", "import", str(template), "--name", "logs", *sam).code == 0
    assert team("baseline", "approve", "logs", "--as", "sec@example.com").code == 0
    snap = json.loads(snapshot(tmp_path / "a.json", "2026-09-01T08:00:00Z", "Enabled").read_text())
    logs = snap["configurationItems"][0]
    rogue = logs | {"resourceId": "rogue-prod", "resourceName": "rogue-prod",
                    "ARN": "arn:aws:s3:::rogue-prod"}  # fmt: skip
    staging = rogue | {"resourceId": "scratch", "resourceName": "scratch",
                       "awsAccountId": "210987654321"}  # fmt: skip
    snap["configurationItems"] = [logs, rogue, staging]
    (tmp_path / "b.json").write_text(json.dumps(snap))
    assert team("config", "ingest", str(tmp_path / "b.json"), *sam).code == 0
    listed = json.loads(team("config", "list", "--json").out)
    assert {(o["resource_id"], o["baseline"]) for o in listed["items"]} == {
        ("logs-prod", "logs"),
        ("rogue-prod", None),
        ("scratch", None),
    }
    assert (
        json.loads(team("config", "list", "--account", "210987654321", "--json").out)["total"] == 1
    )
    team("user", "add", "ivy@example.com", "--name", "Ivy", "--role", "iso")
    ivy = ("--as", "ivy@example.com")
    # Without production accounts in the policy, CFG-1 cannot check, and says so.
    blind = team("audit", "run", "--period", "2026-Q3", "--dry-run", *ivy)
    assert "not checked: CFG-1: the policy names no production AWS account" in blind.out
    monkeypatch.setenv("CHANGEGATE_POLICY", str(policy))
    audit = json.loads(team("audit", "run", "--period", "2026-Q3", "--dry-run", "--json", *ivy).out)
    cfg1 = [f for f in audit["findings"] if f["control"] == "CFG-1"]
    assert [(f["rule"], f["subject"]) for f in cfg1] == [
        ("CFG-1.no-baseline", "resource:AWS::S3::Bucket:rogue-prod")
    ]
    assert audit["run"]["not_checked"] == []


def test_a_resource_at_aws_maximum_widths_is_ingested_audited_and_named(
    team: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS Config allows a 256-character type, a 768-character id and a 2048-character ARN; the
    CFG-1 finding that names such a resource ("resource:<type>:<id>") is stored whole."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "environments:\n  - {name: production, production: true, aws_accounts: ['123456789012']}\n"
    )
    monkeypatch.setenv("CHANGEGATE_POLICY", str(policy))
    kind = "Acme::" + "T" * 244 + "::Item"
    rid = "i" * 768
    snap = json.loads(snapshot(tmp_path / "a.json", "2026-09-01T08:00:00Z", "Enabled").read_text())
    wide = snap["configurationItems"][0] | {
        "resourceType": kind,
        "resourceId": rid,
        "resourceName": "n" * 256,
        "ARN": "arn:aws:acme:us-east-1:123456789012:" + "a" * 2012,
    }
    assert (len(kind), len(wide["ARN"])) == (256, 2048)
    snap["configurationItems"] = [wide]
    (tmp_path / "b.json").write_text(json.dumps(snap))
    assert team("config", "ingest", str(tmp_path / "b.json"), "--as", "sam@example.com").code == 0
    team("user", "add", "ivy@example.com", "--name", "Ivy", "--role", "iso")
    ran = team("audit", "run", "--period", "2026-Q3", "--json", "--as", "ivy@example.com")
    assert ran.code == 1, ran.err  # findings were raised
    [cfg1] = [f for f in json.loads(ran.out)["findings"] if f["control"] == "CFG-1"]
    assert cfg1["subject"] == f"resource:{kind}:{rid}"
    listed = json.loads(team("finding", "list", "--json", "--as", "ivy@example.com").out)
    assert f"resource:{kind}:{rid}" in {f["subject"] for f in listed["items"]}
