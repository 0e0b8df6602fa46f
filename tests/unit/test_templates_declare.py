"""`declare` on template shapes the CloudFormation User Guide documents: "Template anatomy"
(Transform as a name, a list, or AWS::Include's mapping), "Parameters" (CommaDelimitedList and
List<...> types), "Mappings" with Fn::FindInMap over AWS::Region, and the
AWS::LanguageExtensions transform's Fn::ForEach (a literal collection, a Ref to a
CommaDelimitedList parameter, `&{}` keys, nested loops).

Expected values are written by hand from that guide, never computed by the code under test.
"""

from __future__ import annotations

from typing import Any

import pytest

from changegate.domain.errors import BadInput
from changegate.domain.intrinsics import unknown
from changegate.domain.templates import MAX_LOOP, Declared, declare

LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"


def test_region_map_find_in_map_with_the_region_of_the_stack() -> None:
    # The Fn::FindInMap reference's example: an AMI per region.
    body: dict[str, Any] = {
        "Mappings": {
            "RegionMap": {
                "us-east-1": {"HVM64": "ami-0ff8a91507f77f867"},
                "eu-west-1": {"HVM64": "ami-047bb4163c506cd98"},
            }
        },
        "Resources": {
            "Server": {
                "Type": "AWS::EC2::Instance",
                "Properties": {
                    "ImageId": {"Fn::FindInMap": ["RegionMap", {"Ref": "AWS::Region"}, "HVM64"]},
                    "InstanceType": "t3.micro",
                },
            }
        },
    }
    assert declare(body, "ec2.yaml", pseudo={"AWS::Region": "eu-west-1"}) == [
        Declared(
            "Server",
            "AWS::EC2::Instance",
            {"ImageId": "ami-047bb4163c506cd98", "InstanceType": "t3.micro"},
        )
    ]
    [server] = declare(body, "ec2.yaml")
    assert server.properties["ImageId"] == unknown("Fn::FindInMap over values known only at deploy")


def test_refs_between_resources_resolve_to_physical_ids_once_the_stack_is_known() -> None:
    body: dict[str, Any] = {
        "Resources": {
            "LogBucket": {"Type": "AWS::S3::Bucket"},
            "LogBucketPolicy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {"Bucket": {"Ref": "LogBucket"}},
            },
        }
    }
    assert declare(body, "logs.yaml", physical={"LogBucket": "logs-logbucket-1a2b3c"}) == [
        Declared("LogBucket", "AWS::S3::Bucket", {}),
        Declared("LogBucketPolicy", "AWS::S3::BucketPolicy", {"Bucket": "logs-logbucket-1a2b3c"}),
    ]
    policy = declare(body, "logs.yaml")[1]
    assert policy.properties == {
        "Bucket": unknown("Ref to resource LogBucket: its physical id exists only once deployed")
    }


def test_a_condition_on_the_region_drops_a_resource_once_the_region_is_known() -> None:
    body: dict[str, Any] = {
        "Conditions": {"IsUsEast1": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}},
        "Resources": {
            "Certificate": {
                "Type": "AWS::CertificateManager::Certificate",
                "Condition": "IsUsEast1",
                "Properties": {"DomainName": "example.com"},
            }
        },
    }
    assert declare(body, "cdn.yaml", pseudo={"AWS::Region": "eu-west-1"}) == []
    assert [r.logical_id for r in declare(body, "cdn.yaml")] == ["Certificate"]


def test_list_parameters_are_lists() -> None:
    body: dict[str, Any] = {
        "Parameters": {
            "DbSubnetIpBlocks": {
                "Type": "CommaDelimitedList",
                "Default": "10.0.48.0/24, 10.0.112.0/24, 10.0.176.0/24",
            },
            "SubnetIds": {"Type": "List<AWS::EC2::Subnet::Id>"},
            "Tiers": {"Type": "CommaDelimitedList", "Default": ["web", "app"]},
            "EnableDnsSupport": {"Type": "String", "Default": True},
            "Retention": {"Type": "Number", "Default": 30},
            "Status": {
                "Type": "String",
                "AllowedValues": ["Enabled", "Suspended"],
                "Default": "Enabled",
            },
        },
        "Resources": {
            "Subnets": {
                "Type": "AWS::RDS::DBSubnetGroup",
                "Properties": {
                    "DBSubnetGroupDescription": "db",
                    "SubnetIds": {"Ref": "SubnetIds"},
                    "Tags": [
                        {
                            "Key": "blocks",
                            "Value": {"Fn::Join": [";", {"Ref": "DbSubnetIpBlocks"}]},
                        },
                        {"Key": "tiers", "Value": {"Fn::Join": ["+", {"Ref": "Tiers"}]}},
                        {"Key": "dns", "Value": {"Ref": "EnableDnsSupport"}},
                        {"Key": "retention", "Value": {"Ref": "Retention"}},
                        {"Key": "status", "Value": {"Ref": "Status"}},
                    ],
                },
            }
        },
    }
    [group] = declare(body, "db.yaml", {"SubnetIds": "subnet-0a1b,subnet-2c3d"})
    assert group.properties == {
        "DBSubnetGroupDescription": "db",
        "SubnetIds": ["subnet-0a1b", "subnet-2c3d"],
        "Tags": [
            {"Key": "blocks", "Value": "10.0.48.0/24;10.0.112.0/24;10.0.176.0/24"},
            {"Key": "tiers", "Value": "web+app"},
            {"Key": "dns", "Value": "true"},
            {"Key": "retention", "Value": "30"},
            {"Key": "status", "Value": "Enabled"},
        ],
    }


def test_a_parameter_declared_without_a_mapping_is_a_string_without_a_default() -> None:
    body: dict[str, Any] = {
        "Parameters": {"Name": None},
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "Name"}}}
        },
    }
    [queue] = declare(body, "q.yaml")
    assert queue.properties == {
        "QueueName": unknown("parameter Name has no default; give --parameter Name=VALUE")
    }
    [queue] = declare(body, "q.yaml", {"Name": "orders"})
    assert queue.properties == {"QueueName": "orders"}


REFUSED: list[tuple[str, dict[str, Any], str]] = [
    ("no Resources", {"Parameters": {}}, "stack.yaml: no Resources mapping"),
    (
        "a resource without Type",
        {"Resources": {"Queue": {"Properties": {"QueueName": "q"}}}},
        "stack.yaml: resource Queue has no Type",
    ),
    (
        "a resource that is not a mapping",
        {"Resources": {"Queue": "AWS::SQS::Queue"}},
        "stack.yaml: resource Queue has no Type",
    ),
    (
        "Properties as a list",
        {"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": [{"QueueName": "q"}]}}},
        "stack.yaml: resource Queue: Properties is not a mapping",
    ),
    (
        "SAM after the language extensions, as a list",
        {
            "Transform": [LANGUAGE_EXTENSIONS, "AWS::Serverless-2016-10-31"],
            "Resources": {"Fn": {"Type": "AWS::Serverless::Function"}},
        },
        "stack.yaml: Transform AWS::Serverless-2016-10-31 makes resources only CloudFormation can "
        "expand; import the processed template instead (aws cloudformation get-template "
        "--stack-name NAME --template-stage Processed)",
    ),
    (
        "AWS::Include at the top level, as the Transform section",
        {
            "Transform": {
                "Name": "AWS::Include",
                "Parameters": {"Location": "s3://amzn-s3-demo-bucket/MyFileName.yaml"},
            },
            "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
        },
        "stack.yaml: Transform a macro makes resources only CloudFormation can "
        "expand; import the processed template instead (aws cloudformation get-template "
        "--stack-name NAME --template-stage Processed)",
    ),
    (
        "SAM and a macro",
        {
            "Transform": ["AWS::Serverless-2016-10-31", {"Name": "AWS::Include", "Parameters": {}}],
            "Resources": {"Fn": {"Type": "AWS::Serverless::Function"}},
        },
        "stack.yaml: Transform AWS::Serverless-2016-10-31, a macro makes resources only "
        "CloudFormation can expand; import the processed template instead (aws cloudformation "
        "get-template --stack-name NAME --template-stage Processed)",
    ),
    (
        "a parameter given to a template without parameters",
        {"Resources": {}},
        "stack.yaml: no parameter Nope in the template (it declares none)",
    ),
    (
        "a parameter the template does not declare",
        {"Parameters": {"Env": {"Type": "String"}, "Bucket": {"Type": "String"}}, "Resources": {}},
        "stack.yaml: no parameter Nope in the template (it declares Bucket, Env)",
    ),
    (
        "a ForEach without its output map",
        {
            "Transform": LANGUAGE_EXTENSIONS,
            "Resources": {"Fn::ForEach::Topics": ["TopicName", ["Success", "Failure"]]},
        },
        "stack.yaml: Fn::ForEach::Topics wants [identifier, collection, {key: body}]",
    ),
    (
        "a ForEach whose identifier is not a name",
        {
            "Transform": LANGUAGE_EXTENSIONS,
            "Resources": {
                "Fn::ForEach::Topics": [
                    ["TopicName"],
                    ["Success"],
                    {"Topic${TopicName}": {"Type": "AWS::SNS::Topic"}},
                ]
            },
        },
        "stack.yaml: Fn::ForEach::Topics wants [identifier, collection, {key: body}]",
    ),
    (
        "a ForEach whose output is a list",
        {
            "Transform": LANGUAGE_EXTENSIONS,
            "Resources": {
                "Fn::ForEach::Topics": [
                    "TopicName",
                    ["Success"],
                    [{"Topic${TopicName}": {"Type": "AWS::SNS::Topic"}}],
                ]
            },
        },
        "stack.yaml: Fn::ForEach::Topics wants [identifier, collection, {key: body}]",
    ),
    (
        "a ForEach over a string",
        {
            "Transform": LANGUAGE_EXTENSIONS,
            "Resources": {
                "Fn::ForEach::Topics": [
                    "TopicName",
                    "Success",
                    {"Topic${TopicName}": {"Type": "AWS::SNS::Topic"}},
                ]
            },
        },
        "stack.yaml: Fn::ForEach::Topics: the collection must be a list of values known before "
        "deploy",
    ),
    (
        "a ForEach over a parameter without a default",
        {
            "Transform": LANGUAGE_EXTENSIONS,
            "Parameters": {"Names": {"Type": "CommaDelimitedList"}},
            "Resources": {
                "Fn::ForEach::Topics": [
                    "TopicName",
                    {"Ref": "Names"},
                    {"Topic${TopicName}": {"Type": "AWS::SNS::Topic"}},
                ]
            },
        },
        "stack.yaml: Fn::ForEach::Topics: the collection must be a list of values known before "
        "deploy",
    ),
    (
        "a ForEach over a list of Refs",
        {
            "Transform": LANGUAGE_EXTENSIONS,
            "Parameters": {"A": {"Type": "String", "Default": "a"}},
            "Resources": {
                "Fn::ForEach::Topics": [
                    "TopicName",
                    [{"Ref": "A"}],
                    {"Topic${TopicName}": {"Type": "AWS::SNS::Topic"}},
                ]
            },
        },
        "stack.yaml: Fn::ForEach::Topics: the collection must be a list of values known before "
        "deploy",
    ),
    (
        "a malformed ForEach inside another",
        {
            "Transform": LANGUAGE_EXTENSIONS,
            "Resources": {
                "Fn::ForEach::Environments": [
                    "Env",
                    ["staging"],
                    {"Fn::ForEach::Queues": ["Kind", ["orders"]]},
                ]
            },
        },
        "stack.yaml: Fn::ForEach::Queues wants [identifier, collection, {key: body}]",
    ),
    (
        "a ForEach over more items than a loop may make",
        {
            "Transform": LANGUAGE_EXTENSIONS,
            "Resources": {
                "Fn::ForEach::Queues": [
                    "N",
                    [str(n) for n in range(MAX_LOOP + 1)],
                    {"Queue${N}": {"Type": "AWS::SQS::Queue"}},
                ]
            },
        },
        "stack.yaml: Fn::ForEach::Queues: over 1000 items",
    ),
]


@pytest.mark.parametrize(("why", "body", "message"), REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_naming_the_source(why: str, body: dict[str, Any], message: str) -> None:
    assert REFUSED
    with pytest.raises(BadInput) as raised:
        declare(body, "stack.yaml", {"Nope": "x"} if "parameter Nope" in message else None)
    assert str(raised.value) == message


def test_transform_as_a_list_of_the_language_extensions() -> None:
    body: dict[str, Any] = {
        "Transform": [LANGUAGE_EXTENSIONS],
        "Resources": {
            "Fn::ForEach::Topics": [
                "TopicName",
                ["Success"],
                {"SnsTopic${TopicName}": {"Type": "AWS::SNS::Topic"}},
            ]
        },
    }
    assert declare(body, "t.yaml") == [Declared("SnsTopicSuccess", "AWS::SNS::Topic", {})]


def test_for_each_over_a_comma_delimited_list_parameter() -> None:
    # The guide's Fn::ForEach examples: a Ref to a CommaDelimitedList parameter, and `&{}` to
    # strip what is not alphanumeric from an item used in a logical id.
    body: dict[str, Any] = {
        "Transform": LANGUAGE_EXTENSIONS,
        "Parameters": {
            "Topics": {"Type": "CommaDelimitedList", "Default": "Orders,payment-Failed"},
            "Cidrs": {"Type": "CommaDelimitedList", "Default": "10.0.2.0/24, 10.0.3.0/24"},
        },
        "Resources": {
            "Fn::ForEach::Topics": [
                "Name",
                {"Ref": "Topics"},
                {
                    "Topic&{Name}": {
                        "Type": "AWS::SNS::Topic",
                        "Properties": {"TopicName": {"Fn::Sub": "${Name}-events"}},
                    }
                },
            ],
            "Fn::ForEach::Subnets": [
                "Cidr",
                {"Ref": "Cidrs"},
                {
                    "Subnet&{Cidr}": {
                        "Type": "AWS::EC2::Subnet",
                        "Properties": {"CidrBlock": {"Ref": "Cidr"}, "VpcId": "vpc-0abc"},
                    }
                },
            ],
        },
    }
    assert declare(body, "t.yaml") == [
        Declared("TopicOrders", "AWS::SNS::Topic", {"TopicName": "Orders-events"}),
        Declared("TopicpaymentFailed", "AWS::SNS::Topic", {"TopicName": "payment-Failed-events"}),
        Declared(
            "Subnet1002024", "AWS::EC2::Subnet", {"CidrBlock": "10.0.2.0/24", "VpcId": "vpc-0abc"}
        ),
        Declared(
            "Subnet1003024", "AWS::EC2::Subnet", {"CidrBlock": "10.0.3.0/24", "VpcId": "vpc-0abc"}
        ),
    ]


def test_nested_for_each_over_parameters() -> None:
    body: dict[str, Any] = {
        "Transform": LANGUAGE_EXTENSIONS,
        "Parameters": {
            "Environments": {"Type": "CommaDelimitedList", "Default": "staging,production"},
            "Kinds": {"Type": "CommaDelimitedList", "Default": "orders,refunds"},
        },
        "Resources": {
            "Fn::ForEach::Environments": [
                "Env",
                {"Ref": "Environments"},
                {
                    "Fn::ForEach::Queues": [
                        "Kind",
                        {"Ref": "Kinds"},
                        {
                            "${Kind}Queue${Env}": {
                                "Type": "AWS::SQS::Queue",
                                "Properties": {"QueueName": {"Fn::Sub": "${Env}-${Kind}"}},
                            }
                        },
                    ]
                },
            ]
        },
    }
    assert [(r.logical_id, r.properties) for r in declare(body, "t.yaml")] == [
        ("ordersQueuestaging", {"QueueName": "staging-orders"}),
        ("refundsQueuestaging", {"QueueName": "staging-refunds"}),
        ("ordersQueueproduction", {"QueueName": "production-orders"}),
        ("refundsQueueproduction", {"QueueName": "production-refunds"}),
    ]


def test_a_loop_may_make_exactly_the_most_items_allowed() -> None:
    body: dict[str, Any] = {
        "Transform": LANGUAGE_EXTENSIONS,
        "Resources": {
            "Fn::ForEach::Queues": [
                "N",
                [str(n) for n in range(MAX_LOOP)],
                {"Queue${N}": {"Type": "AWS::SQS::Queue"}},
            ]
        },
    }
    made = declare(body, "t.yaml")
    assert len(made) == 1000
    assert made[-1] == Declared("Queue999", "AWS::SQS::Queue", {})
