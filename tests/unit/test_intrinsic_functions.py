"""Each intrinsic function as the CloudFormation User Guide's intrinsic function reference
documents it, on the snippets its examples use (RegionMap/FindInMap, Select over GetAZs, Split
of an ImportValue, UserData through Fn::Sub) and on the malformed arguments a hand-written
template carries. Condition functions (Fn::And, Fn::Or, Fn::Not, Fn::Equals, Condition) as the
"Condition functions" reference defines them.

Expected values are written by hand from that reference, never computed by the code under test.
"""

from __future__ import annotations

import pytest

from changegate.domain.intrinsics import (
    Environment,
    bind,
    conditions,
    evaluate,
    pseudo_properties,
    unknown,
)

NO_DEFAULT = {"changegate:unknown": "parameter Stage has no default; give --parameter Stage=VALUE"}
# The Mappings of the Fn::FindInMap reference's example (AMI ids per region and architecture).
REGION_MAP = {
    "RegionMap": {
        "us-east-1": {"HVM64": "ami-0ff8a91507f77f867", "HVMG2": "ami-0a584ac55a7631c0c"},
        "us-west-1": {"HVM64": "ami-0bdb828fd58c52235", "HVMG2": "ami-066ee5fd4a9ef77f1"},
        "eu-west-1": {"HVM64": "ami-047bb4163c506cd98", "HVMG2": "ami-0a7c483d527806435"},
    }
}
ENV = Environment(
    parameters={
        "Environment": "production",
        "InstanceCount": "3",
        "InstanceType": "t3.micro",
        "RootDomainName": "example.com",
        "SubnetIndex": "1",
        "SubnetCsv": "subnet-0a,subnet-0b",
        "Subnets": ["subnet-0a", "subnet-0b"],
        "Stage": NO_DEFAULT,
    },
    mappings=REGION_MAP,
    conditions={"IsProduction": True, "IsStaging": False, "Later": None},
    resources=frozenset({"WebServer", "LogBucket"}),
)
EU = Environment(
    parameters=ENV.parameters,
    mappings=REGION_MAP,
    pseudo={
        "AWS::AccountId": "123456789012",
        "AWS::Partition": "aws",
        "AWS::Region": "eu-west-1",
        "AWS::StackName": "web",
    },
    physical={
        "LogBucket": "web-logbucket-1x2y3z",
        "JobQueue": "https://sqs.eu-west-1.amazonaws.com/123456789012/web-JobQueue-1ABCDEFGH",
    },
)

RESOLVED: list[tuple[str, object, Environment, object]] = [
    # Fn::FindInMap
    (
        "RegionMap keyed by AWS::Region, once the region is known",
        {"Fn::FindInMap": ["RegionMap", {"Ref": "AWS::Region"}, "HVM64"]},
        EU,
        "ami-047bb4163c506cd98",
    ),
    (
        "a DefaultValue does not replace a value the map holds",
        {"Fn::FindInMap": ["RegionMap", "us-east-1", "HVMG2", {"DefaultValue": "ami-default"}]},
        ENV,
        "ami-0a584ac55a7631c0c",
    ),
    (
        "a DefaultValue given by an intrinsic, for a region the map lacks",
        {"Fn::FindInMap": ["RegionMap", "sa-east-1", "HVM64", {"DefaultValue": {"Ref": "Ami"}}]},
        Environment(parameters={"Ami": "ami-12345678"}, mappings=REGION_MAP),
        "ami-12345678",
    ),
    (
        "the LanguageExtensions reference's DefaultValue example",
        {
            "Fn::FindInMap": [
                "RegionMap",
                {"Ref": "AWS::Region"},
                "InstanceType",
                {"DefaultValue": "t3.micro"},
            ]
        },
        EU,
        "t3.micro",
    ),
    # Fn::If
    (
        "Fn::If picks a value that is itself an intrinsic",
        {"Fn::If": ["IsProduction", {"Ref": "InstanceCount"}, "1"]},
        ENV,
        "3",
    ),
    (
        "Fn::If to AWS::NoValue removes the property",
        {"MultiAZ": {"Fn::If": ["IsStaging", True, {"Ref": "AWS::NoValue"}]}, "Engine": "mysql"},
        ENV,
        {"Engine": "mysql"},
    ),
    ("AWS::NoValue on its own is nothing", {"Ref": "AWS::NoValue"}, ENV, None),
    # Fn::Sub
    (
        "the Fn::Sub reference's variable-map example",
        {"Fn::Sub": ["www.${Domain}", {"Domain": {"Ref": "RootDomainName"}}]},
        ENV,
        "www.example.com",
    ),
    (
        "the Fn::Sub reference's ARN of pseudo parameters and a resource",
        {"Fn::Sub": "arn:${AWS::Partition}:s3:::${LogBucket}/${AWS::AccountId}/*"},
        EU,
        "arn:aws:s3:::web-logbucket-1x2y3z/123456789012/*",
    ),
    (
        "a queue's URL keeps its case",
        {"Fn::Sub": "QUEUE_URL=${JobQueue}"},
        EU,
        "QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/web-JobQueue-1ABCDEFGH",
    ),
    (
        "a number in the variable map is text in the string",
        {"Fn::Sub": ["port ${Port} open", {"Port": 443}]},
        ENV,
        "port 443 open",
    ),
    (
        "a YAML boolean in the variable map is the text true",
        {"Fn::Sub": ["--verbose=${Verbose}", {"Verbose": True}]},
        ENV,
        "--verbose=true",
    ),
    # Fn::Base64 (UserData)
    (
        "Fn::Base64 of a Fn::Sub, the UserData pattern",
        {"Fn::Base64": {"Fn::Sub": "ENVIRONMENT=${Environment}\n"}},
        ENV,
        "RU5WSVJPTk1FTlQ9cHJvZHVjdGlvbgo=",
    ),
    # Fn::Join
    (
        "a YAML boolean joined is the text true",
        {"Fn::Join": ["=", ["ENABLE_METRICS", True]]},
        ENV,
        "ENABLE_METRICS=true",
    ),
    # Fn::Select and Fn::Split
    (
        "the Fn::Select reference's fruit example",
        {"Fn::Select": ["1", ["apples", "grapes", "oranges", "mangoes"]]},
        ENV,
        "grapes",
    ),
    (
        "an index given by a parameter",
        {"Fn::Select": [{"Ref": "SubnetIndex"}, {"Ref": "Subnets"}]},
        ENV,
        "subnet-0b",
    ),
    ("the Fn::Split reference's example", {"Fn::Split": ["|", "a|b|c"]}, ENV, ["a", "b", "c"]),
    (
        "the Fn::Split reference's empty items",
        {"Fn::Split": ["|", "a||c|"]},
        ENV,
        ["a", "", "c", ""],
    ),
    (
        "Fn::Split of a parameter",
        {"Fn::Split": [",", {"Ref": "SubnetCsv"}]},
        ENV,
        ["subnet-0a", "subnet-0b"],
    ),
    (
        "Fn::Select over Fn::Split of a parameter",
        {"Fn::Select": [0, {"Fn::Split": [",", {"Ref": "SubnetCsv"}]}]},
        ENV,
        "subnet-0a",
    ),
    # Fn::ToJsonString
    (
        "Fn::ToJsonString of an object holding a Ref",
        {"Fn::ToJsonString": {"environment": {"Ref": "Environment"}}},
        ENV,
        '{"environment":"production"}',
    ),
]


@pytest.mark.parametrize(("why", "node", "env", "value"), RESOLVED, ids=[c[0] for c in RESOLVED])
def test_resolved_before_deploy(why: str, node: object, env: Environment, value: object) -> None:
    assert RESOLVED
    assert evaluate(node, env) == value


UNKNOWN_CASES: list[tuple[str, object, str]] = [
    # Fn::FindInMap
    (
        "RegionMap keyed by AWS::Region, region not yet known",
        {"Fn::FindInMap": ["RegionMap", {"Ref": "AWS::Region"}, "HVM64"]},
        "Fn::FindInMap over values known only at deploy",
    ),
    (
        "keyed by a parameter without a default",
        {"Fn::FindInMap": ["RegionMap", {"Ref": "Stage"}, "HVM64"]},
        "parameter Stage has no default; give --parameter Stage=VALUE",
    ),
    (
        "a region the map lacks, no DefaultValue",
        {"Fn::FindInMap": ["RegionMap", "sa-east-1", "HVM64"]},
        "Fn::FindInMap: no RegionMap/sa-east-1/HVM64 in Mappings",
    ),
    (
        "FindInMap with two keys",
        {"Fn::FindInMap": ["RegionMap", "us-east-1"]},
        "Fn::FindInMap wants [map, top key, second key]",
    ),
    (
        "FindInMap of a string",
        {"Fn::FindInMap": "RegionMap"},
        "Fn::FindInMap wants [map, top key, second key]",
    ),
    # Fn::If
    (
        "If on a condition known at deploy names it",
        {"Fn::If": ["Later", "big", "small"]},
        "Fn::If on condition Later, known only at deploy",
    ),
    (
        "If without its false value",
        {"Fn::If": ["IsProduction", "big"]},
        "Fn::If wants [condition, value if true, value if false]",
    ),
    (
        "If on a Condition object instead of a name",
        {"Fn::If": [{"Condition": "IsProduction"}, "big", "small"]},
        "Fn::If wants [condition, value if true, value if false]",
    ),
    # Fn::Sub
    (
        "Sub over a CommaDelimitedList",
        {"Fn::Sub": "subnets ${Subnets}"},
        "Fn::Sub: ${Subnets} is not text",
    ),
    (
        "a dynamic reference built by Sub",
        {"Fn::Sub": "{{resolve:ssm:/app/${Environment}/db-host}}"},
        "dynamic reference in {{resolve:ssm:/app/${Environment}/db-host}}",
    ),
    (
        "Sub without its variable map",
        {"Fn::Sub": ["${A}"]},
        "Fn::Sub wants a string or [string, variables]",
    ),
    (
        "Sub with a list for a variable map",
        {"Fn::Sub": ["${A}", ["A", "x"]]},
        "Fn::Sub wants a string or [string, variables]",
    ),
    (
        "Sub of a number",
        {"Fn::Sub": 5},
        "Fn::Sub wants a string or [string, variables]",
    ),
    # Fn::Base64
    (
        "UserData with ${AWS::Region} before the region is known",
        {"Fn::Base64": {"Fn::Sub": "cfn-init -v --stack web --region ${AWS::Region}\n"}},
        "Fn::Base64 of a value known only at deploy",
    ),
    # Fn::Join
    ("Join without a list", {"Fn::Join": [","]}, "Fn::Join wants [delimiter, list]"),
    (
        "Join with a number for a delimiter",
        {"Fn::Join": [1, ["a", "b"]]},
        "Fn::Join delimiter is not text",
    ),
    (
        "Join over the availability zones",
        {"Fn::Join": [",", {"Fn::GetAZs": ""}]},
        "Fn::GetAZs: the region's availability zones",
    ),
    ("Join over a string", {"Fn::Join": [",", "a,b"]}, "Fn::Join over a value known at deploy"),
    # Fn::Select
    ("Select without a list", {"Fn::Select": [0]}, "Fn::Select wants [index, list]"),
    (
        "Select over GetAZs, the first-AZ pattern",
        {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
        "Fn::GetAZs: the region's availability zones",
    ),
    (
        "Select with an index without a default",
        {"Fn::Select": [{"Ref": "Stage"}, ["a", "b"]]},
        "parameter Stage has no default; give --parameter Stage=VALUE",
    ),
    (
        "Select over a list holding a pseudo parameter",
        {"Fn::Select": [1, [{"Ref": "AWS::Region"}, "us-east-1"]]},
        "Fn::Select over values known at deploy",
    ),
    (
        "Select past the end",
        {"Fn::Select": ["5", {"Ref": "Subnets"}]},
        "Fn::Select: no item 5 in a list of 2",
    ),
    # Fn::Split
    ("Split without text", {"Fn::Split": ["|"]}, "Fn::Split wants [delimiter, text]"),
    (
        "the Fn::Split reference's Select over an imported subnet list",
        {"Fn::Select": [2, {"Fn::Split": [",", {"Fn::ImportValue": "AccountSubnetIDs"}]}]},
        "Fn::ImportValue: another stack's export",
    ),
    (
        "Split of an ARN built on the partition",
        {"Fn::Split": [":", {"Fn::Sub": "arn:${AWS::Partition}:s3:::logs"}]},
        "Fn::Split over a value known at deploy",
    ),
    # Fn::Length and Fn::ToJsonString
    ("Length of a string", {"Fn::Length": "abc"}, "Fn::Length of a list known only at deploy"),
    (
        "Length of a list holding a pseudo parameter",
        {"Fn::Length": [{"Ref": "AWS::Region"}, "b"]},
        "Fn::Length of a list known only at deploy",
    ),
    (
        "ToJsonString of a list holding an attribute",
        {"Fn::ToJsonString": [{"Fn::GetAtt": ["WebServer", "PublicIp"]}]},
        "Fn::ToJsonString of a value known only at deploy",
    ),
    (
        "ToJsonString of a pseudo parameter",
        {"Fn::ToJsonString": {"region": {"Ref": "AWS::Region"}}},
        "Fn::ToJsonString of a value known only at deploy",
    ),
    # Ref
    ("Ref to a list", {"Ref": ["WebServer"]}, "Ref to ['WebServer']"),
]


@pytest.mark.parametrize(
    ("why", "node", "reason"), UNKNOWN_CASES, ids=[c[0] for c in UNKNOWN_CASES]
)
def test_unknown_with_its_reason(why: str, node: object, reason: str) -> None:
    assert UNKNOWN_CASES
    assert evaluate(node, ENV) == unknown(reason)


def test_pseudo_parameter_expressions_are_bound_per_observation() -> None:
    properties = evaluate(
        {
            "BucketName": {"Fn::Sub": "config-history-${AWS::AccountId}-${AWS::Region}"},
            "Arn": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::logs"]]},
            "Tags": [{"Key": "stack", "Value": {"Ref": "AWS::StackName"}}],
            "VersioningConfiguration": {"Status": "Enabled"},
        },
        ENV,
    )
    assert isinstance(properties, dict)
    assert pseudo_properties(properties) == ["Arn", "BucketName", "Tags"]
    only = bind(properties, ["BucketName"], EU)
    assert only["BucketName"] == "config-history-123456789012-eu-west-1"
    assert only["Arn"] == {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::logs"]]}
    assert bind(properties, None, EU) == {
        "BucketName": "config-history-123456789012-eu-west-1",
        "Arn": "arn:aws:s3:::logs",
        "Tags": [{"Key": "stack", "Value": "web"}],
        "VersioningConfiguration": {"Status": "Enabled"},
    }


def test_sub_variables_waiting_for_a_pseudo_parameter_keep_their_definitions() -> None:
    # The Fn::Sub reference's variable map, one variable defined by a pseudo parameter.
    node = {
        "Fn::Sub": [
            "https://s3.${Suffix}/${Bucket}/index.html",
            {"Suffix": {"Ref": "AWS::URLSuffix"}, "Bucket": "web-assets"},
        ]
    }
    pending = evaluate(node, ENV)
    assert pending == {
        "Fn::Sub": [
            "https://s3.${Suffix}/web-assets/index.html",
            {"Suffix": {"Ref": "AWS::URLSuffix"}},
        ]
    }
    assert pseudo_properties({"WebsiteURL": pending}) == ["WebsiteURL"]
    later = Environment(pseudo={"AWS::URLSuffix": "amazonaws.com"})
    assert evaluate(pending, later) == "https://s3.amazonaws.com/web-assets/index.html"


# --- Conditions -------------------------------------------------------------------------------

# Declared in the order a template may give them: a condition may name one declared after it.
DECLARED: dict[str, object] = {
    "CreateReplica": {"Fn::And": [{"Condition": "IsProduction"}, {"Condition": "IsUsEast1"}]},
    "NotUsEast1": {"Fn::Not": [{"Condition": "IsUsEast1"}]},
    "IsProduction": {"Fn::Equals": [{"Ref": "Environment"}, "production"]},
    "IsUsEast1": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]},
    "RegionIsUsEast1": {"Fn::Equals": ["us-east-1", {"Ref": "AWS::Region"}]},
    "IsStagingOrProduction": {
        "Fn::Or": [
            {"Fn::Equals": [{"Ref": "Environment"}, "staging"]},
            {"Condition": "IsProduction"},
        ]
    },
    "ProductionOrUsEast1": {"Fn::Or": [{"Condition": "IsProduction"}, {"Condition": "IsUsEast1"}]},
    "ProductionAndNotStaging": {
        "Fn::And": [
            {"Condition": "IsProduction"},
            {"Fn::Not": [{"Fn::Equals": [{"Ref": "Environment"}, "staging"]}]},
        ]
    },
    "StagingAndUsEast1": {
        "Fn::And": [
            {"Fn::Equals": [{"Ref": "Environment"}, "staging"]},
            {"Condition": "IsUsEast1"},
        ]
    },
    "StagingOrUsEast1": {
        "Fn::Or": [
            {"Fn::Equals": [{"Ref": "Environment"}, "staging"]},
            {"Condition": "IsUsEast1"},
        ]
    },
    "StagingOrDev": {
        "Fn::Or": [
            {"Fn::Equals": [{"Ref": "Environment"}, "staging"]},
            {"Fn::Equals": [{"Ref": "Environment"}, "dev"]},
        ]
    },
    "LoggingOn": {"Fn::Equals": [{"Ref": "EnableLogging"}, True]},
    "ThreeInstances": {"Fn::Equals": [{"Ref": "InstanceCount"}, 3]},
    "OneInstance": {"Fn::Equals": [{"Ref": "InstanceCount"}, 1]},
    "HasAmi": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Ami"}, ""]}]},
}


def test_condition_functions_with_a_region_known_only_at_deploy() -> None:
    env = Environment(
        parameters={
            "Environment": "production",
            "EnableLogging": "true",
            "InstanceCount": "3",
            "Ami": unknown("parameter Ami is read from SSM at deploy"),
        }
    )
    assert conditions(DECLARED, env) == {
        "CreateReplica": None,  # true and unknown
        "NotUsEast1": None,
        "IsProduction": True,
        "IsUsEast1": None,
        "RegionIsUsEast1": None,
        "IsStagingOrProduction": True,  # false or true
        "ProductionOrUsEast1": True,  # true or unknown
        "ProductionAndNotStaging": True,
        "StagingAndUsEast1": False,  # false and unknown
        "StagingOrUsEast1": None,  # false or unknown
        "StagingOrDev": False,
        "LoggingOn": True,
        "ThreeInstances": True,
        "OneInstance": False,
        "HasAmi": None,
    }


def test_condition_functions_once_the_region_is_known() -> None:
    env = Environment(
        parameters={
            "Environment": "staging",
            "EnableLogging": "false",
            "InstanceCount": "1",
            "Ami": "",
        },
        pseudo={"AWS::Region": "us-east-1"},
    )
    assert conditions(DECLARED, env) == {
        "CreateReplica": False,
        "NotUsEast1": False,
        "IsProduction": False,
        "IsUsEast1": True,
        "RegionIsUsEast1": True,
        "IsStagingOrProduction": True,
        "ProductionOrUsEast1": True,
        "ProductionAndNotStaging": False,
        "StagingAndUsEast1": True,
        "StagingOrUsEast1": True,
        "StagingOrDev": True,
        "LoggingOn": False,
        "ThreeInstances": False,
        "OneInstance": True,
        "HasAmi": False,
    }


def test_conditions_cloudformation_would_refuse_are_unknown() -> None:
    declared: dict[str, object] = {
        "Undeclared": {"Condition": "NoSuchCondition"},
        "Ping": {"Fn::Not": [{"Condition": "Pong"}]},
        "Pong": {"Fn::Not": [{"Condition": "Ping"}]},
        "Itself": {"Fn::And": [{"Condition": "IsProduction"}, {"Condition": "Itself"}]},
        "IsProduction": {"Fn::Equals": [{"Ref": "Environment"}, "production"]},
        "ConditionByList": {"Condition": ["IsProduction"]},
        "TwoFunctions": {
            "Fn::Equals": [{"Ref": "Environment"}, "production"],
            "Fn::Not": [{"Condition": "IsProduction"}],
        },
        "Literal": True,
        "NotOfTwo": {"Fn::Not": [{"Condition": "IsProduction"}, {"Condition": "IsProduction"}]},
        "EqualsOfThree": {"Fn::Equals": ["a", "a", "a"]},
        "Unknown": {"Fn::Whatever": ["a"]},
    }
    found = conditions(declared, Environment(parameters={"Environment": "production"}))
    assert {name: found[name] for name in declared} == {
        "Undeclared": None,
        "Ping": None,
        "Pong": None,
        "Itself": None,
        "IsProduction": True,
        "ConditionByList": None,
        "TwoFunctions": None,
        "Literal": None,
        "NotOfTwo": None,
        "EqualsOfThree": None,
        "Unknown": None,
    }


def test_a_single_condition_not_wrapped_in_a_list() -> None:
    declared: dict[str, object] = {
        "IsProduction": {"Fn::Equals": [{"Ref": "Environment"}, "production"]},
        "NotProduction": {"Fn::Not": {"Condition": "IsProduction"}},
    }
    env = Environment(parameters={"Environment": "production"})
    assert conditions(declared, env) == {"IsProduction": True, "NotProduction": False}
