"""A year of an organisation's CloudTrail, in the shapes of the shared real samples.

Each shape copies the fields of a record in tests/fixtures/cloudtrail (the file is named at the
shape), with its identifiers, times and names drawn afresh: the SSM agent's heartbeat of an
instance role (ccbrown/cloud-snitch's organisation log file), console reads and a console
change by an IAM Identity Center person, an AWS service acting for a principal
(TestReport_AWSInternalServiceEvent), an S3 data event, a console sign-in (the user guide's
sign-in events), GitHub Actions assuming the deploy role by OIDC (TestReport_WebIdentityUser
Event) and the deploy role's calls, a failed write (log-file-examples #07). The pipeline's
calls fall inside the audit benchmark's production deployments, with the session naming the
change; the planted console changes in production fall outside every change.
"""

from __future__ import annotations

import random
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

ORG = "o-exampleorg1"
PROD, STAGING, SANDBOX = "111111111111", "222222222222", "333333333333"
ACCOUNTS = {PROD: "production", STAGING: "staging", SANDBOX: "development"}
REGIONS = ("us-east-1", "eu-west-1")
DEPLOY_ROLE = f"arn:aws:iam::{PROD}:role/gha-deployer"
SLOT = timedelta(minutes=5)  # CloudTrail delivers a file per account and region about every 5
YEAR = datetime(2026, 1, 2, tzinfo=UTC), timedelta(days=350)
# People who implement no change in the audit benchmark's year: no emergency covers them.
PEOPLE = ("erin@example.com", "frank@example.com", "gus@example.com", "hal@example.com")
PLANTED_PER_MILLION = 120  # console changes in production that nothing covers
MEAN_PER_FILE = 40
Record = dict[str, Any]


class Generator:
    """`files()` yields (S3 key under AWSLogs/, records) in key order; `planted` holds the
    eventIDs of the uncovered production changes, `shapes` counts each shape written."""

    def __init__(self, seed: int, runs: list[tuple[str, str, str]], events: int) -> None:
        self.rng = random.Random(seed)
        self.events = events
        self.count = 0
        self.planted: set[str] = set()
        self.shapes: Counter[str] = Counter()
        self.slots: dict[tuple[str, str, datetime], list[tuple[str, Any]]] = {}
        self._plan(runs)

    def _plan(self, runs: list[tuple[str, str, str]]) -> None:
        budget = self.events
        for key, started, finished in runs:
            start, end = _parse(started), _parse(finished)
            for offset in (0, 60, 120, 180):
                at = min(start + timedelta(seconds=offset + self.rng.randint(0, 50)), end)
                self._special(PROD, "us-east-1", at, ("pipeline", (key, offset, at)))
            budget -= 4
            if budget < self.events // 2:
                break  # a toy size: half the events are the pipeline's at most
        for _ in range(max(1, self.events * PLANTED_PER_MILLION // 1_000_000)):
            at = self._when()
            self._special(PROD, self.rng.choice(REGIONS), at, ("console_change", at))
        wanted = max(len(self.slots), self.events // MEAN_PER_FILE)
        while len(self.slots) < wanted:
            account = self.rng.choice((PROD, PROD, STAGING, SANDBOX))
            self.slots.setdefault((account, self.rng.choice(REGIONS), _slot(self._when())), [])

    def _special(self, account: str, region: str, at: datetime, what: tuple[str, Any]) -> None:
        self.slots.setdefault((account, region, _slot(at)), []).append(what)

    def _when(self) -> datetime:
        return YEAR[0] + timedelta(seconds=self.rng.randrange(int(YEAR[1].total_seconds())))

    def files(self) -> Iterator[tuple[str, list[Record]]]:
        fillers = max(0, self.events - sum(len(v) for v in self.slots.values()))
        weights = [self.rng.expovariate(1.0) for _ in self.slots]
        scale = fillers / sum(weights)
        left = fillers
        keys = sorted(self.slots, key=lambda k: (k[0], k[1], k[2]))
        for n, (account, region, slot) in enumerate(keys):
            share = left if n == len(keys) - 1 else min(left, round(weights[n] * scale))
            left -= share
            records = [
                self._render(account, region, w) for w in self.slots[(account, region, slot)]
            ]
            records += [self._filler(account, region, slot) for _ in range(share)]
            self.rng.shuffle(records)  # CloudTrail does not sort a file's records by time
            self.count += len(records)
            yield _key(account, region, slot, self.rng), records

    def _render(self, account: str, region: str, what: tuple[str, Any]) -> Record:
        kind, value = what
        if kind == "pipeline":
            key, offset, at = value
            return self._pipeline(region, key, offset, at)
        record = console_change(self, account, region, value, self.rng.choice(PEOPLE))
        self.planted.add(record["eventID"])
        return record

    def _pipeline(self, region: str, key: str, offset: int, at: datetime) -> Record:
        run = f"{key.lower()}-run-{self.rng.randint(1000, 99999)}"
        if offset == 0:
            self.shapes["oidc"] += 1
            return oidc(self, region, at, run)
        self.shapes["pipeline"] += 1
        return deploy_call(self, region, at, run, offset)

    def _filler(self, account: str, region: str, slot: datetime) -> Record:
        at = slot + timedelta(seconds=self.rng.randrange(300))
        name, shape = self.rng.choices(FILLERS, WEIGHTS)[0]
        self.shapes[name] += 1
        return shape(self, account, region, at)

    def uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


def _parse(value: str) -> datetime:
    at = datetime.fromisoformat(value)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _slot(at: datetime) -> datetime:
    return at.replace(minute=at.minute - at.minute % 5, second=0, microsecond=0)


def _key(account: str, region: str, slot: datetime, rng: random.Random) -> str:
    day = slot.strftime("%Y/%m/%d")
    stamp = slot.strftime("%Y%m%dT%H%MZ")
    tail = "".join(
        rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", k=16)
    )
    return (
        f"{account}/CloudTrail/{region}/{day}/{account}_CloudTrail_{region}_{stamp}_{tail}.json.gz"
    )


def _time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _base(g: Generator, account: str, region: str, at: datetime, source: str, name: str) -> Record:
    return {
        "eventVersion": "1.11",
        "eventTime": _time(at),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": f"98.80.{g.rng.randrange(256)}.{g.rng.randrange(256)}",
        "requestID": g.uuid(),
        "eventID": g.uuid(),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": f"{source.partition('.')[0]}.{region}.amazonaws.com",
        },
    }


def _session(account: str, role: str, session: str, path: str = "") -> Record:
    role_id = f"AROAEXAMPLE{zlib.crc32(role.encode()):010d}"
    return {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
        "accountId": account,
        "accessKeyId": "ASIAEXAMPLEKEY000001",
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role_id,
                "arn": f"arn:aws:iam::{account}:role/{path}{role}",
                "accountId": account,
                "userName": role,
            },
            "attributes": {"creationDate": "2026-01-01T00:00:00Z", "mfaAuthenticated": "false"},
        },
    }


def _sso(g: Generator, account: str, person: str) -> Record:
    return _session(
        account, "AWSReservedSSO_Admin_0a1b2c3d", person, "aws-reserved/sso.amazonaws.com/"
    )


def heartbeat(g: Generator, account: str, region: str, at: datetime) -> Record:
    """cloud-snitch's organisation file, record 1: the SSM agent of an ECS instance."""
    instance = f"i-{g.rng.getrandbits(68):017x}"
    r = _base(g, account, region, at, "ssm.amazonaws.com", "UpdateInstanceInformation")
    r["userIdentity"] = _session(account, "ecs-cluster-instance", instance)
    r["userAgent"] = "aws-sdk-go/1.55.5 (go1.22.7; linux; amd64) amazon-ssm-agent/"
    r["requestParameters"] = {
        "instanceId": instance,
        "agentVersion": "3.3.1142.0",
        "agentStatus": "Active",
        "platformType": "Linux",
        "platformName": "Amazon Linux",
        "platformVersion": "2023",
        "iPAddress": f"10.0.{g.rng.randrange(256)}.{g.rng.randrange(256)}",
        "computerName": f"ip-10-0-{g.rng.randrange(256)}-{g.rng.randrange(256)}.ec2.internal",
        "agentName": "amazon-ssm-agent",
        "availabilityZone": f"{region}a",
    }
    r["responseElements"] = None
    r["readOnly"] = False
    return r


def console_read(g: Generator, account: str, region: str, at: datetime) -> Record:
    source, name = g.rng.choice(READS)
    r = _base(g, account, region, at, source, name)
    r["userIdentity"] = _sso(g, account, g.rng.choice(PEOPLE))
    r["userAgent"] = "AWS Internal"
    r["requestParameters"] = {"maxResults": 100, "filterSet": {}}
    r["responseElements"] = None
    r["readOnly"] = True
    r["sessionCredentialFromConsole"] = "true"
    return r


def service(g: Generator, account: str, region: str, at: datetime) -> Record:
    """TestReport_AWSInternalServiceEvent's shape: AWS acting for a role (invokedBy)."""
    r = _base(g, account, region, at, "kms.amazonaws.com", "Decrypt")
    r["userIdentity"] = _session(account, "orders-task", f"task-{g.rng.getrandbits(32):08x}") | {
        "invokedBy": "ecs-tasks.amazonaws.com"
    }
    r["userAgent"] = "ecs-tasks.amazonaws.com"
    r["requestParameters"] = {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    r["responseElements"] = None
    r["readOnly"] = True
    r["resources"] = [
        {
            "accountId": account,
            "type": "AWS::KMS::Key",
            "ARN": f"arn:aws:kms:{region}:{account}:key/{g.uuid()}",
        }
    ]
    return r


def aws_service(g: Generator, account: str, region: str, at: datetime) -> Record:
    r = _base(g, account, region, at, "sts.amazonaws.com", "AssumeRole")
    r["userIdentity"] = {"type": "AWSService", "invokedBy": "lambda.amazonaws.com"}
    r["userAgent"] = "lambda.amazonaws.com"
    r["requestParameters"] = {
        "roleArn": f"arn:aws:iam::{account}:role/orders-function",
        "roleSessionName": "orders-function",
    }
    r["responseElements"] = {"credentials": {"accessKeyId": "ASIAEXAMPLEKEY000002"}}
    r["readOnly"] = True
    r["sharedEventID"] = g.uuid()
    return r


def data(g: Generator, account: str, region: str, at: datetime) -> Record:
    name = g.rng.choice(("GetObject", "PutObject", "HeadObject"))
    r = _base(g, account, region, at, "s3.amazonaws.com", name)
    r["userIdentity"] = _session(account, "orders-task", f"task-{g.rng.getrandbits(32):08x}")
    r["userAgent"] = "[aws-sdk-java/2.25.0 Linux/6.1 OpenJDK_64-Bit_Server_VM/21]"
    key = f"orders/{g.rng.getrandbits(40):010x}.json"
    r["requestParameters"] = {"bucketName": "orders-data", "key": key, "Host": "orders-data.s3"}
    r["responseElements"] = None
    r["additionalEventData"] = {"bytesTransferredIn": 0, "bytesTransferredOut": 812}
    r["readOnly"] = name != "PutObject"
    r["managementEvent"] = False
    r["eventCategory"] = "Data"
    r["resources"] = [
        {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::orders-data/{key}"},
        {"accountId": account, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::orders-data"},
    ]
    return r


def sign_in(g: Generator, account: str, region: str, at: datetime) -> Record:
    """The user guide's console sign-in (event-reference-aws-console-sign-in-events #01)."""
    r = _base(g, account, "us-east-1", at, "signin.amazonaws.com", "ConsoleLogin")
    r["userIdentity"] = _sso(g, account, g.rng.choice(PEOPLE))
    r["userAgent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
    r["requestParameters"] = None
    r["responseElements"] = {"ConsoleLogin": "Success"}
    r["additionalEventData"] = {"MobileVersion": "No", "MFAUsed": "Yes"}
    r["eventType"] = "AwsConsoleSignIn"
    r["readOnly"] = False
    return r


def failed_write(g: Generator, account: str, region: str, at: datetime) -> Record:
    """The user guide's error example (log-file-examples #07): a write refused."""
    r = console_change(g, account, region, at, g.rng.choice(PEOPLE))
    r["errorCode"] = "Client.UnauthorizedOperation"
    r["errorMessage"] = "You are not authorized to perform this operation."
    r["responseElements"] = None
    return r


def console_change(g: Generator, account: str, region: str, at: datetime, who: str) -> Record:
    group = f"sg-{g.rng.getrandbits(68):017x}"
    r = _base(g, account, region, at, "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress")
    r["userIdentity"] = _sso(g, account, who)
    r["userAgent"] = "AWS Internal"
    r["requestParameters"] = {
        "groupId": group,
        "ipPermissions": {
            "items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                       "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]
        },
    }  # fmt: skip
    r["responseElements"] = {"requestId": r["requestID"], "_return": True}
    r["readOnly"] = False
    r["sessionCredentialFromConsole"] = "true"
    return r


def other_change(g: Generator, account: str, region: str, at: datetime) -> Record:
    """A console change outside production (in production, a read instead)."""
    if account == PROD:
        return console_read(g, account, region, at)
    return console_change(g, account, region, at, g.rng.choice(PEOPLE))


def oidc(g: Generator, region: str, at: datetime, run: str) -> Record:
    """TestReport_WebIdentityUserEvent: GitHub Actions assumes the deploy role."""
    r = _base(g, PROD, region, at, "sts.amazonaws.com", "AssumeRoleWithWebIdentity")
    r["userIdentity"] = {
        "type": "WebIdentityUser",
        "principalId": f"arn:aws:iam::{PROD}:oidc-provider/token.actions.githubusercontent"
        ".com:sts.amazonaws.com:repo:example/infra:environment:production",
        "userName": "repo:example/infra:environment:production",
        "identityProvider": "arn:aws:iam::111111111111:oidc-provider/token.actions."
        "githubusercontent.com",
    }
    r["userAgent"] = "aws-sdk-nodejs/2.1693.0 linux/v20.18.0 configure-aws-credentials-for-github"
    r["requestParameters"] = {
        "roleArn": DEPLOY_ROLE,
        "roleSessionName": run,
        "durationSeconds": 3600,
    }
    r["responseElements"] = {"subjectFromWebIdentityToken": "repo:example/infra"}
    r["readOnly"] = True
    r["resources"] = [{"accountId": PROD, "type": "AWS::IAM::Role", "ARN": DEPLOY_ROLE}]
    return r


def deploy_call(g: Generator, region: str, at: datetime, run: str, offset: int) -> Record:
    name = {60: "CreateChangeSet", 120: "ExecuteChangeSet"}.get(offset, "UpdateService")
    source = "ecs.amazonaws.com" if name == "UpdateService" else "cloudformation.amazonaws.com"
    r = _base(g, PROD, region, at, source, name)
    r["userIdentity"] = _session(PROD, "gha-deployer", run)
    if name == "UpdateService":  # CloudFormation updating the service for the stack
        r["userIdentity"]["invokedBy"] = "cloudformation.amazonaws.com"
    r["userAgent"] = "aws-cli/2.17.0 md/command#cloudformation.deploy"
    r["requestParameters"] = {"stackName": "orders", "changeSetName": run}
    r["responseElements"] = {"id": f"arn:aws:cloudformation:{region}:{PROD}:changeSet/{run}"}
    r["readOnly"] = False
    return r


READS = (
    ("ec2.amazonaws.com", "DescribeInstances"),
    ("ec2.amazonaws.com", "DescribeSecurityGroups"),
    ("iam.amazonaws.com", "ListRoles"),
    ("s3.amazonaws.com", "ListBuckets"),
    ("cloudformation.amazonaws.com", "DescribeStacks"),
    ("lambda.amazonaws.com", "GetFunction"),
)
FILLERS: tuple[tuple[str, Callable[[Generator, str, str, datetime], Record]], ...] = (
    ("heartbeat", heartbeat),
    ("console_read", console_read),
    ("service", service),
    ("aws_service", aws_service),
    ("data", data),
    ("sign_in", sign_in),
    ("failed_write", failed_write),
    ("other_change", other_change),
)
WEIGHTS = (30, 25, 12, 5, 18, 2, 3, 5)
