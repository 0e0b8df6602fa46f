"""AWS Config items translated into CloudFormation's vocabulary, on real item shapes.

Inputs are the repository's AWS Config samples (RDK items of ~75 types, the Config developer
guide's documents) and the real-world cases, read through `awsconfig.read_file` /
`normalise_item` as production reads them. Where no sample of a type exists, the test builds an
item in the shape AWS documents and says where that shape comes from. Expected properties are
written out by hand.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import subprocess
import sys
from collections.abc import Mapping
from importlib.resources import files as package_files
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml

from changegate.domain.comparison import TypeRules, compare
from changegate.domain.configuration import ObservedItem
from changegate.integrations import vocabulary
from changegate.integrations.awsconfig import normalise_item, read_file
from changegate.integrations.cloudformation import parse_template
from changegate.integrations.vocabulary import Translation, translate, typemaps
from changegate.integrations.vocabulary.rules import MappingError
from tests.fixtures import files, fixture

Raw = dict[str, object]

RDK = fixture("aws-config", "aws-config-rdk-example_ci")
DOCS = fixture("aws-config", "aws-docs-config-developer-guide")
SAMPLES = files("aws-config", "**/*.json", minimum=90)
MAPPINGS = Path(str(package_files("changegate.integrations.vocabulary").joinpath("mappings")))
MAPPING_FILES = sorted(MAPPINGS.glob("*.yaml"))
REQUIRED = (
    "AWS::S3::Bucket",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::Instance",
    "AWS::EC2::VPC",
    "AWS::EC2::Subnet",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::User",
    "AWS::Lambda::Function",
    "AWS::RDS::DBInstance",
    "AWS::KMS::Key",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::DynamoDB::Table",
    "AWS::CloudTrail::Trail",
    "AWS::ECS::Service",
    "AWS::EFS::FileSystem",
)
STACK_TAGS = {
    "aws:cloudformation:stack-name": "web",
    "aws:cloudformation:logical-id": "Resource",
    "aws:cloudformation:stack-id": "arn:aws:cloudformation:us-east-1:123456789012:stack/web/1",
    "AWS:CloudFormation:Stack-Name": "web",  # AWS reserves the prefix in any letter case
}


def _items(path: Path) -> list[ObservedItem]:
    items, _ = read_file(path.read_bytes(), path.name)
    return items


def _one(path: Path) -> ObservedItem:
    [item] = _items(path)
    return item


def _item(raw: Mapping[str, object]) -> ObservedItem:
    return normalise_item(raw, "test", "item 1")


def _translate(item: ObservedItem, **tags: str) -> Translation:
    found = translate(
        item.resource_type, item.configuration, item.supplementary, {**item.tags, **tags}
    )
    assert found is not None, f"{item.resource_type} was not translated"
    return found


def _cfn_lint_properties(resource_type: str) -> set[str]:
    """Straight from cfn-lint, independent of the code under test."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER  # type: ignore[import-untyped]

    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema
    return set(schema["properties"])


def _config_item(resource_type: str, resource_id: str, configuration: object, **extra: Any) -> Raw:
    """The envelope every Config item shares (API field style, schema 1.3)."""
    return {
        "version": "1.3",
        "accountId": "123456789012",
        "configurationItemCaptureTime": "2026-11-20T12:00:00.000Z",
        "configurationItemStatus": "OK",
        "configurationStateId": "1763640000000",
        "resourceType": resource_type,
        "resourceId": resource_id,
        "awsRegion": "us-east-1",
        "availabilityZone": "Regional",
        "tags": {},
        "relatedEvents": [],
        "relationships": [],
        "configuration": json.dumps(configuration),  # the API returns it as a JSON string
        "supplementaryConfiguration": {},
        **extra,
    }


# --- The mapping files ------------------------------------------------------------------------


def test_every_required_type_has_its_own_mapping_file() -> None:
    names = {path.name for path in MAPPING_FILES}
    wanted = {typemaps.file_name(kind) for kind in REQUIRED}
    assert len(wanted) == 18
    assert wanted <= names, sorted(wanted - names)
    assert len(MAPPING_FILES) >= 18


@pytest.mark.parametrize("path", MAPPING_FILES, ids=lambda p: p.name)
def test_every_mapping_file_names_only_properties_of_its_schema(path: Path) -> None:
    raw = yaml.safe_load(path.read_text())
    kind = raw["type"]
    assert path.name == typemaps.file_name(kind)
    known = _cfn_lint_properties(kind)
    named = (
        set(raw.get("properties") or {})
        | set(raw.get("covered") or [])
        | set(raw.get("defaults") or {})
        | set(raw.get("uncovered") or {})
        | {p.split("/")[0] for p in raw.get("unordered") or []}
    )
    assert named - known == set()
    assert raw.get("properties") or raw.get("covered") or raw.get("recorded_as", kind) is None


def test_nested_field_names_exist_in_the_schemas_too() -> None:
    assert len(typemaps.every()) == len(MAPPING_FILES) >= 18
    assert vocabulary.problems() == []


def test_the_schema_check_catches_a_misspelt_nested_field() -> None:
    bad = typemaps.load(
        "S3_Bucket.yaml",
        "type: AWS::S3::Bucket\nproperties:\n  VersioningConfiguration:\n"
        "    from: supplementaryConfiguration.BucketVersioningConfiguration\n"
        "    fields: {Stauts: status}\n  Versioning: configuration.x\n",
    )
    assert typemaps.problems([bad]) == [
        "S3_Bucket.yaml properties: AWS::S3::Bucket has no property Versioning",
        "S3_Bucket.yaml: VersioningConfiguration has no field Stauts in AWS::S3::Bucket",
    ]


def test_two_files_reading_one_config_type_are_reported() -> None:
    content = "type: AWS::S3::Bucket\nproperties: {BucketName: configuration.name}\n"
    first = typemaps.load("S3_Bucket.yaml", content)
    second = typemaps.load("S3_Bucket.yaml", content)
    assert typemaps.problems([first, first]) == []
    assert typemaps.problems([first, dataclasses.replace(second, file="Bucket2.yaml")]) == [
        "Bucket2.yaml: a mapping for AWS::S3::Bucket is named S3_Bucket.yaml",
        "Bucket2.yaml: S3_Bucket.yaml reads AWS::S3::Bucket items too",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("properties: {}\n", "names its CloudFormation `type`"),
        ("type: AWS::S3::Bucket\nproperty: {}\n", "unknown keys ['property']"),
        (
            "type: AWS::S3::Bucket\nproperties:\n  X: {from: a, values: {Off: null}}\n",
            "`values` maps quoted Config values",
        ),
        ("type: AWS::S3::Bucket\nproperties:\n  X: {from: a, decode: xml}\n", "decode is one of"),
        ("type: AWS::S3::Bucket\nproperties:\n  X: {form: a}\n", "unknown rule keys ['form']"),
    ],
)
def test_a_malformed_mapping_file_is_refused_loudly(content: str, message: str) -> None:
    with pytest.raises(MappingError, match=message.replace("[", r"\[").replace("`", ".")):
        typemaps.load("X.yaml", content)


def test_mapping_files_are_loaded_lazily_and_cfn_lint_is_not_imported() -> None:
    code = (
        "import sys\n"
        "from changegate.integrations import vocabulary\n"
        "from changegate.integrations.vocabulary import typemaps, schemas\n"
        "assert 'cfnlint' not in sys.modules, 'cfn-lint imported at import time'\n"
        "assert typemaps.every.cache_info().currsize == 0, 'mappings loaded at import time'\n"
        "assert schemas.schema.cache_info().currsize == 0\n"
    )
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_package_imports_nothing_of_ours_but_the_domain_and_itself() -> None:
    package = MAPPINGS.parent
    modules = sorted(package.glob("*.py"))
    assert len(modules) >= 4
    for module in modules:
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                if name.startswith("changegate"):
                    assert name.startswith(
                        ("changegate.domain", "changegate.integrations.vocabulary")
                    ), f"{module.name} imports {name}"


# --- Every sample through translate ---------------------------------------------------------

ALL_ITEMS = [(path.name, item) for path in SAMPLES for item in _items(path)]


def test_the_samples_hold_enough_items() -> None:
    assert len(ALL_ITEMS) == 87  # every item in the samples, pinned by SOURCES.md
    translated = [
        i
        for _, i in ALL_ITEMS
        if vocabulary.translate(i.resource_type, i.configuration, i.supplementary, i.tags)
    ]
    assert len(translated) >= 29


@pytest.mark.parametrize(("name", "item"), ALL_ITEMS, ids=[f"{n[:50]}" for n, _ in ALL_ITEMS])
def test_every_sample_translates_consistently_or_is_declined(name: str, item: ObservedItem) -> None:
    found = translate(
        item.resource_type, item.configuration, item.supplementary, {**item.tags, **STACK_TAGS}
    )
    if item.resource_type in vocabulary.mapped_types():
        assert found is not None
    if found is None:
        return
    kind = vocabulary.cloudformation_type(item.resource_type)
    assert kind is not None
    assert set(found.properties) <= found.covered <= _cfn_lint_properties(kind)
    assert "aws:cloudformation" not in json.dumps(found.properties).lower()
    assert all(path.split("/")[0] in _cfn_lint_properties(kind) for path in found.unordered)


# --- By value, one required type at a time --------------------------------------------------


def test_s3_bucket_rdk_sample() -> None:
    found = _translate(_one(RDK / "AWS_S3_Bucket.json"))
    assert found.properties == {
        "BucketName": "mborch-test-bucket-config-item",
        "VersioningConfiguration": {"Status": "Enabled"},
        "Tags": [],
    }
    assert not found.passthrough
    assert {"BucketName", "VersioningConfiguration", "Tags", "BucketEncryption"} <= found.covered
    assert "LifecycleConfiguration" not in found.covered  # no faithful equivalent: unverifiable


def test_case_05_versioned_bucket_is_exactly_as_declared() -> None:
    found = _translate(_one(fixture("real-world", "case-05-config.json")))
    assert found.properties == {
        "BucketName": "example-versioned-bucket",
        "VersioningConfiguration": {"Status": "Enabled"},
        "Tags": [],
    }
    [declared] = parse_template(fixture("real-world", "case-05-template.yaml").read_bytes(), "t")
    assert set(declared.properties) <= found.covered
    assert compare(declared.properties, found.properties, _rules(found)).differences == []


def _bucket_with(supplementary: Raw, tags: dict[str, str] | None = None) -> Raw:
    """case-05's item with other supplementary configuration: the keys and field names are
    those of awslabs/aws-config-resource-schema, AWS::S3::Bucket.properties.json."""
    raw = json.loads(fixture("real-world", "case-05-config.json").read_text())
    raw["supplementaryConfiguration"] = supplementary
    raw["tags"] = tags or {}
    return dict(raw)


def test_s3_versioning_off_is_a_bucket_without_versioning() -> None:
    raw = _bucket_with({"BucketVersioningConfiguration": {"status": "Off"}})
    assert _translate(_item(raw)).properties == {
        "BucketName": "example-versioned-bucket",
        "Tags": [],
    }
    suspended = _bucket_with({"BucketVersioningConfiguration": {"status": "Suspended"}})
    assert _translate(_item(suspended)).properties["VersioningConfiguration"] == {
        "Status": "Suspended"
    }


def test_s3_supplementary_configurations_by_value() -> None:
    raw = _bucket_with(
        {
            "PublicAccessBlockConfiguration": json.dumps(
                {
                    "blockPublicAcls": True,
                    "ignorePublicAcls": True,
                    "blockPublicPolicy": True,
                    "restrictPublicBuckets": True,
                }
            ),
            "ServerSideEncryptionConfiguration": json.dumps(
                {
                    "rules": [
                        {
                            "applyServerSideEncryptionByDefault": {
                                "sseAlgorithm": "aws:kms",
                                "kmsMasterKeyID": "arn:aws:kms:us-east-1:123456789012:key/k-1",
                            },
                            "bucketKeyEnabled": True,
                        }
                    ]
                }
            ),
            "BucketLoggingConfiguration": {
                "destinationBucketName": "example-logs",
                "logFilePrefix": "s3/",
            },
            "BucketAccelerateConfiguration": {"status": None},
            "IsRequesterPaysEnabled": False,
        },
        tags={"aws:cloudformation:stack-name": "web", "owner": "platform"},
    )
    assert _translate(_item(raw)).properties == {
        "BucketName": "example-versioned-bucket",
        "LoggingConfiguration": {"DestinationBucketName": "example-logs", "LogFilePrefix": "s3/"},
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        },
        "BucketEncryption": {
            "ServerSideEncryptionConfiguration": [
                {
                    "BucketKeyEnabled": True,
                    "ServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": "arn:aws:kms:us-east-1:123456789012:key/k-1",
                    },
                }
            ]
        },
        "Tags": [{"Key": "owner", "Value": "platform"}],
    }


def _sorted_sets(properties: Mapping[str, object], unordered: frozenset[str]) -> dict[str, object]:
    """What a set-aware comparer does with top-level unordered lists: order stops mattering."""
    return {
        name: sorted(value, key=lambda v: json.dumps(v, sort_keys=True, default=str).lower())
        if name in unordered and isinstance(value, list)
        else value
        for name, value in properties.items()
    }


def test_case_10_tags_in_another_order_and_yaml_yes_no() -> None:
    found = _translate(_one(fixture("real-world", "case-10-config.json")))
    assert found.properties == {
        "BucketName": "example-tagged-bucket",
        "Tags": [{"Key": "BAR", "Value": "false"}, {"Key": "FOO", "Value": "true"}],
    }
    assert "Tags" in found.unordered
    [declared] = parse_template(fixture("real-world", "case-10-template.yaml").read_bytes(), "t")
    assert compare(declared.properties, found.properties, _rules(found)).differences == []


def test_security_group_rdk_sample_api_style_1_2() -> None:
    found = _translate(_one(RDK / "AWS_EC2_SecurityGroup.json"))
    assert found.properties == {
        "GroupDescription": "launch-wizard-7 created 2016-05-26T14:26:12.992-07:00",
        "GroupName": "launch-wizard-7",
        "VpcId": "vpc-0990dc6d",
        "GroupId": "sg-1d56fc66",
        "Id": "sg-1d56fc66",
        "SecurityGroupIngress": [
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}
        ],
        "SecurityGroupEgress": [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}],
        "Tags": [],
    }
    assert {"SecurityGroupIngress", "SecurityGroupEgress", "Tags"} <= found.unordered
    assert found.defaults == {"SecurityGroupEgress": [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}]}


def test_security_group_docs_sample_with_null_ports() -> None:
    name = "example-sns-notification__03__example-configuration-items-for-relationships.json"
    found = _translate(_one(DOCS / name))
    assert found.properties == {
        "GroupDescription": "This is an example security group.",
        "GroupName": "example-security-group-2",
        "VpcId": "vpc-14400670",
        "GroupId": "sg-3f1fef43",
        "Id": "sg-3f1fef43",
        "SecurityGroupIngress": [],
        "SecurityGroupEgress": [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}],
        "Tags": [],
    }


def test_security_group_schema_1_3_permission_explodes_into_one_rule_per_source() -> None:
    # Field names as awslabs/aws-config-resource-schema lists them for AWS::EC2::SecurityGroup;
    # schema 1.3 items repeat each `ipv4Ranges` CIDR as a bare string in `ipRanges`.
    configuration = {
        "ownerId": "123456789012",
        "groupName": "web",
        "groupId": "sg-0a1b2c3d4e5f60718",
        "description": "web tier",
        "vpcId": "vpc-0123456789abcdef0",
        "ipPermissions": [
            {
                "ipProtocol": "tcp",
                "fromPort": 443,
                "toPort": 443,
                "ipv4Ranges": [
                    {"cidrIp": "10.0.0.0/8", "description": "office"},
                    {"cidrIp": "192.168.0.0/16"},
                ],
                "ipRanges": ["10.0.0.0/8", "192.168.0.0/16"],
                "ipv6Ranges": [{"cidrIpv6": "2001:db8::/32"}],
                "prefixListIds": [{"prefixListId": "pl-12345678"}],
                "userIdGroupPairs": [{"groupId": "sg-0fedcba9876543210", "userId": "123456789012"}],
            },
            {
                "ipProtocol": "-1",
                "ipv4Ranges": [],
                "ipRanges": [],
                "ipv6Ranges": [],
                "prefixListIds": [],
                "userIdGroupPairs": [{"groupId": "sg-0a1b2c3d4e5f60718", "userId": "123456789012"}],
            },
        ],
        "ipPermissionsEgress": [
            {
                "ipProtocol": "tcp",
                "fromPort": 5432,
                "toPort": 5432,
                "ipv4Ranges": [],
                "ipRanges": [],
                "ipv6Ranges": [],
                "prefixListIds": [],
                "userIdGroupPairs": [
                    {
                        "groupId": "sg-0fedcba9876543210",
                        "userId": "123456789012",
                        "description": "db",
                    }
                ],
            }
        ],
        "tags": [{"key": "Name", "value": "web"}],
    }
    raw = _config_item(
        "AWS::EC2::SecurityGroup",
        "sg-0a1b2c3d4e5f60718",
        configuration,
        tags={"Name": "web", "aws:cloudformation:logical-id": "WebSg"},
    )
    found = _translate(_item(raw))
    https = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
    assert found.properties["SecurityGroupIngress"] == [
        {**https, "CidrIp": "10.0.0.0/8", "Description": "office"},
        {**https, "CidrIp": "192.168.0.0/16"},
        {**https, "CidrIpv6": "2001:db8::/32"},
        {
            **https,
            "SourceSecurityGroupId": "sg-0fedcba9876543210",
            "SourceSecurityGroupOwnerId": "123456789012",
        },
        {**https, "SourcePrefixListId": "pl-12345678"},
        {
            "IpProtocol": "-1",
            "SourceSecurityGroupId": "sg-0a1b2c3d4e5f60718",
            "SourceSecurityGroupOwnerId": "123456789012",
        },
    ]
    assert found.properties["SecurityGroupEgress"] == [
        {
            "IpProtocol": "tcp",
            "FromPort": 5432,
            "ToPort": 5432,
            "DestinationSecurityGroupId": "sg-0fedcba9876543210",
            "Description": "db",
        }
    ]
    assert found.properties["Tags"] == [{"Key": "Name", "Value": "web"}]


def test_ec2_instance_rdk_sample() -> None:
    found = _translate(_one(RDK / "AWS_EC2_Instance.json"))
    assert found.properties == {
        "InstanceId": "i-03402838daac1d611",
        "ImageId": "ami-22ce4934",
        "InstanceType": "t2.micro",
        "KeyName": "ssm-key",
        "SubnetId": "subnet-1aaccc7f",
        "VpcId": "vpc-79b3ea1e",
        "PrivateIpAddress": "172.31.74.239",
        "PrivateIp": "172.31.74.239",
        "PrivateDnsName": "ip-172-31-74-239.ec2.internal",
        "PublicIp": "34.205.29.138",
        "PublicDnsName": "ec2-34-205-29-138.compute-1.amazonaws.com",
        "EbsOptimized": True,
        "SourceDestCheck": True,
        "AvailabilityZone": "us-east-1b",
        "Tenancy": "default",
        "Monitoring": False,
        "SecurityGroupIds": ["sg-fd215482"],
        "SecurityGroups": ["launch-wizard-2"],
        "MetadataOptions": {
            "HttpEndpoint": "enabled",
            "HttpProtocolIpv6": "disabled",
            "HttpPutResponseHopLimit": 1,
            "HttpTokens": "optional",
            "InstanceMetadataTags": "disabled",
        },
        "Tags": [],
    }
    assert {"IamInstanceProfile", "BlockDeviceMappings", "UserData"}.isdisjoint(found.covered)


def test_ec2_instance_docs_snapshot_with_list_tags() -> None:
    items = _items(DOCS / "deliver-snapshot-cli__01__example-s3-snapshot.json")
    [instance] = [i for i in items if i.resource_type == "AWS::EC2::Instance"]
    found = _translate(instance)
    assert found.properties["KernelId"] == "aki-fc8f11cc"
    assert found.properties["Tags"] == [
        {"Key": "Name", "Value": "integ-test-1"},
        {"Key": "examplename", "Value": "examplevalue"},
    ]
    assert "PlacementGroupName" not in found.properties  # Config's "" is no placement group


def test_case_07_instance_type_is_compared_and_equal() -> None:
    found = _translate(_one(fixture("real-world", "case-07-config.json")))
    assert found.properties == {
        "InstanceId": "i-0000aaaa",
        "ImageId": "ami-0123456789abcdef0",
        "InstanceType": "t3.micro",
        "Tags": [],
    }
    [declared] = parse_template(fixture("real-world", "case-07-template.yaml").read_bytes(), "t")
    assert set(declared.properties) <= found.covered
    # ImageId is an SSM dynamic reference: unverifiable, never drift; InstanceType compared.
    compared = compare(declared.properties, found.properties, _rules(found))
    assert compared.differences == []
    assert [u.path for u in compared.unverifiable] == ["/ImageId"]


def test_vpc_rdk_sample() -> None:
    found = _translate(_one(RDK / "AWS_EC2_VPC.json"))
    assert found.properties == {
        "VpcId": "vpc-0990dc6d",
        "CidrBlock": "172.31.0.0/16",
        "InstanceTenancy": "default",
        "Tags": [],
    }
    assert "EnableDnsSupport" not in found.covered  # a VPC attribute Config does not record


def test_subnet_rdk_sample() -> None:
    found = _translate(_one(RDK / "AWS_EC2_Subnet.json"))
    assert found.properties == {
        "SubnetId": "subnet-29428871",
        "VpcId": "vpc-0990dc6d",
        "CidrBlock": "172.31.16.0/20",
        "AvailabilityZone": "us-east-1a",
        "MapPublicIpOnLaunch": True,
        "Tags": [],
    }


def test_iam_role_rdk_sample() -> None:
    found = _translate(_one(RDK / "AWS_IAM_Role.json"))
    assert found.properties == {
        "Arn": "arn:aws:iam::264683526309:role/service-role/config-role-ezcrc2",
        "RoleId": "AROAIY7FPU7KRV7IZBNPC",
        "RoleName": "config-role-ezcrc2",
        "Path": "/service-role/",
        "AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "",
                    "Effect": "Allow",
                    "Principal": {"Service": "config.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
        "Policies": [],
        "ManagedPolicyArns": [
            "arn:aws:iam::264683526309:policy/ELB-policy",
            "arn:aws:iam::264683526309:policy/service-role/"
            "config-role-ezcrc2-AWSConfigDeliveryPermissions-us-west-2",
            "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole",
        ],
        "Tags": [],
    }
    assert {"ManagedPolicyArns", "Policies", "Tags"} <= found.unordered  # from the schema
    assert {"Description", "MaxSessionDuration"}.isdisjoint(found.covered)


TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
INLINE = {
    "Statement": [
        {
            "Action": ["config:selectaggregateresourceconfig"],
            "Effect": "Allow",
            "Resource": ["*"],
        }
    ],
    "Version": "2012-10-17",
}


def _url_encoded(document: object) -> str:
    return quote(json.dumps(document, separators=(",", ":")), safe="")


def test_iam_role_with_url_encoded_documents_and_inline_policies() -> None:
    # The shape of a recorded role (2023): documents URL-encoded JSON, as IAM's
    # GetAccountAuthorizationDetails returns them; `permissionsBoundary` and `tags` inside.
    configuration = {
        "path": "/",
        "roleName": "SomeRole",
        "roleId": "AROAALSKDJFLAKSDJFKLJSDF",
        "arn": "arn:aws:iam::000000000001:role/SomeRole",
        "createDate": "2023-11-12T18:41:33.000Z",
        "assumeRolePolicyDocument": _url_encoded(TRUST),
        "instanceProfileList": [],
        "rolePolicyList": [{"policyName": "Config", "policyDocument": _url_encoded(INLINE)}],
        "attachedManagedPolicies": [
            {"policyName": "SomePolicy", "policyArn": "arn:aws:iam::000000000001:policy/SomePolicy"}
        ],
        "permissionsBoundary": {
            "permissionsBoundaryType": "Policy",
            "permissionsBoundaryArn": "arn:aws:iam::000000000001:policy/Boundary",
        },
        "tags": [],
        "roleLastUsed": None,
    }
    raw = _config_item("AWS::IAM::Role", "AROAALSKDJFLAKSDJFKLJSDF", configuration)
    raw["awsRegion"] = "global"
    found = _translate(_item(raw), **STACK_TAGS)
    assert found.properties == {
        "Arn": "arn:aws:iam::000000000001:role/SomeRole",
        "RoleId": "AROAALSKDJFLAKSDJFKLJSDF",
        "RoleName": "SomeRole",
        "Path": "/",
        "AssumeRolePolicyDocument": TRUST,
        "Policies": [{"PolicyName": "Config", "PolicyDocument": INLINE}],
        "ManagedPolicyArns": ["arn:aws:iam::000000000001:policy/SomePolicy"],
        "PermissionsBoundary": "arn:aws:iam::000000000001:policy/Boundary",
        "Tags": [],
    }


def test_config_iam_policy_is_cloudformations_managed_policy() -> None:
    item = _one(RDK / "AWS_IAM_Policy.json")
    assert vocabulary.cloudformation_type("AWS::IAM::Policy") == "AWS::IAM::ManagedPolicy"
    found = _translate(item)
    assert found.properties == {
        "PolicyArn": "arn:aws:iam::264683526309:policy/ELB-policy",
        "PolicyId": "ANPAIJWML3NX3NT6UAGO4",
        "ManagedPolicyName": "ELB-policy",
        "Path": "/",
        "DefaultVersionId": "v1",
        "PolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Stmt1461949544000",
                    "Effect": "Allow",
                    "Action": ["elasticloadbalancing:Describe*"],
                    "Resource": ["*"],
                }
            ],
        },
    }
    assert "Tags" not in found.covered  # AWS::IAM::ManagedPolicy takes no tags


def test_managed_policy_document_is_the_default_versions() -> None:
    # Shape: awslabs/aws-config-resource-schema AWS::IAM::Policy (policyVersionList with
    # versionId, isDefaultVersion, createDate) with IAM's URL-encoded `document`.
    old = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }
    current = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    configuration = {
        "policyName": "read-objects",
        "policyId": "ANPA0000000000000000",
        "arn": "arn:aws:iam::123456789012:policy/app/read-objects",
        "path": "/app/",
        "defaultVersionId": "v2",
        "attachmentCount": 1,
        "permissionsBoundaryUsageCount": 0,
        "isAttachable": True,
        "description": "Read the app's objects",
        "createDate": "2026-01-05T10:00:00.000Z",
        "updateDate": "2026-02-01T10:00:00.000Z",
        "policyVersionList": [
            {
                "document": _url_encoded(old),
                "versionId": "v1",
                "isDefaultVersion": False,
                "createDate": "2026-01-05T10:00:00.000Z",
            },
            {
                "document": _url_encoded(current),
                "versionId": "v2",
                "isDefaultVersion": True,
                "createDate": "2026-02-01T10:00:00.000Z",
            },
        ],
    }
    raw = _config_item("AWS::IAM::Policy", "ANPA0000000000000000", configuration)
    item = _item(raw)
    expected = {
        "PolicyArn": "arn:aws:iam::123456789012:policy/app/read-objects",
        "PolicyId": "ANPA0000000000000000",
        "ManagedPolicyName": "read-objects",
        "Path": "/app/",
        "Description": "Read the app's objects",
        "DefaultVersionId": "v2",
        "PolicyDocument": current,
    }
    assert _translate(item).properties == expected
    by_cfn_name = translate(
        "AWS::IAM::ManagedPolicy", item.configuration, item.supplementary, item.tags
    )
    assert by_cfn_name is not None and by_cfn_name.properties == expected


def test_cloudformations_inline_policy_has_no_config_item_of_its_own() -> None:
    assert "AWS::IAM::ManagedPolicy" not in vocabulary.mapped_types()
    raw = yaml.safe_load((MAPPINGS / "IAM_Policy.yaml").read_text())
    assert raw["type"] == "AWS::IAM::Policy" and raw["recorded_as"] is None
    assert raw["properties"] == {}
    assert set(raw["uncovered"]) == {"PolicyDocument", "PolicyName", "Roles", "Users", "Groups"}


def test_iam_user_rdk_sample() -> None:
    found = _translate(_one(RDK / "AWS_IAM_User.json"))
    assert found.properties == {
        "Arn": "arn:aws:iam::112233445566:user/johndoe",
        "UserName": "johndoe",
        "Path": "/",
        "Groups": ["MyTestGroup"],
        "Policies": [
            {
                "PolicyName": "policygen-johndoe-201611060951",
                "PolicyDocument": {  # RDK carries it decoded, inside a one-item list
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "Stmt1478454695000",
                            "Effect": "Allow",
                            "Action": ["codedeploy:*"],
                            "Resource": ["*"],
                        }
                    ],
                },
            }
        ],
        "ManagedPolicyArns": [
            "arn:aws:iam::264683526309:policy/ELB-policy",
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "arn:aws:iam::264683526309:policy/service-role/"
            "config-role-ap-northeast-1_AWSConfigDeliveryPermissions_ap-northeast-1",
        ],
        "Tags": [],
    }


def test_lambda_function_rdk_sample() -> None:
    found = _translate(_one(RDK / "AWS_LAMBDA_FUNCTION.json"))
    assert found.properties == {
        "Arn": "arn:aws:lambda:us-east-1:823362693882:function:test-function",
        "FunctionName": "test-function",
        "Description": "",
        "Runtime": "nodejs6.10",
        "Handler": "index.handler",
        "Role": "arn:aws:iam::823362693882:role/lambda_basic_execution",
        "Timeout": 3,
        "MemorySize": 128,
        "TracingConfig": {"Mode": "PassThrough"},
        "VpcConfig": {
            "SubnetIds": ["subnet-8dee48a7", "subnet-23deb22f"],
            "SecurityGroupIds": ["sg-e463c89c"],
        },
        "Tags": [{"Key": "test", "Value": "value"}],
    }
    assert {"VpcConfig/SubnetIds", "VpcConfig/SecurityGroupIds"} <= found.unordered
    assert {"Code", "Environment"}.isdisjoint(found.covered)


def test_rds_instance_rdk_sample() -> None:
    found = _translate(_one(RDK / "AWS_RDS_DBInstance.json"))
    assert found.properties == {
        "DbiResourceId": "db-HHTTSRD6HXUIKXPFPI6WFVZ4PA",
        "DBInstanceIdentifier": "myrdstest",
        "DBInstanceClass": "db.m3.xlarge",
        "Engine": "mysql",
        "EngineVersion": "5.6.27",
        "LicenseModel": "general-public-license",
        "MasterUsername": "foo",
        "AllocatedStorage": "100",  # a string in CloudFormation's schema
        "StorageType": "io1",
        "Iops": 1000,
        "StorageEncrypted": True,
        "MultiAZ": True,
        "AvailabilityZone": "us-east-1a",
        "PubliclyAccessible": True,
        "BackupRetentionPeriod": 7,
        "PreferredBackupWindow": "08:50-09:20",
        "PreferredMaintenanceWindow": "thu:06:13-thu:06:43",
        "AutoMinorVersionUpgrade": True,
        "CopyTagsToSnapshot": False,
        "CACertificateIdentifier": "rds-ca-2015",
        "MonitoringInterval": 60,
        "MonitoringRoleArn": "arn:aws:iam::264683526309:role/rds-monitoring-role",
        "DBParameterGroupName": "default.mysql5.6",
        "OptionGroupName": "default:mysql-5-6",
        "DBSubnetGroupName": "default",
        "VPCSecurityGroups": ["sg-e627199e"],
        "Tags": [{"Key": "workload-type", "Value": "production"}],
    }
    assert "KmsKeyId" not in found.covered  # Config's ARN vs a template's alias: unverifiable


def test_kms_key_rdk_sample() -> None:
    found = _translate(_one(RDK / "AWS_KMS_Key.json"))
    policy = found.properties.pop("KeyPolicy")
    assert found.properties == {
        "Arn": "arn:aws:kms:us-east-1:123456789012:key/123456789012",
        "KeyId": "test",
        "Description": "Default master key that protects my Lambda functions when no other key "
        "is defined",
        "Enabled": True,
        "KeyUsage": "ENCRYPT_DECRYPT",
        "KeySpec": "SYMMETRIC_DEFAULT",
        "Origin": "AWS_KMS",
        "MultiRegion": False,
    }
    assert isinstance(policy, dict) and policy["Id"] == "auto-awslambda"
    assert [s["Sid"] for s in policy["Statement"]] == [
        "Allow access through AWS Lambda for all principals in the account that are authorized "
        "to use AWS Lambda",
        "Allow direct access to key metadata to the account",
    ]
    assert "Tags" not in found.covered
    assert found.defaults["KeySpec"] == "SYMMETRIC_DEFAULT"  # the schema's own default


def test_kms_key_rotation_and_policy_text() -> None:
    # supplementaryConfiguration.KeyRotationStatus (boolean) as the AWS Config resource schema
    # lists it; the key policy as the JSON text GetKeyPolicy returns.
    raw = json.loads((RDK / "AWS_KMS_Key.json").read_text())
    document = {
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    raw["supplementaryConfiguration"] = {
        "KeyRotationStatus": "true",
        "Policy": json.dumps(document),
    }
    found = _translate(_item(raw))
    assert found.properties["EnableKeyRotation"] is True
    assert found.properties["KeyPolicy"] == document


# Attribute names and types as awslabs/aws-config-resource-schema lists them for
# AWS::SQS::Queue: numbers as integers, FifoQueue and the SSE flag as text.
SQS_QUEUE = {
    "QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/orders.fifo",
    "QueueArn": "arn:aws:sqs:us-east-1:123456789012:orders.fifo",
    "QueueName": "orders.fifo",
    "DelaySeconds": 0,
    "MaximumMessageSize": 262144,
    "MessageRetentionPeriod": 345600,
    "ReceiveMessageWaitTimeSeconds": 20,
    "VisibilityTimeout": 30,
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
    "SqsManagedSseEnabled": "true",
}


def test_sqs_queue_attributes_take_their_schema_types() -> None:
    raw = _config_item(
        "AWS::SQS::Queue",
        "https://sqs.us-east-1.amazonaws.com/123456789012/orders.fifo",
        SQS_QUEUE,
        tags={"team": "orders", "aws:cloudformation:stack-name": "orders"},
    )
    found = _translate(_item(raw))
    assert found.properties == {
        "Arn": "arn:aws:sqs:us-east-1:123456789012:orders.fifo",
        "QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/orders.fifo",
        "QueueName": "orders.fifo",
        "DelaySeconds": 0,
        "MaximumMessageSize": 262144,
        "MessageRetentionPeriod": 345600,
        "ReceiveMessageWaitTimeSeconds": 20,
        "VisibilityTimeout": 30,
        "FifoQueue": True,
        "ContentBasedDeduplication": False,
        "DeduplicationScope": "queue",
        "FifoThroughputLimit": "perQueue",
        "SqsManagedSseEnabled": True,
        "Tags": [{"Key": "team", "Value": "orders"}],
    }
    assert found.defaults == {"FifoQueue": False, "ContentBasedDeduplication": False}
    assert "RedrivePolicy" not in found.covered


def test_sns_topic_rdk_sample() -> None:
    found = _translate(_one(RDK / "AWS_SNS_Topic.json"))
    assert found.properties == {
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:topic",
        "TopicName": "topic",
        "DisplayName": "Open",
        "Tags": [],
    }
    assert not found.passthrough  # PascalCase, but GetTopicAttributes' names, not the schema's


def test_dynamodb_table_rdk_sample_on_demand() -> None:
    found = _translate(_one(RDK / "AWS_DynamoDB_Table.json"))
    assert found.properties == {
        "Arn": "arn:aws:dynamodb:us-east-2:123456789012:table/test",
        "TableName": "test",
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "primary", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "LockID", "KeyType": "HASH"}],
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": False},
        "Tags": [],
    }


def test_dynamodb_provisioned_table_with_index_and_stream() -> None:
    # Field names as awslabs/aws-config-resource-schema lists them for AWS::DynamoDB::Table.
    configuration = {
        "attributeDefinitions": [
            {"attributeName": "pk", "attributeType": "S"},
            {"attributeName": "gsi1", "attributeType": "N"},
        ],
        "tableName": "orders",
        "keySchema": [{"attributeName": "pk", "keyType": "HASH"}],
        "tableStatus": "ACTIVE",
        "creationDateTime": 1763640000000,
        "provisionedThroughput": {
            "numberOfDecreasesToday": 0,
            "readCapacityUnits": 5,
            "writeCapacityUnits": 2,
        },
        "tableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/orders",
        "tableId": "00000000-0000-0000-0000-000000000000",
        "globalSecondaryIndexes": [
            {
                "indexName": "by-total",
                "keySchema": [{"attributeName": "gsi1", "keyType": "HASH"}],
                "projection": {"projectionType": "INCLUDE", "nonKeyAttributes": ["status"]},
                "indexStatus": "ACTIVE",
                "provisionedThroughput": {
                    "numberOfDecreasesToday": 0,
                    "readCapacityUnits": 1,
                    "writeCapacityUnits": 1,
                },
                "indexSizeBytes": 0,
                "itemCount": 0,
                "indexArn": "arn:aws:dynamodb:us-east-1:123456789012:table/orders/index/by-total",
            }
        ],
        "streamSpecification": {"streamEnabled": True, "streamViewType": "NEW_IMAGE"},
        "latestStreamArn": "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/x",
    }
    raw = _config_item("AWS::DynamoDB::Table", "orders", configuration)
    raw["supplementaryConfiguration"] = {
        "ContinuousBackupsDescription": {
            "continuousBackupsStatus": "ENABLED",
            "pointInTimeRecoveryDescription": {"pointInTimeRecoveryStatus": "ENABLED"},
        },
        "Tags": [],
    }
    found = _translate(_item(raw))
    assert found.properties == {
        "Arn": "arn:aws:dynamodb:us-east-1:123456789012:table/orders",
        "StreamArn": "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/x",
        "TableName": "orders",
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "gsi1", "AttributeType": "N"},
        ],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 2},
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by-total",
                "KeySchema": [{"AttributeName": "gsi1", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["status"]},
                "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
            }
        ],
        "StreamSpecification": {"StreamViewType": "NEW_IMAGE"},
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "Tags": [],
    }
    assert found.defaults == {"BillingMode": "PROVISIONED"}


def test_cloudtrail_trail_rdk_sample() -> None:
    found = _translate(_one(RDK / "AWS_Cloudtrail_Trail.json"))
    assert found.properties == {
        "Arn": "arn:aws:cloudtrail:ap-southeast-1:123456789012:trail/APJCCloudTrail",
        "TrailName": "APJCCloudTrail",
        "S3BucketName": "mborch-apjc-cloudtrail-bucket",
        "S3KeyPrefix": "CloudTrail",
        "IncludeGlobalServiceEvents": True,
        "IsMultiRegionTrail": True,
        "EnableLogFileValidation": True,
        "Tags": [],
    }
    assert {"IsLogging", "EventSelectors", "KMSKeyId"}.isdisjoint(found.covered)


ECS_SERVICE: dict[str, Any] = {
    # Config records AWS::ECS::Service through Cloud Control: the CloudFormation schema's names,
    # exactly the configuration.* fields awslabs/aws-config-resource-schema lists for the type.
    "ServiceArn": "arn:aws:ecs:us-east-1:123456789012:service/web-cluster/web",
    "ServiceName": "web",
    "Name": "web",
    "Cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/web-cluster",
    "TaskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7",
    "DesiredCount": 2,
    "LaunchType": "FARGATE",
    "PlatformVersion": "LATEST",
    "SchedulingStrategy": "REPLICA",
    "DeploymentConfiguration": {
        "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
        "MaximumPercent": 200,
        "MinimumHealthyPercent": 100,
    },
    "DeploymentController": {"Type": "ECS"},
    "EnableECSManagedTags": False,
    "EnableExecuteCommand": False,
    "HealthCheckGracePeriodSeconds": 60,
    "LoadBalancers": [
        {
            "ContainerName": "web",
            "ContainerPort": 8080,
            "TargetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
            "targetgroup/web/0123456789abcdef",
        }
    ],
    "NetworkConfiguration": {
        "AwsvpcConfiguration": {
            "AssignPublicIp": "DISABLED",
            "SecurityGroups": ["sg-0a1b2c3d4e5f60718"],
            "Subnets": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
        }
    },
    "PlacementConstraints": [],
    "PlacementStrategies": [],
    "PropagateTags": "SERVICE",
    "ServiceRegistries": [],
    "Tags": [
        {"Key": "team", "Value": "payments"},
        {"Key": "aws:cloudformation:stack-name", "Value": "web"},
    ],
}


def test_ecs_service_is_recorded_in_cloudformations_shape() -> None:
    raw = _config_item(
        "AWS::ECS::Service",
        ECS_SERVICE["ServiceArn"],
        ECS_SERVICE,
        tags={"team": "payments", "aws:cloudformation:stack-name": "web"},
    )
    found = _translate(_item(raw))
    expected = {k: v for k, v in ECS_SERVICE.items() if k != "Tags"}
    assert found.passthrough
    assert found.properties == {**expected, "Tags": [{"Key": "team", "Value": "payments"}]}
    assert {"Tags", "NetworkConfiguration/AwsvpcConfiguration/Subnets"} <= found.unordered
    assert "ServiceConnectConfiguration" not in found.covered  # not in what Config records


def test_passthrough_tags_come_from_the_configuration_when_the_item_has_none() -> None:
    raw = _config_item("AWS::ECS::Service", ECS_SERVICE["ServiceArn"], ECS_SERVICE)
    found = _translate(_item(raw))
    assert found.properties["Tags"] == [{"Key": "team", "Value": "payments"}]


def test_case_12_efs_file_system_from_an_eventbridge_envelope() -> None:
    envelope = json.loads(fixture("real-world", "case-12.json").read_text())
    item = normalise_item(envelope["detail"]["configurationItem"], "case-12.json", "detail")
    found = _translate(item)
    assert found.passthrough
    assert found.properties == {
        "FileSystemId": "fs-00000000000000000",
        "Encrypted": True,
        "PerformanceMode": "generalPurpose",
        "BackupPolicy": {"Status": "ENABLED"},
        "FileSystemTags": [{"Key": "Name", "Value": "example"}],  # the schema's tag property
    }
    assert "FileSystemTags" in found.covered and "FileSystemTags" in found.unordered
    assert "KmsKeyId" not in found.covered


# --- Passthrough recognised from data, and what is declined ---------------------------------


@pytest.mark.parametrize(
    ("name", "tag_property"),
    [
        ("AWS_ECR_Repository.json", "Tags"),
        ("AWS_ECR_PublicRepository.json", "Tags"),
        ("AWS_EKS_Cluster.json", "Tags"),
        ("AWS_EC2_LaunchTemplate.json", None),  # Config's `Id` aside, the schema's names
        ("AWS_Glue_Job.json", None),
        ("AWS_R53_HostedZone.json", "HostedZoneTags"),
    ],
)
def test_cloud_control_types_without_a_file_pass_through(
    name: str, tag_property: str | None
) -> None:
    item = _one(RDK / name)
    found = _translate(item, **STACK_TAGS)
    assert found.passthrough
    assert item.configuration is not None
    kept = set(item.configuration) - {"Id"} - ({tag_property} if tag_property else set())
    assert kept <= set(found.properties)
    if tag_property is not None:
        assert tag_property in found.unordered


def test_hosted_zone_tags_keep_the_schemas_field_names() -> None:
    found = _translate(_one(RDK / "AWS_R53_HostedZone.json"), owner="dns")
    assert found.properties["HostedZoneTags"] == [{"Key": "owner", "Value": "dns"}]


@pytest.mark.parametrize(
    "name",
    [
        "AWS_EC2_Volume.json",  # Config's own camelCase shape, no mapping file
        "AWS_ECS_TaskDefinition.json",  # PascalCase but with a key the schema lacks (Status)
        "AWS_ELASTICLOADBALANCING_LOADBALANCER.json",
    ],
)
def test_a_type_with_no_mapping_in_configs_own_shape_is_declined(name: str) -> None:
    item = _one(RDK / name)
    assert translate(item.resource_type, item.configuration, item.supplementary, item.tags) is None


def test_a_custom_type_without_a_schema_is_declined() -> None:
    [item] = _items(DOCS / "customresources-cli__02__view-custom-resource-type-cli.json")
    assert translate(item.resource_type, item.configuration, {}, {}) is None
    assert vocabulary.cloudformation_type(item.resource_type) is None


def test_a_deleted_resource_translates_to_no_properties() -> None:
    found = translate("AWS::S3::Bucket", None, {}, {"owner": "x"})
    assert found is not None and found.properties == {}
    assert "BucketName" in found.covered


def test_read_only_properties_come_from_the_schema() -> None:
    assert {"Arn", "DomainName", "RegionalDomainName", "WebsiteURL"} <= (
        vocabulary.read_only_properties("AWS::S3::Bucket")
    )
    assert vocabulary.read_only_properties("AWS::EC2::SecurityGroup") == {"GroupId", "Id"}
    assert "BucketName" not in vocabulary.read_only_properties("AWS::S3::Bucket")
    assert vocabulary.read_only_properties("MyCustomNamespace::Testing::WordPress") == set()


def test_config_type_names_match_case_insensitively() -> None:
    # The 2014 guide spells a type AWS::EC2::VOLUME: Config's type names are matched as text.
    [volume] = _items(DOCS / "example-sns-notification__01__example-sns-notification.json")
    assert volume.resource_type == "AWS::EC2::VOLUME"
    name = "example-sns-notification__03__example-configuration-items-for-relationships.json"
    group = _one(DOCS / name)
    shouted = translate("AWS::EC2::SECURITYGROUP", group.configuration, {}, group.tags)
    assert shouted is not None and shouted.properties["GroupId"] == "sg-3f1fef43"
    assert vocabulary.cloudformation_type("aws::s3::bucket") == "AWS::S3::Bucket"


# --- No CloudFormation stack tag, whatever the type -----------------------------------------


def _required_items() -> dict[str, ObservedItem]:
    """One real-shaped item per required type; CloudFormation's inline AWS::IAM::Policy has no
    item of its own, so Config's AWS::IAM::Policy (a managed policy) stands for both."""
    samples = {
        "AWS::S3::Bucket": RDK / "AWS_S3_Bucket.json",
        "AWS::EC2::SecurityGroup": RDK / "AWS_EC2_SecurityGroup.json",
        "AWS::EC2::Instance": RDK / "AWS_EC2_Instance.json",
        "AWS::EC2::VPC": RDK / "AWS_EC2_VPC.json",
        "AWS::EC2::Subnet": RDK / "AWS_EC2_Subnet.json",
        "AWS::IAM::Role": RDK / "AWS_IAM_Role.json",
        "AWS::IAM::Policy": RDK / "AWS_IAM_Policy.json",
        "AWS::IAM::ManagedPolicy": RDK / "AWS_IAM_Policy.json",
        "AWS::IAM::User": RDK / "AWS_IAM_User.json",
        "AWS::Lambda::Function": RDK / "AWS_LAMBDA_FUNCTION.json",
        "AWS::RDS::DBInstance": RDK / "AWS_RDS_DBInstance.json",
        "AWS::KMS::Key": RDK / "AWS_KMS_Key.json",
        "AWS::SNS::Topic": RDK / "AWS_SNS_Topic.json",
        "AWS::DynamoDB::Table": RDK / "AWS_DynamoDB_Table.json",
        "AWS::CloudTrail::Trail": RDK / "AWS_Cloudtrail_Trail.json",
    }
    items = {kind: _one(path) for kind, path in samples.items()}
    items["AWS::SQS::Queue"] = _item(_config_item("AWS::SQS::Queue", "q", SQS_QUEUE))
    items["AWS::ECS::Service"] = _item(_config_item("AWS::ECS::Service", "s", ECS_SERVICE))
    envelope = json.loads(fixture("real-world", "case-12.json").read_text())
    items["AWS::EFS::FileSystem"] = normalise_item(
        envelope["detail"]["configurationItem"], "case-12.json", "detail"
    )
    return items


REQUIRED_ITEMS = _required_items()


def test_every_required_type_has_a_real_shaped_item() -> None:
    assert set(REQUIRED_ITEMS) == set(REQUIRED) and len(REQUIRED_ITEMS) == 18


@pytest.mark.parametrize("kind", REQUIRED_ITEMS, ids=list(REQUIRED_ITEMS))
def test_a_cloudformation_stack_tag_never_reaches_the_output(kind: str) -> None:
    found = _translate(REQUIRED_ITEMS[kind], **STACK_TAGS, team="payments")
    assert "aws:cloudformation" not in json.dumps(found.properties).lower()
    tag_property = next((n for n in ("Tags", "FileSystemTags") if n in found.covered), None)
    if kind in ("AWS::KMS::Key", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        assert tag_property is None  # Config records none / the type takes none
        return
    assert tag_property is not None and tag_property in found.unordered
    tags = found.properties[tag_property]
    assert isinstance(tags, list) and {"Key": "team", "Value": "payments"} in tags
    assert all(not str(tag["Key"]).lower().startswith("aws:") for tag in tags)


def _rules(found: Translation) -> TypeRules:
    return TypeRules(covered=found.covered, unordered=found.unordered, defaults=found.defaults)


def test_bundled_schemas_are_what_cfn_lint_itself_serves() -> None:
    """The schemas are read from cfn-lint's files without importing it (a second per process);
    they must be exactly what its own manager returns, for every type a mapping speaks."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    from changegate.integrations.vocabulary import schemas, typemaps

    assert schemas._bundled() is not None
    kinds = sorted({t.type for t in typemaps.every()})
    assert len(kinds) >= 18
    for kind in kinds:
        expected = PROVIDER_SCHEMA_MANAGER.get_resource_schema(schemas.REGION, kind).schema
        assert schemas.schema(kind) == expected, kind
