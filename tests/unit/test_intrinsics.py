"""Intrinsic functions and templates as a baseline sees them: known before deploy, or unknown.

Expected values are written by hand from the CloudFormation User Guide's intrinsic function
reference, never computed by the code under test.
"""

from __future__ import annotations

from typing import Any

import pytest

from changegate.domain.errors import BadInput
from changegate.domain.intrinsics import UNKNOWN, Environment, evaluate, is_unknown
from changegate.domain.templates import declare

ENV = Environment(
    parameters={"Env": "production", "Size": "20", "Subnets": ["subnet-a", "subnet-b"]},
    mappings={"Sizing": {"production": {"Volume": 100}, "staging": {"Volume": 20}}},
    conditions={"IsProduction": True, "IsStaging": False, "Later": None},
    resources=frozenset({"Queue"}),
)
PSEUDO = Environment(
    pseudo={"AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}
)

KNOWN: list[tuple[object, object]] = [
    ({"Ref": "Env"}, "production"),
    ({"Fn::FindInMap": ["Sizing", {"Ref": "Env"}, "Volume"]}, 100),
    ({"Fn::FindInMap": ["Sizing", "dev", "Volume", {"DefaultValue": 5}]}, 5),
    ({"Fn::If": ["IsProduction", "big", "small"]}, "big"),
    ({"Fn::If": ["IsStaging", "big", "small"]}, "small"),
    ({"Fn::Sub": "web-${Env}"}, "web-production"),
    ({"Fn::Sub": ["${A}-${Env}", {"A": "x"}]}, "x-production"),
    ({"Fn::Sub": "literal ${!NotAVariable}"}, "literal ${NotAVariable}"),
    ({"Fn::Join": ["-", ["web", {"Ref": "Env"}, 3]]}, "web-production-3"),
    ({"Fn::Join": [",", {"Ref": "Subnets"}]}, "subnet-a,subnet-b"),
    ({"Fn::Select": [1, {"Ref": "Subnets"}]}, "subnet-b"),
    ({"Fn::Split": [",", "a,b"]}, ["a", "b"]),
    ({"Fn::Base64": "#!/bin/bash\n"}, "IyEvYmluL2Jhc2gK"),
    ({"Fn::Length": {"Ref": "Subnets"}}, 2),
    ({"Fn::ToJsonString": {"b": 1, "a": [True]}}, '{"b":1,"a":[true]}'),
    (
        {"Tags": [{"Key": "env", "Value": {"Ref": "Env"}}]},
        {"Tags": [{"Key": "env", "Value": "production"}]},
    ),
    ({"A": {"Ref": "AWS::NoValue"}, "B": 1}, {"B": 1}),
    ([1, {"Ref": "AWS::NoValue"}, 2], [1, 2]),
]


@pytest.mark.parametrize(("node", "value"), KNOWN)
def test_what_is_known_before_deploy_is_resolved(node: object, value: object) -> None:
    assert len(KNOWN) == 18
    assert evaluate(node, ENV) == value


UNKNOWABLE: list[tuple[object, str]] = [
    ("{{resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023}}", "dynamic reference"),
    ("{{resolve:secretsmanager:db:SecretString:password}}", "dynamic reference"),
    ({"Fn::GetAtt": ["Queue", "Arn"]}, "attribute of a deployed resource"),
    ({"Fn::ImportValue": "shared-vpc"}, "another stack's export"),
    ({"Ref": "Queue"}, "physical id exists only once deployed"),
    ({"Fn::If": ["Later", 1, 2]}, "known only at deploy"),
    ({"Fn::Sub": "${Queue.Arn}/x"}, "attribute known only at deploy"),
    ({"Fn::Base64": {"Fn::GetAtt": ["Queue", "Arn"]}}, "attribute of a deployed resource"),
    ({"Fn::Length": {"Fn::GetAZs": ""}}, "availability zones"),
    ({"Fn::ToJsonString": {"a": {"Fn::ImportValue": "x"}}}, "Fn::ToJsonString"),
    ({"Fn::Join": ["", ["a", {"Fn::GetAtt": ["Queue", "Arn"]}]]}, "deployed resource"),
    ({"Ref": "Nope"}, "does not declare"),
]


@pytest.mark.parametrize(("node", "why"), UNKNOWABLE)
def test_what_only_deploy_knows_is_marked_unknown_with_the_reason(node: object, why: str) -> None:
    assert len(UNKNOWABLE) == 12
    found = evaluate(node, ENV)
    assert is_unknown(found), found
    assert why in str(found[UNKNOWN])  # type: ignore[index]


def test_pseudo_parameters_wait_for_the_observation_then_resolve() -> None:
    name = {"Fn::Sub": "config-history-${AWS::AccountId}-${AWS::Region}-${Env}"}
    pending = evaluate(name, ENV)
    assert pending == {"Fn::Sub": "config-history-${AWS::AccountId}-${AWS::Region}-production"}
    assert evaluate(pending, PSEUDO) == "config-history-123456789012-eu-west-1-production"
    arn = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::logs"]]}
    assert evaluate(evaluate(arn, ENV), PSEUDO) == "arn:aws:s3:::logs"
    assert evaluate({"Ref": "AWS::StackName"}, PSEUDO) == {"Ref": "AWS::StackName"}


def template(**resources: Any) -> dict[str, Any]:
    return {
        "Parameters": {
            "Env": {"Type": "String", "Default": "staging"},
            "Ami": {
                "Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
                "Default": "/aws/service/ami",
            },
            "Names": {"Type": "CommaDelimitedList", "Default": "a,b"},
        },
        "Conditions": {
            "IsProduction": {"Fn::Equals": [{"Ref": "Env"}, "production"]},
            "NotProduction": {"Fn::Not": [{"Condition": "IsProduction"}]},
        },
        "Resources": resources,
    }


def test_conditions_drop_resources_and_parameters_can_be_given() -> None:
    body = template(
        Always={"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "Env"}}},
        OnlyProd={"Type": "AWS::SNS::Topic", "Condition": "IsProduction"},
        OnlyElse={"Type": "AWS::SNS::Topic", "Condition": "NotProduction"},
    )
    staging = declare(body, "t.yaml")
    assert [r.logical_id for r in staging] == ["Always", "OnlyElse"]
    assert staging[0].properties == {"QueueName": "staging"}
    prod = declare(body, "t.yaml", {"Env": "production"})
    assert [r.logical_id for r in prod] == ["Always", "OnlyProd"]
    with pytest.raises(BadInput, match="no parameter Nope in the template"):
        declare(body, "t.yaml", {"Nope": "x"})


def test_ssm_parameters_and_missing_defaults_are_unknown() -> None:
    body = template(
        Host={
            "Type": "AWS::EC2::Instance",
            "Properties": {"ImageId": {"Ref": "Ami"}, "InstanceType": "t3.micro"},
        }
    )
    [host] = declare(body, "t.yaml")
    assert host.properties["InstanceType"] == "t3.micro"
    assert "read from SSM" in host.properties["ImageId"][UNKNOWN]  # type: ignore[index]
    body["Parameters"]["Key"] = {"Type": "String"}
    body["Resources"]["Host"]["Properties"]["KeyName"] = {"Ref": "Key"}
    [host] = declare(body, "t.yaml")
    assert "give --parameter Key=VALUE" in host.properties["KeyName"][UNKNOWN]  # type: ignore[index]


def test_language_extensions_expand_for_each() -> None:
    body = {
        "Transform": "AWS::LanguageExtensions",
        "Resources": {
            "AuditQueue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "audit"}},
            "Fn::ForEach::Topics": [
                "TopicName",
                ["Success", "Failure"],
                {
                    "SnsTopic${TopicName}": {
                        "Type": "AWS::SNS::Topic",
                        "Properties": {"TopicName": {"Ref": "TopicName"}},
                    }
                },
            ],
        },
    }
    resources = declare(body, "case-08.yaml")
    assert [(r.logical_id, r.properties) for r in resources] == [
        ("AuditQueue", {"QueueName": "audit"}),
        ("SnsTopicSuccess", {"TopicName": "Success"}),
        ("SnsTopicFailure", {"TopicName": "Failure"}),
    ]


def test_other_transforms_are_refused_saying_how_to_get_the_processed_template() -> None:
    body = {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {"Fn": {"Type": "AWS::Serverless::Function"}},
    }
    with pytest.raises(BadInput, match="--template-stage Processed"):
        declare(body, "sam.yaml")
