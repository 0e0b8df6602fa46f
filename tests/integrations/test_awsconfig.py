"""AWS Config items: every shared sample through read_file, and moto's server over real HTTP.

What moto 5.2.5's server does for Config (checked here, see the moto tests at the bottom):
- ListDiscoveredResources and BatchGetResourceConfig work for S3 buckets (and IAM policies, SNS
  topics, the account public access block); an EC2 security group is never discovered, and
  BatchGetResourceConfig silently leaves unknown keys out (no unprocessedResourceKeys).
- SelectResourceConfig answers 200 with no results: moto runs no SQL.
- GetResourceConfigHistory returns only the current item, never a history.
- Base items from BatchGetResourceConfig carry no tags (the API shape has none); history does.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from changegate.domain.configuration import ItemStatus
from changegate.domain.errors import BadInput
from changegate.integrations.awsconfig import AwsConfigReader, normalise_item, read_file
from tests.fixtures import files, fixture
from tests.moto_peer import moto_server

DATA = fixture("aws-config")
FILES = files("aws-config", "**/*.json", minimum=90)
DOCS = DATA / "aws-docs-config-developer-guide"
RDK = DATA / "aws-config-rdk-example_ci"
ACCOUNT = "123456789012"


def _read(path: Path) -> tuple[list[Any], list[str]]:
    items, problems = read_file(path.read_bytes(), path.name)
    return list(items), problems


def test_the_samples_are_there() -> None:
    assert len(FILES) > 90, f"AWS Config samples not found under {DATA}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name[:60])
def test_every_sample_parses_to_consistent_items_or_problems(path: Path) -> None:
    items, problems = _read(path)
    assert items or problems
    for item in items:
        assert "::" in item.resource_type and item.resource_id and item.account_id
        assert item.captured_at.tzinfo is not None
        assert item.status in set(ItemStatus)
        assert item.configuration is None or isinstance(item.configuration, dict)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in item.tags.items())
        assert item.region is None or item.region == "global" or item.region.count("-") >= 2
    for problem in problems:
        assert problem.startswith(path.name) and "\n" not in problem


NOT_ITEMS = {
    "customresources-cli__01__view-custom-resource-type-cli.json": "document carries no",
    "evaluate-config_develop-rules_example-events__03__periodic-example-event.json": (
        "ScheduledNotification carries no configuration item"
    ),
    "example-config-rule-compliance-notification__01__example-config-rule-compliance-"
    "notification.json": "ComplianceChangeNotification carries no configuration item",
    "example-configuration-snapshot-notification__01__example-configuration-snapshot-"
    "notification.json": "carries no configuration item (s3://config-bucket-123456789012-ohio/"
    "AWSLogs/123456789012/Config/us-east-2/2016/9/27/ConfigSnapshot/",
    "evaluate-config_develop-rules_example-events__02__oversized-configuration-item-change-"
    "notification-example-eve.json": "oversized notification: fetch GetResourceConfigHistory "
    "AWS::EC2::Instance i-00000000",
}


@pytest.mark.parametrize(("name", "expected"), NOT_ITEMS.items(), ids=lambda v: str(v)[:40])
def test_documents_without_items_come_back_as_problems(name: str, expected: str) -> None:
    items, problems = _read(DOCS / name)
    assert items == []
    assert len(problems) == 1 and expected in problems[0]


def test_tzlocal_repr_capture_time_is_a_problem_not_a_guess() -> None:
    items, problems = _read(RDK / "AWS_ACM_Certificate.json")
    assert items == []
    assert problems == [
        "AWS_ACM_Certificate.json item 1: bad configurationItemCaptureTime "
        "'datetime.datetime(2020, 4, 22, 13, 13, 1'"
    ]


def test_ec2_instance_api_style_1_2_by_value() -> None:
    [item], problems = _read(RDK / "AWS_EC2_Instance.json")
    assert problems == []
    assert (item.resource_type, item.resource_id) == ("AWS::EC2::Instance", "i-03402838daac1d611")
    assert item.arn == "arn:aws:ec2:us-east-1:681361479661:instance/i-03402838daac1d611"
    assert (item.account_id, item.region, item.schema_version) == (
        "681361479661",
        "us-east-1",
        "1.2",
    )
    assert item.captured_at == datetime(2017, 4, 5, 22, 23, 11, 677000, tzinfo=UTC)
    assert item.status == ItemStatus.DISCOVERED
    assert item.state_id == "1491430991677"
    assert item.related_events == ("d3d87c29-bde3-4380-a7de-810f379246cc",)
    assert item.configuration is not None
    assert item.configuration["instanceId"] == "i-03402838daac1d611"


def test_notification_style_s3_bucket_and_list_tags() -> None:
    [bucket], _ = _read(RDK / "AWS_S3_Bucket.json")
    assert (bucket.account_id, bucket.region, bucket.resource_id) == (
        "934654633380",
        "us-east-1",
        "mborch-test-bucket-config-item",
    )
    assert bucket.arn == "arn:aws:s3:::mborch-test-bucket-config-item"
    acl = bucket.supplementary["AccessControlList"]  # a JSON string in the item: parsed
    assert isinstance(acl, dict) and acl["grantList"][0]["permission"] == "FullControl"
    [stack], _ = _read(RDK / "AWS_CloudFormation_Stack.json")
    assert stack.configuration is not None and stack.configuration["tags"] == [
        {"key": "Name", "value": "example-stack"}
    ]


def test_s3_snapshot_file_by_value() -> None:
    items, problems = _read(DOCS / "deliver-snapshot-cli__01__example-s3-snapshot.json")
    assert problems == []
    assert [(i.resource_type, i.resource_id) for i in items] == [
        ("AWS::EC2::Volume", "vol-ce676ccc"),
        ("AWS::EC2::Instance", "i-344c463d"),
    ]
    volume = items[0]
    assert volume.region == "us-west-2"  # from the (sic) availibilityZone: no awsRegion
    assert volume.state_id == "3e660fdf-4e34-4f32-afeb-0ace5bf3d63a"
    assert volume.configuration is not None and volume.configuration["state"] == "in-use"


def test_change_notification_keeps_its_configuration_item_diff() -> None:
    name = "example-sns-notification__02__example-configuration-items-for-relationships.json"
    [item], problems = _read(DOCS / name)
    assert problems == []
    assert (item.resource_id, item.account_id, item.region) == (
        "i-007d374c8912e3e90",
        ACCOUNT,
        "us-east-2",
    )
    assert item.arn == "arn:aws:ec2:us-east-2:123456789012:instance/i-007d374c8912e3e90"
    assert item.tags == {"Name": "value"}
    assert item.state_id == "1484002214328"
    assert item.diff is not None and item.diff["changeType"] == "UPDATE"
    changed = item.diff["changedProperties"]
    assert isinstance(changed, dict) and "Configuration.NetworkInterfaces.0" in changed


def test_sns_envelope_with_message_as_json_string_and_lambda_event() -> None:
    name = "example-sns-notification__03__example-configuration-items-for-relationships.json"
    envelope = json.loads((DOCS / name).read_text())
    envelope["Message"] = json.dumps(envelope["Message"])  # how SNS really delivers it
    [item], problems = read_file(json.dumps(envelope).encode(), "sns.json")
    assert problems == [] and item.resource_id == "sg-3f1fef43"
    assert item.diff == {"changedProperties": {}, "changeType": "CREATE"}
    [event], _ = _read(
        DOCS / "evaluate-config_develop-rules_example-events__01__triggered-example-event.json"
    )
    assert (event.resource_id, event.tags, event.configuration) == (
        "i-00000000",
        {"Foo": "Bar"},
        {"foo": "bar"},
    )


def test_gzip_snapshot() -> None:
    raw = (DOCS / "deliver-snapshot-cli__01__example-s3-snapshot.json").read_bytes()
    items, problems = read_file(gzip.compress(raw), "snap.json.gz")
    assert problems == [] and len(items) == 2
    _, problems = read_file(gzip.compress(raw)[:40], "cut.json.gz")
    assert len(problems) == 1 and problems[0].startswith("cut.json.gz: ")


def deleted_item(**overrides: object) -> dict[str, object]:
    """A ResourceDeleted item from the documented fields (no real sample exists)."""
    item: dict[str, object] = {
        "version": "1.3",
        "accountId": ACCOUNT,
        "configurationItemCaptureTime": 1764000000.5,
        "configurationItemStatus": "ResourceDeleted",
        "configurationStateId": "1764000000500",
        "configurationItemMD5Hash": "",
        "arn": "arn:aws:s3:::gone",
        "resourceType": "AWS::S3::Bucket",
        "resourceId": "gone",
        "resourceName": "gone",
        "awsRegion": "us-east-1",
        "availabilityZone": "Regional",
        "tags": {},
        "relatedEvents": [],
        "relationships": [],
        "configuration": None,
        "supplementaryConfiguration": {},
    }
    return {**item, **overrides}


def test_resource_deleted_item() -> None:
    item = normalise_item(deleted_item(), "f", "item 1")
    assert item.deleted and item.status == ItemStatus.DELETED
    assert item.configuration is None
    assert item.captured_at == datetime.fromtimestamp(1764000000.5, UTC)
    notification = {
        "messageType": "ConfigurationItemChangeNotification",
        "configurationItem": deleted_item(),
        "configurationItemDiff": {"changeType": "DELETE", "changedProperties": {}},
    }
    [item], _ = read_file(json.dumps(notification).encode(), "n.json")
    assert item.deleted and item.diff == {"changeType": "DELETE", "changedProperties": {}}


def test_mixed_file_reports_the_malformed_item_and_keeps_the_rest() -> None:
    bad = deleted_item()
    del bad["resourceType"]
    doc = {
        "fileVersion": "1.0",
        "configurationItems": [
            deleted_item(resourceId="a"),
            bad,
            deleted_item(resourceId="c", tags=[{"key": "env", "value": "prod"}]),
            "junk",
            deleted_item(resourceId="e", configuration="{not json"),
        ],
    }
    items, problems = read_file(json.dumps(doc).encode(), "FILE")
    assert [i.resource_id for i in items] == ["a", "c"]
    assert items[1].tags == {"env": "prod"}
    assert problems == [
        "FILE item 2: missing resourceType",
        "FILE item 4: not an object",
        "FILE item 5: configuration is not JSON",
    ]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "not JSON at line 1"),
        (b"{", "not JSON"),
        (b"42", "not a configuration item"),
        (b"\x1f\x8bjunk", "corrupt gzip"),
        (b'{"Message": "{oops"}', "Message is not JSON"),
    ],
)
def test_unreadable_files_are_one_problem(data: bytes, problem: str) -> None:
    items, problems = read_file(data, "x")
    assert items == [] and len(problems) == 1 and problem in problems[0]


@pytest.mark.parametrize(
    "capture",
    [
        "2026-11-24 10:25:26.368956+00:00",
        "2026-11-24T10:25:26Z",
        1795515926368,
        datetime(2026, 11, 24, tzinfo=UTC),
    ],
)
def test_capture_time_forms(capture: object) -> None:
    item = normalise_item(deleted_item(configurationItemCaptureTime=capture), "f", "item 1")
    assert item.captured_at.tzinfo is not None and item.captured_at.year == 2026


def test_normalise_item_refuses_with_source_and_position() -> None:
    with pytest.raises(BadInput, match=r"^f item 7: missing accountId$"):
        normalise_item(deleted_item(accountId=None), "f", "item 7")


# --- moto's server over real HTTP -----------------------------------------------------------


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


def _client(service: str, url: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )


def test_from_s3_reads_a_delivered_gzip_snapshot(moto_url: str) -> None:
    s3 = _client("s3", moto_url)
    s3.create_bucket(Bucket="config-delivery")
    prefix = "AWSLogs/123456789012/Config/us-west-2/2014/3/7/ConfigSnapshot/"
    raw = (DOCS / "deliver-snapshot-cli__01__example-s3-snapshot.json").read_bytes()
    key = f"{prefix}123456789012_Config_us-west-2_ConfigSnapshot_20140307T234708Z_x.json.gz"
    s3.put_object(Bucket="config-delivery", Key=key, Body=gzip.compress(raw))
    s3.put_object(Bucket="config-delivery", Key=f"{prefix}broken.json", Body=b"{")
    s3.put_object(Bucket="config-delivery", Key=f"{prefix}notes.txt", Body=b"ignored")
    items, problems = AwsConfigReader(_client("config", moto_url), s3).from_s3(
        "config-delivery", "AWSLogs/123456789012/Config/"
    )
    assert [i.resource_id for i in items] == ["vol-ce676ccc", "i-344c463d"]
    assert problems == [
        f"s3://config-delivery/{prefix}broken.json: not JSON at line 1, column 2: "
        "Expecting property name enclosed in double quotes"
    ]


def test_recorded_resources_from_moto(moto_url: str) -> None:
    config, s3, ec2 = (_client(s, moto_url) for s in ("config", "s3", "ec2"))
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{ACCOUNT}:role/config",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
        }
    )
    s3.create_bucket(Bucket="app-bucket")
    s3.put_bucket_tagging(
        Bucket="app-bucket", Tagging={"TagSet": [{"Key": "env", "Value": "prod"}]}
    )
    group = ec2.create_security_group(GroupName="web", Description="web")["GroupId"]
    reader = AwsConfigReader(config, s3, sleep=lambda _: None)

    items, problems = reader.discover("AWS::S3::Bucket")
    [bucket] = [i for i in items if i.resource_id == "app-bucket"]
    assert problems == []
    assert (bucket.arn, bucket.region, bucket.account_id) == (
        "arn:aws:s3:::app-bucket",
        "us-east-1",
        ACCOUNT,
    )
    assert bucket.captured_at.tzinfo is not None  # boto3 hands over an aware datetime
    assert bucket.configuration is not None and bucket.configuration["name"] == "app-bucket"
    assert bucket.supplementary["BucketTaggingConfiguration"] == {
        "tagSets": [{"tags": {"env": "prod"}}]
    }

    # moto never discovers security groups, and drops unknown keys instead of reporting them.
    assert reader.discover("AWS::EC2::SecurityGroup") == ([], [])
    items, problems = reader.batch_get(
        [("AWS::EC2::SecurityGroup", group), ("AWS::S3::Bucket", "app-bucket")]
    )
    assert [i.resource_id for i in items] == ["app-bucket"] and problems == []

    [current], problems = reader.history("AWS::S3::Bucket", "app-bucket")  # moto: current only
    assert problems == [] and current.tags == {"env": "prod"}

    assert reader.select("SELECT resourceId WHERE resourceType = 'AWS::S3::Bucket'") == []
