"""`changegate trail`: CloudTrail files in, classified and reconciled (CM-5), as an operator would.

The expected counts per sample are worked out by hand from each file (tests/fixtures/cloudtrail):
what each record is, by the catalogue's rules, written here by value.
"""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Result
from tests.fixtures import FIXTURES, files, fixture

Cli = Callable[..., Result]
OPS = ("--as", "ops@example.com")
IVY = ("--as", "ivy@example.com")
ALICE = ("--as", "alice@example.com")
GITHUB_ROLE = (
    "arn:aws:iam::774305579662:role/"
    "cloud-snitch-github-actio-GithubActionsRoleF5CC769F-MoeCHSu77MYt"
)
DOCS = "cloudtrail/aws-docs-cloudtrail-user-guide/"
SNITCH = "cloudtrail/ccbrown-cloud-snitch/"
ORG_FILE = (
    "aws-cloudtrail-logs/AWSLogs/o-1234abcde/222222222222/CloudTrail/us-east-1/2025/03/06/"
    "222222222222_CloudTrail_us-east-1_20250306T0230Z_QF6qcgyiaVnSueXa.json.gz"
)
ACCOUNT_FILE = (
    "aws-cloudtrail-logs/AWSLogs/333333333333/CloudTrail/us-east-1/2025/03/06/"
    "333333333333_CloudTrail_us-east-1_20250306T0320Z_ZgdYr0lP8M9fWEH8.json.gz"
)
SIGN_IN = "event-reference-aws-console-sign-in-events__"
# (changes, attempts, reads, data, services, skipped) in each shared sample, read by hand:
EXPECTED: dict[str, tuple[int, int, int, int, int, int]] = {
    # Console sign-in records (AwsConsoleSignIn, no readOnly): ConsoleLogin and CheckMfa are
    # flagged writes that change nothing; a failed sign-in (#03, #08) is still a sign-in.
    **{
        f"{DOCS}{SIGN_IN}{name}": (0, 0, 1, 0, 0, 0)
        for name in (
            "01__cloudtrail-aws-console-sign-in-events-iam-user-success.json",
            "02__cloudtrail-aws-console-sign-in-events-iam-user-mfa.json",
            "03__cloudtrail-aws-console-sign-in-events-iam-user-failure.json",
            "04__cloudtrail-aws-console-sign-in-requires-mfa.json",
            "05__cloudtrail-aws-console-sign-in-requires-mfa-multiple.json",
            "06__cloudtrail-signin-root.json",
            "07__cloudtrail-signin-root-mfa.json",
            "08__cloudtrail-unsuccessful-signin-root.json",
        )
    },
    # Root enabling an MFA device (readOnly false), root changing its password: changes.
    f"{DOCS}{SIGN_IN}09__cloudtrail-signin-mfa-changed-root.json": (1, 0, 0, 0, 0, 0),
    f"{DOCS}{SIGN_IN}10__cloudtrail-root-password-changed.json": (1, 0, 0, 0, 0, 0),
    # Only a userIdentity element: no eventName, not an API call.
    f"{DOCS}event-reference-user-identity__01__STS-API-source-identity.json": (0, 0, 0, 0, 0, 1),
    # eventVersion 1.0: no readOnly, no eventID; StartInstances, StopInstances, CreateKeyPair,
    # CreateUser, AddUserToGroup are writes by name.
    **{
        f"{DOCS}log-file-examples__0{n}__cloudtrail-log-file-examples-{svc}.json": (
            1,
            0,
            0,
            0,
            0,
            0,
        )
        for n, svc in ((1, "ec2"), (2, "ec2"), (3, "ec2"), (4, "iam"), (5, "iam"))
    },
    # UpdateTrail failed (TrailNotFoundException): an attempt.
    f"{DOCS}log-file-examples__07__error-code-and-error-message.json": (0, 1, 0, 0, 0, 0),
    # Two Insights records (AwsCloudTrailInsight): not API calls.
    f"{DOCS}log-file-examples__08__insights-event-example.json": (0, 0, 0, 0, 0, 2),
    # Digest files: skipped.
    f"{DOCS}log-file-validation-digest-file-structure__01__"
    "cloudtrail-log-file-validation-digest-file-contents.json": (0, 0, 0, 0, 0, 1),
    f"{DOCS}log-file-validation-digest-file-structure__02__"
    "cloudtrail-log-file-validation-digest-file-empty.json": (0, 0, 0, 0, 0, 1),
    # kms:Decrypt by CloudFront's service principal.
    f"{SNITCH}{ACCOUNT_FILE}": (0, 0, 0, 0, 1, 0),
    # 20 records: 14 GetBucketAcl and 2 AssumeRole by AWSService identities, DescribeInstanceStatus
    # invoked by spotfleet (services, 17); the SSM agent's UpdateInstanceInformation heartbeat,
    # DescribeEventAggregates, a Lambda role's kms:Decrypt (reads, 3).
    f"{SNITCH}{ORG_FILE}": (0, 0, 3, 0, 17, 0),
    f"{SNITCH}backend__report__aws_cloudtrail_test.go__TestReport_AWSAccountEvent.json": (
        0,
        0,
        1,
        0,
        0,
        0,
    ),
    f"{SNITCH}backend__report__aws_cloudtrail_test.go__TestReport_AWSInternalServiceEvent.json": (
        0,
        0,
        0,
        0,
        1,
        0,
    ),
    f"{SNITCH}backend__report__aws_cloudtrail_test.go__TestReport_WebIdentityUserEvent.json": (
        0,
        0,
        1,
        0,
        0,
        0,
    ),
    # NDJSON, 103 records from an Elastic export (eventTime as @timestamp): 89 Describe/List/Get
    # management reads (most 1.05 records without readOnly), 5 AssumeRole by the EC2 service,
    # 9 S3 data events (7 ListObjects, 2 GetObject).
    "cloudtrail/otrf-security-datasets/ec2_proxy_s3_exfiltration_2020-09-14011940.json": (
        0,
        0,
        89,
        9,
        5,
        0,
    ),
}
SAMPLES = [p for p in files("cloudtrail", "**/*.json*") if not p.name.endswith(".yaml")]


def policy(tmp_path: Path, **cloudtrail: Any) -> Path:
    path = tmp_path / "trail-policy.yaml"
    path.write_text(
        json.dumps({"identity": {"local_decisions": "allow"}, "cloudtrail": cloudtrail})
    )
    return path


@pytest.fixture
def ops(cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    monkeypatch.setenv(
        "CHANGEGATE_POLICY",
        str(policy(tmp_path, accounts=[{"account": "123456789012", "environment": "production"}])),
    )
    for email, role in (
        ("ops@example.com", "admin"),
        ("ivy@example.com", "iso"),
        ("alice@example.com", "requester"),
        ("hana@example.com", "hr"),
    ):
        assert cli("user", "add", email, "--name", email, "--role", role).code == 0
    return cli


def test_every_shared_sample_has_its_expected_counts() -> None:
    named = {str(p.relative_to(FIXTURES)) for p in SAMPLES}
    assert named == set(EXPECTED)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name[:60])
def test_counts_per_sample(ops: Cli, sample: Path) -> None:
    got = ops("trail", "ingest", str(sample), "--json", *OPS)
    assert got.code == 0, got.err
    out = json.loads(got.out)
    counts = tuple(out[k] for k in ("changes", "attempts", "reads", "data", "services", "skipped"))
    assert counts == EXPECTED[str(sample.relative_to(FIXTURES))]
    assert out["malformed"] == [] and out["files"] == 1


def test_a_directory_once_then_again_adds_nothing(ops: Cli) -> None:
    first = json.loads(ops("trail", "ingest", str(fixture("cloudtrail")), "--json", *OPS).out)
    # 143 records in API-call shape, every one counted by kind. Kept: the 7 changes, the
    # attempt and 10 sign-ins and role assumptions (8 console sign-in samples, the GitHub OIDC
    # AssumeRoleWithWebIdentity, an AssumeRole); two pairs of sign-in samples share an eventID.
    counted = ("changes", "attempts", "reads", "data", "services")
    assert sum(first[k] for k in counted) == 143
    assert (first["files"], first["new"], first["seen"]) == (len(SAMPLES), 16, 2)
    again = json.loads(ops("trail", "ingest", str(fixture("cloudtrail")), "--json", *OPS).out)
    assert (again["new"], again["seen"]) == (0, 18)
    listed = json.loads(ops("trail", "list", "--json", "--limit", "1", *IVY).out)
    assert listed["total"] == 16
    # The five 1.0 records are Alice's writes in 123456789012, the production account here.
    assert len(first["uncovered"]) == 5 and first["notice"] is None


def oidc(tmp_path: Path) -> Path:
    return fixture(
        "cloudtrail",
        "ccbrown-cloud-snitch",
        "backend__report__aws_cloudtrail_test.go__TestReport_WebIdentityUserEvent.json",
    )


@pytest.mark.parametrize(
    ("roles", "kind"),
    [([GITHUB_ROLE], "pipeline"), ([], "web-identity")],
    ids=["configured", "not"],
)
def test_the_github_oidc_event_is_the_pipeline_when_its_role_is_configured(
    ops: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, roles: list[str], kind: str
) -> None:
    monkeypatch.setenv("CHANGEGATE_POLICY", str(policy(tmp_path, pipeline_roles=roles)))
    got = ops("trail", "ingest", str(oidc(tmp_path)), *OPS)
    # This policy maps no account: ingest says that nothing can be a production change.
    assert got.code == 0 and "note: the policy maps no AWS account to an environment" in got.out
    shown = json.loads(
        ops("trail", "show", "ef0464cd-918e-4528-9ea3-1a081d39b393", "--json", *IVY).out
    )
    assert (shown["actor_kind"], shown["principal"], shown["kind"]) == (kind, GITHUB_ROLE, "read")
    assert shown["actor"] == "repo:ccbrown/cloud-snitch:ref:refs/heads/main"


def console_change(tmp_path: Path, at: str, event_id: str) -> Path:
    """The user guide's console CreateKeyPair (EC2ConsoleBackend) by IAM user Alice in
    123456789012, moved to `at`, with an eventID as records have carried since 1.01."""
    doc = json.loads(
        fixture(
            "cloudtrail",
            "aws-docs-cloudtrail-user-guide",
            "log-file-examples__03__cloudtrail-log-file-examples-ec2.json",
        ).read_text()
    )
    record = copy.deepcopy(doc["Records"][0])
    record.update(
        eventTime=at,
        eventID=event_id,
        eventVersion="1.11",
        readOnly=False,
        recipientAccountId="123456789012",
        eventType="AwsApiCall",
    )
    path = tmp_path / f"{event_id}.json.gz"
    path.write_bytes(gzip.compress(json.dumps({"Records": [record]}).encode()))
    return path


def cm5(ops: Cli) -> list[dict[str, Any]]:
    audit = json.loads(ops("audit", "run", "--period", "2026-Q3", "--dry-run", "--json", *IVY).out)
    return [f for f in audit["findings"] if f["rule"] == "CM-5.unauthorised-aws-change"]


def test_a_console_change_in_production_with_no_change_is_a_finding(
    ops: Cli, tmp_path: Path
) -> None:
    path = console_change(tmp_path, "2026-08-03T09:00:00Z", "0f6c5a1e-1d2b-4c3d-9e8f-000000000001")
    got = ops("trail", "ingest", str(path), *OPS)
    assert got.code == 0 and "1 production change covered by no deployment" in got.out
    [finding] = cm5(ops)
    assert finding["subject"] == "aws-event:0f6c5a1e-1d2b-4c3d-9e8f-000000000001"
    assert "CreateKeyPair (ec2.amazonaws.com) by person Alice" in finding["summary"]
    assert finding["waiver"] is None
    shown = ops("trail", "show", "0f6c5a1e-1d2b-4c3d-9e8f-000000000001", *IVY).out
    assert "covered by   NOTHING" in shown
    uncovered = json.loads(ops("trail", "list", "--uncovered", "--json", *IVY).out)
    assert [e["event_id"] for e in uncovered["items"]] == ["0f6c5a1e-1d2b-4c3d-9e8f-000000000001"]
    # Recorded, it is reported to the ISO and HR like every finding (VIO-1).
    assert ops("audit", "run", "--period", "2026-Q3", *IVY).code == 1
    [stored] = [
        f
        for f in json.loads(ops("finding", "list", "--json", *IVY).out)["items"]
        if f["rule"] == "CM-5.unauthorised-aws-change"
    ]
    sent = json.loads(ops("outbox", "list", "--json", "--limit", "500").out)["items"]
    roles = {n["role"] for n in sent if n["event_key"] == f"finding.reported:{stored['key']}"}
    assert roles == {"iso", "hr"}


def test_attempts_are_listed_not_found_and_the_list_narrows(ops: Cli, tmp_path: Path) -> None:
    made = console_change(tmp_path, "2026-08-03T09:00:00Z", "0f6c5a1e-1d2b-4c3d-9e8f-000000000003")
    records = json.loads(gzip.decompress(made.read_bytes()))["Records"]
    failed = records[0] | {
        "eventID": "0f6c5a1e-1d2b-4c3d-9e8f-000000000004",
        "eventTime": "2026-08-04T09:00:00Z",
        "errorCode": "Client.UnauthorizedOperation",
    }
    path = tmp_path / "two.json"
    path.write_text(json.dumps({"Records": [failed, *records]}))  # out of time order
    got = json.loads(ops("trail", "ingest", str(path), "--json", *OPS).out)
    assert (got["changes"], got["attempts"], len(got["uncovered"])) == (1, 1, 1)
    assert [f["subject"] for f in cm5(ops)] == ["aws-event:0f6c5a1e-1d2b-4c3d-9e8f-000000000003"]

    def ids(*args: str) -> list[str]:
        page = json.loads(ops("trail", "list", "--json", *args, *IVY).out)
        return [e["event_id"][-1:] for e in page["items"]]

    assert ids() == ["3", "4"]  # in time order, whatever the file's order
    assert ids("--since", "2026-08-04T00:00:00Z") == ["4"]
    assert ids("--until", "2026-08-04T00:00:00Z") == ["3"]
    assert ids("--principal", "arn:aws:iam::123456789012:user/Alice") == ["3", "4"]
    assert ids("--principal", "Alice", "--limit", "1", "--offset", "1") == ["4"]
    assert ids("--principal", "bob") == []
    bad = ops("trail", "list", "--since", "yesterday", *IVY)
    assert bad.code == 2 and len(bad.err.strip().splitlines()) == 1


def test_the_same_change_inside_an_emergency_window_is_not(
    ops: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHANGEGATE_ALLOW_CLOCK_OVERRIDE", "true")
    monkeypatch.setenv("CHANGEGATE_CLOCK", "2026-08-03T10:30:00Z")
    made = ops(
        "change",
        "create",
        *ALICE,
        "--title",
        "Key for the on-call box",
        "--scope",
        "ec2",
        "--impact",
        "none",
        "--rollback",
        "delete the key",
        "--risk",
        "low",
        "--ticket",
        "ENG-9",
        "--type",
        "emergency",
        "--justification",
        "host unreachable",
    )
    key = made.out.strip()
    assert ops("change", "submit", key, *ALICE).code == 0
    assert ops("change", "implement", key, *ALICE).code == 0
    path = console_change(tmp_path, "2026-08-03T09:00:00Z", "0f6c5a1e-1d2b-4c3d-9e8f-000000000002")
    got = ops("trail", "ingest", str(path), *OPS)
    assert got.code == 0 and "covered by no deployment" not in got.out
    assert cm5(ops) == []
    shown = json.loads(
        ops("trail", "show", "0f6c5a1e-1d2b-4c3d-9e8f-000000000002", "--json", *IVY).out
    )
    assert shown["cover"] == {"by": "emergency", "change": key, "evidence": f"change:{key}"}


def test_bad_input_is_one_line_and_writes_nothing(ops: Cli, tmp_path: Path) -> None:
    sample = str(fixture("cloudtrail", "otrf-security-datasets"))
    for args in (
        (sample, str(tmp_path / "missing.json.gz")),  # the good directory is not read either
        (sample, "--bucket", "b"),
        (),
        ("--bucket", "b"),  # no --as
    ):
        who = OPS if args != ("--bucket", "b") else ()
        got = ops("trail", "ingest", *args, *who)
        assert got.code == 2 and len(got.err.strip().splitlines()) == 1, (args, got.err)
    assert json.loads(ops("trail", "list", "--json", *IVY).out)["total"] == 0
    unknown = ops("trail", "show", "no-such-event", *IVY)
    assert unknown.code == 2 and unknown.err.strip() == "error: no CloudTrail event 'no-such-event'"
    refused = ops("trail", "list", *ALICE)
    assert refused.code == 1 and "needs the iso or hr or auditor" in refused.err


def test_an_empty_list_says_why(ops: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing stored, nothing the filters select, or no production change without a cover
    (here: the policy maps no account to production) are three different answers."""
    assert "no CloudTrail events: `changegate trail ingest`" in ops("trail", "list", *IVY).out
    path = console_change(tmp_path, "2026-08-03T09:00:00Z", "0f6c5a1e-1d2b-4c3d-9e8f-000000000009")
    staging = policy(tmp_path, accounts=[{"account": "123456789012", "environment": "staging"}])
    monkeypatch.setenv("CHANGEGATE_POLICY", str(staging))
    assert ops("trail", "ingest", str(path), *OPS).code == 0
    uncovered = ops("trail", "list", "--uncovered", *IVY).out
    assert "no production change without a cover (production: an account" in uncovered
    monkeypatch.setenv("CHANGEGATE_POLICY", str(policy(tmp_path)))  # maps no account at all
    unmapped = ops("trail", "list", "--uncovered", *IVY).out
    assert "nothing judged (CM-5 not checked): the policy maps no AWS account" in unmapped
    assert (
        "no CloudTrail event matches these filters"
        in ops("trail", "list", "--principal", "bob", *IVY).out
    )
    assert "0f6c5a1e-1d2b-4c3d-9e8f-000000000009" in ops("trail", "list", *IVY).out


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ("--since", "2026-10-01"),
            "--since: give a time with its zone, e.g. 2026-10-01T00:00:00Z",
        ),
        (
            ("--since", "2026-10-01Z"),
            "--since: give a time with its zone, e.g. 2026-10-01T00:00:00Z",
        ),
        (
            ("--until", "2026-10-01T10:00"),
            "--until: give a time with its zone, e.g. 2026-10-01T10:00:00Z",
        ),
        (
            ("--since", "2026-10-01T00:00:00Z", "--until", "2026-09-01T00:00:00Z"),
            "--since must be before --until",
        ),
    ],
)
def test_a_time_without_its_zone_or_a_reversed_range_is_refused_with_a_hint_that_works(
    ops: Cli, args: tuple[str, ...], said: str
) -> None:
    got = ops("trail", "list", *args, *IVY)
    assert got.code == 2 and got.err.strip() == f"error: {said}"
    hint = said.rsplit("e.g. ", 1)[-1]
    if "e.g." in said:
        assert ops("trail", "list", args[0], hint, *IVY).code == 0


def test_ingest_with_nothing_to_read_says_what_to_give(ops: Cli) -> None:
    got = ops("trail", "ingest", *OPS)
    assert got.code == 2
    assert got.err.strip() == "error: give the files or directories to ingest, or --bucket"
