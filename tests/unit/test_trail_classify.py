"""CloudTrail records classified and their callers resolved (CM-5), table by table.

Each expected value is written by hand from the record in the table or from the shared sample
named (tests/fixtures/cloudtrail), read with the CloudTrail user guide's field descriptions.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from changegate.domain.errors import BadInput
from changegate.domain.trail.actors import AccountMapping, ActorKind, TrailRules, actor
from changegate.domain.trail.classify import (
    MEMO,
    Kind,
    KindMemo,
    classify,
    kept,
    kind_of,
    needs_cover,
)
from changegate.integrations.cloudtrail_catalogue import catalogue, from_document
from changegate.policy import from_document as from_policy
from tests.fixtures import files, fixture

GITHUB_ROLE = (
    "arn:aws:iam::774305579662:role/"
    "cloud-snitch-github-actio-GithubActionsRoleF5CC769F-MoeCHSu77MYt"
)
DEPLOY_ROLE = "arn:aws:iam::123456789012:role/gha-deployer"
SIGN_IN = (
    "aws-docs-cloudtrail-user-guide",
    "event-reference-aws-console-sign-in-events__01__cloudtrail-aws-console-sign-in-events-iam-user-success.json",
)
PROD = TrailRules(
    accounts=(
        AccountMapping("123456789012", "production"),
        AccountMapping("222222222222", "staging", frozenset({"eu-west-1"})),
    ),
    production=frozenset({"production"}),
    pipeline_roles=frozenset({DEPLOY_ROLE.casefold()}),
)


def sample(*parts: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(fixture("cloudtrail", *parts).read_text())
    return doc["Records"][0] if "Records" in doc else doc


def call(**fields: Any) -> dict[str, Any]:
    """A CI deployer's write as integrations.md section 1.1 shows one, with `fields` replaced."""
    base: dict[str, Any] = {
        "eventVersion": "1.11",
        "eventTime": "2026-11-20T10:04:31Z",
        "eventSource": "ec2.amazonaws.com",
        "eventName": "AuthorizeSecurityGroupIngress",
        "awsRegion": "us-east-1",
        "readOnly": False,
        "managementEvent": True,
        "eventCategory": "Management",
        "eventType": "AwsApiCall",
        "recipientAccountId": "123456789012",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": "arn:aws:sts::123456789012:assumed-role/gha-deployer/chg-42-run-9001",
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "arn": DEPLOY_ROLE, "userName": "gha-deployer"}
            },
        },
        "eventID": "3f7c9a2e-0000-4000-8000-000000000001",
    }
    return base | fields


SSO = {
    "type": "AssumedRole",
    "arn": "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0a1b2c/ivy@example.com",
    "sessionContext": {
        "sessionIssuer": {
            "type": "Role",
            "arn": "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/"
            "AWSReservedSSO_Admin_0a1b2c",
            "userName": "AWSReservedSSO_Admin_0a1b2c",
        }
    },
}

KINDS = [
    ("a successful write", call(), Kind.CHANGE),
    ("a failed write is an attempt", call(errorCode="UnauthorizedOperation"), Kind.ATTEMPT),
    ("readOnly true", call(readOnly=True, eventName="DescribeInstances"), Kind.READ),
    ("readOnly as the string 'true'", call(readOnly="true"), Kind.READ),
    ("no readOnly, a Describe name", call(readOnly=None, eventName="DescribeVpcs"), Kind.READ),
    ("no readOnly, a write name", call(readOnly=None, eventName="RunInstances"), Kind.CHANGE),
    (
        "sign-in is flagged a write and changes nothing",
        call(eventSource="signin.amazonaws.com", eventName="ConsoleLogin"),
        Kind.READ,
    ),
    (
        "a failed AssumeRole is still no change",
        call(eventSource="sts.amazonaws.com", eventName="AssumeRole", errorCode="AccessDenied"),
        Kind.READ,
    ),
    ("AwsServiceEvent", call(eventType="AwsServiceEvent"), Kind.SERVICE),
    ("an AWSService identity", call(userIdentity={"type": "AWSService"}), Kind.SERVICE),
    (
        "a write a service made on a role's behalf",
        call(userIdentity=SSO | {"invokedBy": "cloudformation.amazonaws.com"}),
        Kind.SERVICE,
    ),
    ("a data event", call(eventCategory="Data", eventName="PutObject"), Kind.DATA),
    ("managementEvent false", call(eventCategory=None, managementEvent=False), Kind.DATA),
    ("an Insights event", call(eventType="AwsCloudTrailInsight"), Kind.NON_API),
    ("no eventName", call(eventName=None), Kind.NON_API),
]


ODD = [
    ("managementEvent as the string 'false'", call(managementEvent="false"), Kind.DATA),
    ("readOnly as the string 'FALSE'", call(readOnly="FALSE"), Kind.CHANGE),
    ("readOnly a number: unknown, so the name decides", call(readOnly=1), Kind.CHANGE),
    ("eventType a list", call(eventType=["AwsApiCall"]), Kind.CHANGE),
    ("userIdentity a string", call(userIdentity="AWSService"), Kind.CHANGE),
    ("eventSource empty", call(eventSource=""), Kind.NON_API),
    ("errorCode empty: no error", call(errorCode=""), Kind.CHANGE),
    ("errorCode a number", call(errorCode=403), Kind.CHANGE),
]

# (why, record, kept): changes and attempts, and who came into an account; nothing else.
KEPT = [
    ("a change", call(), True),
    ("an attempt", call(errorCode="AccessDenied"), True),
    ("a console sign-in", sample(*SIGN_IN), True),
    (
        "the GitHub OIDC exchange",
        sample(
            "ccbrown-cloud-snitch",
            "backend__report__aws_cloudtrail_test.go__TestReport_WebIdentityUserEvent.json",
        ),
        True,
    ),
    ("a read", call(readOnly=True, eventName="DescribeInstances"), False),
    (
        "the SSM agent's heartbeat (changes nothing)",
        call(eventSource="ssm.amazonaws.com", eventName="UpdateInstanceInformation"),
        False,
    ),
    ("a KMS Decrypt", call(eventSource="kms.amazonaws.com", eventName="Decrypt"), False),
    ("a data event", call(eventCategory="Data", eventName="PutObject"), False),
    ("AWS acting", call(userIdentity={"type": "AWSService"}), False),
    (
        "a service's read of STS",
        call(
            eventSource="sts.amazonaws.com",
            eventName="AssumeRole",
            userIdentity={"type": "AWSService", "invokedBy": "ec2.amazonaws.com"},
        ),
        False,
    ),
]


def test_the_tables_are_not_empty() -> None:
    assert len(KINDS) > 10 and len(ACTORS) > 8 and len(ODD) > 5 and len(KEPT) > 8


@pytest.mark.parametrize(("why", "record", "kind"), ODD, ids=[k[0] for k in ODD])
def test_kind_of_a_field_of_an_odd_type(why: str, record: dict[str, Any], kind: Kind) -> None:
    assert kind_of(record, catalogue()) is kind, why


@pytest.mark.parametrize(("why", "record", "keep"), KEPT, ids=[k[0] for k in KEPT])
def test_kept(why: str, record: dict[str, Any], keep: bool) -> None:
    assert kept(record, kind_of(record, catalogue()), catalogue()) is keep, why


@pytest.mark.parametrize(("why", "record", "kind"), KINDS, ids=[k[0] for k in KINDS])
def test_kind(why: str, record: dict[str, Any], kind: Kind) -> None:
    assert kind_of(record, catalogue()) is kind, why


# Pairs a memo keyed by values alone would confuse: equal in Python, read differently.
LOOKALIKES = [
    ("readOnly True, then 1", call(readOnly=True), call(readOnly=1)),
    ("readOnly 1.0, then True", call(readOnly=1.0), call(readOnly=True)),
    ("managementEvent False, then 0", call(managementEvent=False), call(managementEvent=0)),
    ("errorCode missing, then empty", call(), call(errorCode="")),
    ("errorCode a number, then a code", call(errorCode=403), call(errorCode="AccessDenied")),
    ("readOnly 'true', then 'TRUE'", call(readOnly="true"), call(readOnly="TRUE")),
    ("userIdentity a string, then a mapping", call(userIdentity="x"), call(userIdentity={})),
    ("eventName a list, then a string", call(eventName=["RunInstances"]), call()),
]


def every_record() -> list[dict[str, Any]]:
    """The tables' records, the lookalikes, and every record of the real samples."""
    tables = [r for _, r, _ in (*KINDS, *ODD, *KEPT)]
    pairs = [r for _, a, b in LOOKALIKES for r in (a, b)]
    real = [r for path in sorted(files("cloudtrail", "**/*.json")) for r in _records(path)]
    return [*tables, *pairs, *real]


def _records(path: Path) -> list[dict[str, Any]]:
    try:
        document = json.loads(path.read_text())
    except ValueError:  # NDJSON
        document = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    found = document.get("Records", [document]) if isinstance(document, dict) else document
    return [r for r in found if isinstance(r, dict)]


def test_the_memo_answers_as_kind_of_whatever_came_before() -> None:
    records = every_record()
    assert len(records) > 100 and len(LOOKALIKES) > 5
    memo = KindMemo(catalogue())
    for record in [*records, *reversed(records)]:
        kind = kind_of(record, catalogue())
        assert memo(record) is kind, record
        assert memo.sort(record) == (kind, kept(record, kind, catalogue())), record


@pytest.mark.parametrize(("why", "first", "then"), LOOKALIKES, ids=[k[0] for k in LOOKALIKES])
def test_the_memo_tells_lookalikes_apart(why: str, first: Any, then: Any) -> None:
    memo = KindMemo(catalogue())
    assert [memo(first), memo(then)] == [kind_of(first, catalogue()), kind_of(then, catalogue())]
    again = KindMemo(catalogue())
    assert [again.sort(first), again.sort(then)] == [
        (kind_of(r, catalogue()), kept(r, kind_of(r, catalogue()), catalogue()))
        for r in (first, then)
    ]


def test_the_memo_holds_at_most_its_bound() -> None:
    memo = KindMemo(catalogue())
    for i in range(MEMO * 2 + 5):
        name = f"Describe{i}" if i % 2 else f"Create{i}"
        assert memo(call(eventName=name, readOnly=None)) is (Kind.READ if i % 2 else Kind.CHANGE)
        assert len(memo) <= MEMO
    assert len(memo) > 0


ACTORS = [
    (
        "a pipeline session names its change",
        call(),
        PROD,
        (ActorKind.PIPELINE, DEPLOY_ROLE, "chg-42-run-9001", "CHG-42"),
    ),
    (
        "the same role, not configured: a person",
        call(),
        TrailRules(),
        (ActorKind.PERSON, DEPLOY_ROLE, "chg-42-run-9001", None),
    ),
    (
        "a pipeline session that names no change",
        call(userIdentity=call()["userIdentity"] | {"arn": "arn:aws:sts::1:assumed-role/r/x"}),
        PROD,
        (ActorKind.PIPELINE, DEPLOY_ROLE, "x", None),
    ),
    (
        "an SSO session names the person",
        call(userIdentity=SSO),
        PROD,
        (ActorKind.PERSON, SSO["sessionContext"]["sessionIssuer"]["arn"], "ivy@example.com", None),  # type: ignore[index]
    ),
    (
        "an IAM user",
        sample(
            "aws-docs-cloudtrail-user-guide",
            "log-file-examples__03__cloudtrail-log-file-examples-ec2.json",
        ),
        PROD,
        (ActorKind.PERSON, "arn:aws:iam::123456789012:user/Alice", "Alice", None),
    ),
    (
        "root",
        sample(
            "aws-docs-cloudtrail-user-guide",
            "event-reference-aws-console-sign-in-events__10__cloudtrail-root-password-changed.json",
        ),
        PROD,
        (ActorKind.PERSON, "arn:aws:iam::111122223333:root", "root", None),
    ),
    (
        "GitHub OIDC with its role configured: the pipeline",
        sample(
            "ccbrown-cloud-snitch",
            "backend__report__aws_cloudtrail_test.go__TestReport_WebIdentityUserEvent.json",
        ),
        TrailRules(pipeline_roles=frozenset({GITHUB_ROLE.casefold()})),
        (ActorKind.PIPELINE, GITHUB_ROLE, "repo:ccbrown/cloud-snitch:ref:refs/heads/main", None),
    ),
    (
        "GitHub OIDC, role not configured: a web identity, not the pipeline",
        sample(
            "ccbrown-cloud-snitch",
            "backend__report__aws_cloudtrail_test.go__TestReport_WebIdentityUserEvent.json",
        ),
        PROD,
        (
            ActorKind.WEB_IDENTITY,
            GITHUB_ROLE,
            "repo:ccbrown/cloud-snitch:ref:refs/heads/main",
            None,
        ),
    ),
    (
        "no userIdentity.type, invoked by AWS",
        sample(
            "ccbrown-cloud-snitch",
            "backend__report__aws_cloudtrail_test.go__TestReport_AWSInternalServiceEvent.json",
        ),
        PROD,
        (ActorKind.SERVICE, "AWS Internal", "AWS Internal", None),
    ),
    (
        "no userIdentity at all",
        call(userIdentity=None),
        PROD,
        (ActorKind.UNKNOWN, "(unknown)", "(unknown)", None),
    ),
    (
        "a workload role the policy names",
        call(),
        TrailRules(workload_roles=frozenset({DEPLOY_ROLE.casefold()})),
        (ActorKind.WORKLOAD, DEPLOY_ROLE, "chg-42-run-9001", None),
    ),
    (
        "a session without sessionContext: the role from the ARN",
        call(
            userIdentity={
                "type": "AssumedRole",
                "arn": "arn:aws:sts::123456789012:assumed-role/ops/bob",
            }
        ),
        PROD,
        (ActorKind.PERSON, "arn:aws:iam::123456789012:role/ops", "bob", None),
    ),
]


@pytest.mark.parametrize(("why", "record", "rules", "expected"), ACTORS, ids=[a[0] for a in ACTORS])
def test_actor(
    why: str, record: dict[str, Any], rules: TrailRules, expected: tuple[Any, ...]
) -> None:
    found = actor(record, rules)
    assert (found.kind, found.principal, found.name, found.change) == expected, why


def test_a_human_running_terraform_is_a_person() -> None:
    record = call(userAgent="APN/1.0 HashiCorp/1.0 Terraform/1.9.5 (+https://www.terraform.io)")
    found = classify(
        record, catalogue(), TrailRules(accounts=PROD.accounts, production=PROD.production)
    )
    assert found.actor.kind is ActorKind.PERSON and found.production_change and needs_cover(found)


ENVIRONMENTS = [
    ("a mapped account", "123456789012", "us-east-1", "production"),
    ("a region-scoped mapping, in its region", "222222222222", "eu-west-1", "staging"),
    ("a region-scoped mapping, elsewhere", "222222222222", "us-east-1", None),
    ("an unmapped account", "999999999999", "us-east-1", None),
]


@pytest.mark.parametrize(("why", "account", "region", "env"), ENVIRONMENTS)
def test_environment(why: str, account: str, region: str, env: str | None) -> None:
    assert PROD.environment(account, region) == env, why


def test_the_record_account_wins_and_without_it_the_callers() -> None:
    old = sample(
        "aws-docs-cloudtrail-user-guide",
        "log-file-examples__03__cloudtrail-log-file-examples-ec2.json",
    )
    assert "recipientAccountId" not in old  # eventVersion 1.0
    found = classify(old, catalogue(), PROD)
    assert (found.account, found.environment, found.kind) == (
        "123456789012",
        "production",
        Kind.CHANGE,
    )
    assert found.at == datetime(2014, 3, 6, 17, 10, 34, tzinfo=UTC)


def test_nothing_is_production_until_an_account_is_mapped() -> None:
    found = classify(call(), catalogue(), TrailRules())
    assert found.kind is Kind.CHANGE and found.environment is None and not found.production_change


def test_a_session_pattern_with_a_key_group() -> None:
    rules = TrailRules(
        pipeline_roles=PROD.pipeline_roles,
        session_pattern=r"deploy-(?P<change>chg-\d+)",
    )
    arn = "arn:aws:sts::123456789012:assumed-role/gha-deployer/deploy-chg-7"
    record = call(userIdentity=call()["userIdentity"] | {"arn": arn})
    assert actor(record, rules).change == "CHG-7"


@pytest.mark.parametrize(
    "broken",
    [
        None,
        {"version": 2},
        {"version": 1, "read_prefixes": "Get"},
        {"version": 1, "not_changes": []},
    ],
)
def test_a_broken_catalogue_is_refused(broken: Any) -> None:
    with pytest.raises(ValueError, match=r"cloudtrail_catalogue\.yaml"):
        from_document(broken)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"session_pattern": r"chg-(\d+)"}, "cloudtrail.session_pattern: needs a named group"),
        ({"session_pattern": "chg-("}, "cloudtrail.session_pattern: not a regular expression"),
        ({"pipeline_roles": ["gha-deployer"]}, "cloudtrail.pipeline_roles: not an IAM ARN"),
        (
            {"accounts": [{"account": "123456789012", "environment": "prod"}]},
            "(top level): cloudtrail.accounts: 123456789012: unknown environment prod",
        ),
        ({"accounts": [{"account": "1234", "environment": "production"}]}, "cloudtrail.accounts.0"),
        ({"emergency_window_hours": 0}, "cloudtrail.emergency_window_hours"),
    ],
)
def test_the_policy_section_names_what_is_wrong(section: dict[str, Any], message: str) -> None:
    with pytest.raises(BadInput) as info:
        from_policy({"cloudtrail": section}, "policy.yaml")
    assert info.value.message.startswith(f"policy.yaml: {message}")


def test_the_policy_maps_environments_accounts_too() -> None:
    policy = from_policy(
        {
            "environments": [
                {"name": "staging", "isolated": True},
                {"name": "production", "production": True, "aws_accounts": ["333333333333"]},
            ],
            "cloudtrail": {"accounts": [{"account": "222222222222", "environment": "staging"}]},
        },
        "policy.yaml",
    )
    rules = policy.trail_rules()
    assert rules.environment("333333333333", "us-east-1") == "production"
    assert rules.environment("222222222222", "eu-west-1") == "staging"
    assert rules.production == frozenset({"production"})
