"""CloudFormation templates as baselines, and drift results, against AWS's own samples."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from botocore.config import Config

from changegate.domain.configuration import (
    DeclaredResource,
    DifferenceKind,
    DriftStatusCfn,
    PropertyDifference,
)
from changegate.domain.errors import BadInput
from changegate.domain.intrinsics import UNKNOWN
from changegate.integrations import cloudformation
from changegate.integrations.cloudformation import (
    MAX_TEMPLATE_BYTES,
    CloudFormationDriftReader,
    parse_drift_results,
    parse_template,
)
from changegate.integrations.ports import IntegrationError
from tests.fixtures import files, fixture
from tests.integrations.fake_cloudformation import FakeCloudFormation, documented

TEMPLATES = fixture("cloudformation", "templates")
STEMS = sorted({p.stem for p in files("cloudformation/templates", "*.yaml", minimum=2)})
STACK = "my-stack-with-resource-drift"


def _by_id(resources: list[DeclaredResource]) -> dict[str, DeclaredResource]:
    return {r.logical_id: r for r in resources}


@pytest.mark.parametrize("stem", STEMS)
def test_yaml_and_json_forms_of_a_sample_give_equal_resources(stem: str) -> None:
    yaml_form = parse_template((TEMPLATES / f"{stem}.yaml").read_bytes(), f"{stem}.yaml")
    json_form = parse_template((TEMPLATES / f"{stem}.json").read_bytes(), f"{stem}.json")
    assert yaml_form == json_form
    assert yaml_form
    for resource in yaml_form:
        assert resource.resource_type.startswith("AWS::")
        json.dumps(resource.properties)  # JSON-able


def test_web_tier_by_value() -> None:
    resources = _by_id(parse_template((TEMPLATES / "web-tier.yaml").read_bytes(), "web.yaml"))
    assert {k: r.resource_type for k, r in resources.items()} == {
        "WebSecurityGroup": "AWS::EC2::SecurityGroup",
        "WebServer": "AWS::EC2::Instance",
        "WebServerAddress": "AWS::EC2::EIP",
    }
    # Evaluated with the parameters' defaults (Environment: production).
    server = resources["WebServer"].properties
    assert server["InstanceType"] == "t3.small"
    assert server["Monitoring"] is True
    assert server["SecurityGroupIds"] == [
        {UNKNOWN: "Fn::GetAtt: an attribute of a deployed resource"}
    ]
    assert server["ImageId"] == {UNKNOWN: "parameter LatestAmiId is read from SSM at deploy"}
    assert server["BlockDeviceMappings"][0]["Ebs"]["VolumeSize"] == 100
    assert server["Tags"] == [
        {"Key": "Name", "Value": {"Fn::Sub": "web-production-${AWS::Region}"}}
    ]
    group = resources["WebSecurityGroup"]
    assert group.physical_name is None  # no GroupName in the template
    assert group.properties["SecurityGroupIngress"][1] == {
        "IpProtocol": "tcp",
        "FromPort": 22,
        "ToPort": 22,
        "CidrIp": "10.20.0.0/16",
    }
    assert group.properties["Tags"][0] == {"Key": "Name", "Value": "web-production"}
    staging = _by_id(
        parse_template(
            (TEMPLATES / "web-tier.yaml").read_bytes(), "web.yaml", {"Environment": "staging"}
        )
    )
    assert "WebServerAddress" not in staging  # its condition is false


def test_config_recorder_by_value() -> None:
    resources = _by_id(parse_template((TEMPLATES / "config-recorder.yaml").read_bytes(), "c.yaml"))
    assert len(resources) == 8
    bucket = resources["ConfigBucket"]
    assert bucket.resource_type == "AWS::S3::Bucket"
    assert bucket.physical_name is None  # a !Sub name is not a literal
    assert bucket.properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert resources["Recorder"].physical_name == "default"
    assert resources["ConfigTopic"].physical_name == "config-changes"
    assert resources["VersioningRule"].physical_name == "s3-bucket-versioning-enabled"
    assert resources["KeyRotationRule"].properties["InputParameters"] == {"maxAccessKeyAge": "90"}
    assert resources["ConfigBucket"].properties["BucketName"] == {
        "Fn::Sub": "config-history-${AWS::AccountId}-${AWS::Region}"
    }


SHORT_TAGS = [
    ("!Ref X", {"Ref": "X"}),
    ("!GetAtt A.B", {"Fn::GetAtt": ["A", "B"]}),
    ("!GetAtt A.B.C", {"Fn::GetAtt": ["A", "B.C"]}),
    ("!GetAtt [A, B]", {"Fn::GetAtt": ["A", "B"]}),
    ('!Sub "arn:${AWS::Partition}:s3:::${B}"', {"Fn::Sub": "arn:${AWS::Partition}:s3:::${B}"}),
    ('!Sub ["${a}", {a: !Ref X}]', {"Fn::Sub": ["${a}", {"a": {"Ref": "X"}}]}),
    ("!If [C, 1, !Ref AWS::NoValue]", {"Fn::If": ["C", 1, {"Ref": "AWS::NoValue"}]}),
    ("!Join ['', [a, !Ref X]]", {"Fn::Join": ["", ["a", {"Ref": "X"}]]}),
    ("!Select [0, !GetAZs '']", {"Fn::Select": [0, {"Fn::GetAZs": ""}]}),
    ("!Split [',', a]", {"Fn::Split": [",", "a"]}),
    ("!FindInMap [M, K, V]", {"Fn::FindInMap": ["M", "K", "V"]}),
    ("!Base64 text", {"Fn::Base64": "text"}),
    ("!Cidr [10.0.0.0/16, 4, 8]", {"Fn::Cidr": ["10.0.0.0/16", 4, 8]}),
    ("!ImportValue Shared", {"Fn::ImportValue": "Shared"}),
    ("!GetAZs us-east-1", {"Fn::GetAZs": "us-east-1"}),
    ("!Equals [a, b]", {"Fn::Equals": ["a", "b"]}),
    ("!And [!Condition A, !Condition B]", {"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]}),
    (
        "!Or [!Condition A, !Not [!Condition B]]",
        {"Fn::Or": [{"Condition": "A"}, {"Fn::Not": [{"Condition": "B"}]}]},
    ),
    (
        "!Transform {Name: AWS::Include, Parameters: {Location: s3://b/k}}",
        {"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "s3://b/k"}}},
    ),
]


@pytest.mark.parametrize(("tag", "long_form"), SHORT_TAGS)
def test_short_tags_become_their_long_form(tag: str, long_form: object) -> None:
    assert len(SHORT_TAGS) == 19
    text = f"Resources:\n  R:\n    Type: AWS::S3::Bucket\n    Properties:\n      P: {tag}\n"
    loaded = cloudformation._load(text, "t.yaml")
    assert loaded == {
        "Resources": {"R": {"Type": "AWS::S3::Bucket", "Properties": {"P": long_form}}}
    }


def test_physical_name_is_the_literal_name_property_only() -> None:
    text = b"""
AWSTemplateFormatVersion: 2010-09-09
Resources:
  Literal: {Type: AWS::S3::Bucket, Properties: {BucketName: audit-logs}}
  Computed: {Type: AWS::S3::Bucket, Properties: {BucketName: !Sub "${AWS::StackName}-x"}}
  Queue: {Type: AWS::SQS::Queue, Properties: {QueueName: jobs}}
  Db: {Type: AWS::RDS::DBInstance, Properties: {DBInstanceIdentifier: main}}
  Fn: {Type: AWS::Lambda::Function, Properties: {FunctionName: f}}
  Table: {Type: AWS::DynamoDB::Table, Properties: {TableName: t}}
  Role: {Type: AWS::IAM::Role, Properties: {RoleName: r}}
  Topic: {Type: AWS::SNS::Topic, Properties: {TopicName: n}}
  Group: {Type: AWS::EC2::SecurityGroup, Properties: {GroupName: g, GroupDescription: d}}
  Bare: {Type: AWS::SNS::Topic}
"""
    names = {r.logical_id: r.physical_name for r in parse_template(text, "t.yaml")}
    assert names == {
        "Literal": "audit-logs",
        "Computed": None,
        "Queue": "jobs",
        "Db": "main",
        "Fn": "f",
        "Table": "t",
        "Role": "r",
        "Topic": "n",
        "Group": "g",
        "Bare": None,
    }


BILLION_LAUGHS = b"""
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
Resources: {R: {Type: AWS::S3::Bucket, Properties: {P: *d}}}
"""

HOSTILE = [
    (BILLION_LAUGHS, "aliases are not allowed"),
    (b"Resources:\n  R: !!python/object/apply:os.system ['true']\n", "not valid YAML"),
    (b"Resources:\n  R:\n    Type: !!python/name:os.system\n", "not valid YAML"),
    (b"Resources:\n  R: {Type: AWS::S3::Bucket, Properties: {P: !Unknown x}}\n", "not valid YAML"),
    (
        b"Resources:\n  R: {Type: AWS::S3::Bucket, Properties: {P: !!binary aGk=}}\n",
        "bytes is not a template value",
    ),
    (b"[" * 100_000, "nested too deeply"),
    (b'{"a": ' * 100_000, "nested too deeply|not valid JSON"),
]


@pytest.mark.parametrize(("data", "reason"), HOSTILE)
def test_hostile_yaml_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(BadInput, match=reason) as caught:
        parse_template(data, "evil.yaml")
    assert caught.value.message.startswith("evil.yaml: ")
    assert "\n" not in caught.value.message


NOT_TEMPLATES = [
    (b"", "no Resources mapping|not a mapping"),
    (b"just text", "not a mapping"),
    (b"Parameters: {}\n", "no Resources mapping"),
    (b"Resources: []\n", "no Resources mapping"),
    (b"Resources: {}\n", "no Resources mapping"),
    (b"Resources:\n  R:\n    Properties: {}\n", "resource R has no Type"),
    (b"Resources:\n  R: {Type: AWS::S3::Bucket, Properties: [1]}\n", "not a mapping"),
    (b"Resources:\n  R: {Type: AWS::S3::Bucket\n", "not valid YAML at line 3"),
    (b'{\n  "Resources": {\n    "R": {"Type": }\n  }\n}', "not valid JSON at line 3"),
    (b"\xff\xfe\x00", "not UTF-8"),
    (b"Resources: {R: {Type: X}}\n#" + b"x" * MAX_TEMPLATE_BYTES, "over 1000000 bytes"),
]


@pytest.mark.parametrize(("data", "reason"), NOT_TEMPLATES)
def test_non_templates_are_refused_with_the_source_and_reason(data: bytes, reason: str) -> None:
    with pytest.raises(BadInput, match=reason) as caught:
        parse_template(data, "in.yaml")
    assert caught.value.message.startswith("in.yaml: ")


def test_documented_drift_results_parse_by_value() -> None:
    [drift] = parse_drift_results(
        documented("detect-drift-stack__03__describe-stack-resource-drifts.json")
    )
    assert drift.stack_id.endswith(f"stack/{STACK}/489e5570-df85-11e7-a7d9-50example")
    assert drift.logical_id == "Queue"
    assert drift.physical_id == (
        "https://sqs.us-east-1.amazonaws.com/099908667365/"
        "my-stack-with-resource-drift-Queue-494PBHCO76H4"
    )
    assert drift.resource_type == "AWS::SQS::Queue"
    assert drift.status is DriftStatusCfn.MODIFIED
    assert drift.timestamp == datetime(2018, 3, 26, 17, 23, 34, 489000, tzinfo=UTC)
    assert drift.differences == (
        PropertyDifference("/DelaySeconds", 20, 120, DifferenceKind.NOT_EQUAL),
        PropertyDifference("/RedrivePolicy/maxReceiveCount", 10, 12, DifferenceKind.NOT_EQUAL),
    )
    assert drift.expected is not None and drift.actual is not None
    assert drift.expected["DelaySeconds"] == 20
    assert drift.actual["RedrivePolicy"] == {
        "deadLetterTargetArn": "arn:aws:sqs:us-east-1:099908667365:"
        "my-stack-with-resource-drift-DLQ-1BCY7HHD5QIM3",
        "maxReceiveCount": 12,
    }


def test_deleted_resource_drift_has_no_actual_properties_and_text_values_stay_text() -> None:
    raw = {
        "StackId": "s",
        "LogicalResourceId": "B",
        "ResourceType": "AWS::S3::Bucket",
        "StackResourceDriftStatus": "DELETED",
        "Timestamp": datetime(2026, 1, 1, tzinfo=UTC),
        "ExpectedProperties": '{"BucketName": "b"}',
        "PropertyDifferences": [
            {
                "PropertyPath": "/VersioningConfiguration/Status",
                "ExpectedValue": "Enabled",
                "ActualValue": "Suspended",
                "DifferenceType": "NOT_EQUAL",
            }
        ],
    }
    [drift] = parse_drift_results({"StackResourceDrifts": [raw]})
    assert drift.status is DriftStatusCfn.DELETED
    assert drift.actual is None and drift.physical_id is None
    assert drift.differences[0].expected == "Enabled"


@pytest.mark.parametrize(
    "response",
    [
        {},
        {"StackResourceDrifts": [{"StackId": "s"}]},
        {
            "StackResourceDrifts": [
                {
                    "StackId": "s",
                    "LogicalResourceId": "B",
                    "ResourceType": "T",
                    "StackResourceDriftStatus": "WEIRD",
                    "Timestamp": "2026-01-01",
                }
            ]
        },
        {
            "StackResourceDrifts": [
                {
                    "StackId": "s",
                    "LogicalResourceId": "B",
                    "ResourceType": "T",
                    "StackResourceDriftStatus": "IN_SYNC",
                    "Timestamp": "x",
                }
            ]
        },
    ],
)
def test_malformed_drift_responses_are_refused(response: dict[str, object]) -> None:
    with pytest.raises(BadInput):
        parse_drift_results(response)


@pytest.fixture
def fake_cfn() -> Iterator[FakeCloudFormation]:
    sample = documented("detect-drift-stack__03__describe-stack-resource-drifts.json")
    in_sync = {
        **sample["StackResourceDrifts"][0],
        "LogicalResourceId": "DLQ",
        "StackResourceDriftStatus": "IN_SYNC",
        "PropertyDifferences": [],
    }
    with FakeCloudFormation(
        [*sample["StackResourceDrifts"], in_sync], in_progress_polls=2, page_size=1
    ) as fake:
        yield fake
    assert not fake.errors


def _client(url: str) -> object:
    return boto3.client(
        "cloudformation",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )


def test_drift_reader_polls_then_pages_through_a_real_boto3_client(
    fake_cfn: FakeCloudFormation,
) -> None:
    waits: list[float] = []
    drifts = CloudFormationDriftReader(_client(fake_cfn.url), interval=2.5).detect(
        STACK, waits.append
    )
    assert waits == [2.5, 2.5]  # two DETECTION_IN_PROGRESS answers, no real sleeping
    assert [(d.logical_id, d.status) for d in drifts] == [
        ("Queue", DriftStatusCfn.MODIFIED),
        ("DLQ", DriftStatusCfn.IN_SYNC),
    ]
    assert drifts[0].differences[0] == PropertyDifference(
        "/DelaySeconds", 20, 120, DifferenceKind.NOT_EQUAL
    )
    assert drifts[0].timestamp == datetime(2018, 3, 26, 17, 23, 34, 489000, tzinfo=UTC)
    actions = [r["Action"] for r in fake_cfn.requests]
    assert actions == [
        "DetectStackDrift",
        *["DescribeStackDriftDetectionStatus"] * 3,
        "DescribeStackResourceDrifts",
        "DescribeStackResourceDrifts",
    ]
    assert fake_cfn.requests[-1]["NextToken"] == "1"


def test_drift_reader_gives_up_after_max_polls(fake_cfn: FakeCloudFormation) -> None:
    reader = CloudFormationDriftReader(_client(fake_cfn.url), max_polls=2)
    with pytest.raises(IntegrationError, match="still in progress"):
        reader.detect(STACK, lambda _: None)


def test_drift_reader_maps_aws_errors(fake_cfn: FakeCloudFormation) -> None:
    with pytest.raises(IntegrationError, match=r"detect_stack_drift: HTTP 400.*does not exist"):
        CloudFormationDriftReader(_client(fake_cfn.url)).detect("no-such-stack", lambda _: None)
