"""The demo's day of CloudTrail (CM-5): what an AWS organisation's trail records in a working
day, ingested through the same use case as `trail ingest`, with two console changes to
production that no change covers.

The records follow the shapes of the CloudTrail user guide's examples (log-file examples,
console sign-in, IAM Identity Center sessions, `AwsServiceEvent`, GitHub OIDC sessions): an
assumed role's session names the person (IAM Identity Center) or the change (the pipeline).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from changegate.integrations.cloudtrail import Item
from changegate.services import trail_ingest
from changegate.services.context import Context

PRODUCTION, STAGING = "210987654321", "109876543210"
DEPLOY_ROLE = f"arn:aws:iam::{PRODUCTION}:role/github-deploy"
SSO_ROLE = "AWSReservedSSO_PowerUser_5f0c1e2d3a4b6789"
# The demo's policy: which accounts are which environment, and the pipeline's role.
CLOUDTRAIL: dict[str, Any] = {
    "accounts": [
        {"account": PRODUCTION, "environment": "production"},
        {"account": STAGING, "environment": "staging"},
    ],
    "pipeline_roles": [DEPLOY_ROLE],
}
SOURCE = f"demo:AWSLogs/o-casper0001/{PRODUCTION}/CloudTrail/us-east-1"
IDS = uuid.UUID("6f1d4c1e-0b7a-4f55-9a51-2f3c0d1e9a77")
BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Safari/605.1.15"
CLI = "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/macos#23.6.0 exec-env/ssm command/s3api.put"
TERRAFORM = "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) aws-sdk-go-v2/1.30"
READS = (
    ("ec2", "DescribeInstances"),
    ("rds", "DescribeDBInstances"),
    ("s3", "ListBuckets"),
    ("cloudwatch", "GetMetricData"),
    ("logs", "DescribeLogGroups"),
    ("iam", "ListRoles"),
)


@dataclass(frozen=True)
class TrailDay:
    day: date
    events: int
    uncovered: tuple[str, ...]  # the console changes no change covers


def seed(ctx: Context, day: date, people: tuple[str, str], change: str) -> TrailDay:
    """Ingest a day of the organisation's trail, as the pipeline principal would: `people`
    sign in through IAM Identity Center and work in the console; the pipeline's session for
    `change` reads its stacks."""
    records = records_of(day, people, change)
    tally = trail_ingest.ingest(
        ctx, (Item(n, r) for n, r in enumerate(records, 1)), f"{SOURCE}/{day:%Y/%m/%d}", None
    )
    return TrailDay(day, len(records), tuple(tally.uncovered))


def records_of(day: date, people: tuple[str, str], change: str) -> list[dict[str, Any]]:
    """The day's records, in time order (2 production changes, 1 staging change, 1 attempt,
    1 service event; the rest sign-ins and reads)."""
    ana, ben = people
    number = change.removeprefix("CHG-")
    pipeline = _role_session(DEPLOY_ROLE, f"chg-{number}-run-88121", web_identity=True)
    out = [
        _sign_in(day, "08:55", ana),
        _call(
            day,
            "09:10",
            _github(),
            "sts",
            "AssumeRoleWithWebIdentity",
            request={"roleArn": DEPLOY_ROLE, "roleSessionName": f"chg-{number}-run-88121"},
        ),
        _call(day, "09:11", pipeline, "cloudformation", "DescribeStacks", read=True),
        _call(
            day,
            "11:40",
            _sso(ana),
            "ec2",
            "AuthorizeSecurityGroupIngress",
            console=True,
            request={
                "groupId": "sg-0a1b2c3d4e5f60718",
                "ipPermissions": {
                    "items": [
                        {
                            "ipProtocol": "tcp",
                            "fromPort": 22,
                            "toPort": 22,
                            "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]},
                        }
                    ]
                },
            },
            resources=[f"arn:aws:ec2:us-east-1:{PRODUCTION}:security-group/sg-0a1b2c3d4e5f60718"],
        ),
        _sign_in(day, "13:02", ben),
        _call(
            day,
            "14:05",
            _sso(ben),
            "s3",
            "PutBucketPolicy",
            agent=CLI,
            error=("AccessDenied", "User is not authorized to perform: s3:PutBucketPolicy"),
            request={"bucketName": "casper-audit-logs"},
        ),
        _call(
            day,
            "15:20",
            _sso(ben),
            "s3",
            "PutBucketVersioning",
            console=True,
            request={
                "bucketName": "casper-audit-logs",
                "VersioningConfiguration": {"Status": "Suspended"},
            },
            resources=["arn:aws:s3:::casper-audit-logs"],
        ),
        _call(
            day,
            "16:45",
            _iam_user(STAGING, "liam-laptop"),
            "rds",
            "ModifyDBInstance",
            agent=TERRAFORM,
            account=STAGING,
            request={"dBInstanceIdentifier": "orders-staging", "allocatedStorage": 200},
        ),
        _service(day, "03:00"),
    ]
    for n in range(24):  # people and the pipeline reading through the day
        who = (_sso(ana), _sso(ben), pipeline)[n % 3]
        service, name = READS[n % len(READS)]
        out.append(
            _call(day, f"{9 + n // 3:02d}:{(n * 7) % 60:02d}", who, service, name, read=True)
        )
    return sorted(out, key=lambda r: (r["eventTime"], r["eventID"]))


def _call(
    day: date,
    at: str,
    identity: dict[str, Any],
    service: str,
    name: str,
    *,
    read: bool = False,
    console: bool = False,
    agent: str | None = None,
    event_type: str = "AwsApiCall",
    account: str = PRODUCTION,
    request: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    error: tuple[str, str] | None = None,
    resources: list[str] | None = None,
) -> dict[str, Any]:
    when = datetime.combine(day, time.fromisoformat(at), tzinfo=UTC)
    record: dict[str, Any] = {
        "eventVersion": "1.11",
        "userIdentity": identity,
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": f"{service}.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.24",
        "userAgent": agent or (BROWSER if console else "aws-sdk-go-v2/1.30.3"),
        "requestParameters": request,
        "responseElements": response,
        "requestID": str(uuid.uuid5(IDS, f"request {when} {name}")),
        "eventID": str(uuid.uuid5(IDS, f"{when} {service} {name} {identity.get('arn')}")),
        "readOnly": read,
        "eventType": event_type,
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    if console:
        record["sessionCredentialFromConsole"] = "true"
    if error:
        record["errorCode"], record["errorMessage"] = error
    if resources:
        record["resources"] = [{"ARN": arn, "accountId": account} for arn in resources]
    return record


def _sign_in(day: date, at: str, email: str) -> dict[str, Any]:
    response = {"ConsoleLogin": "Success"}
    return _call(
        day, at, _sso(email), "signin", "ConsoleLogin", console=True,
        event_type="AwsConsoleSignIn", response=response,
    )  # fmt: skip


def _sso(email: str) -> dict[str, Any]:
    return _role_session(
        f"arn:aws:iam::{PRODUCTION}:role/aws-reserved/sso.amazonaws.com/{SSO_ROLE}", email
    )


def _role_session(role: str, session: str, web_identity: bool = False) -> dict[str, Any]:
    account, name = role.split(":")[4], role.rsplit("/", 1)[1]
    context: dict[str, Any] = {
        "sessionIssuer": {
            "type": "Role",
            "principalId": "AROAYDEMO5EXAMPLE00" + name[:4].upper(),
            "arn": role,
            "accountId": account,
            "userName": name,
        },
        "attributes": {"creationDate": "2026-09-29T08:50:00Z", "mfaAuthenticated": "false"},
    }
    if web_identity:
        provider = f"arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com"
        context["webIdFederationData"] = {"federatedProvider": provider, "attributes": {}}
    return {
        "type": "AssumedRole",
        "principalId": f"AROAYDEMO5EXAMPLE00{name[:4].upper()}:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{name}/{session}",
        "accountId": account,
        "accessKeyId": "ASIAYDEMO5EXAMPLE0001",
        "sessionContext": context,
    }


def _github() -> dict[str, Any]:
    """GitHub Actions' OIDC token exchanged for the deploy role's session."""
    provider = f"arn:aws:iam::{PRODUCTION}:oidc-provider/token.actions.githubusercontent.com"
    subject = "repo:casper-studios/platform:environment:production"
    return {
        "type": "WebIdentityUser",
        "principalId": f"{provider}:sts.amazonaws.com:{subject}",
        "userName": subject,
        "identityProvider": provider,
    }


def _iam_user(account: str, name: str) -> dict[str, Any]:
    return {
        "type": "IAMUser",
        "principalId": "AIDAYDEMO5EXAMPLE0002",
        "arn": f"arn:aws:iam::{account}:user/{name}",
        "accountId": account,
        "accessKeyId": "AKIAYDEMO5EXAMPLE0002",
        "userName": name,
    }


def _service(day: date, at: str) -> dict[str, Any]:
    """KMS rotating a customer managed key on its schedule: AWS acting on its own."""
    record = _call(
        day,
        at,
        {"accountId": PRODUCTION, "invokedBy": "kms.amazonaws.com"},
        "kms",
        "RotateKey",
        event_type="AwsServiceEvent",
        agent="kms.amazonaws.com",
    )
    record["serviceEventDetails"] = {"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}
    del record["sourceIPAddress"]
    return record


def quiet_minutes(day: date) -> datetime:
    """When the day's trail is ingested: after its last delivery (CloudTrail delivers within
    about fifteen minutes)."""
    return datetime.combine(day, time(18, 30), tzinfo=UTC) + timedelta(minutes=15)
