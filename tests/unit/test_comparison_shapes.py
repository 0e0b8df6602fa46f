"""Declared against observed on the shapes real resources have: ordered lists (S3 lifecycle
rules), sets nested below other properties and sets of items that hold sets (S3 key filter
rules, ELBv2 listener rule conditions, as cfn-lint's resource schemas mark them with
`insertionOrder: false`), tags as a key-value map (AWS::SSM::Parameter), AWS Config's nulls for
what a resource does not have, keys in another case, numbers and YAML block text.

Expected values are written by hand, never computed by the code under test.
"""

from __future__ import annotations

import pytest

from changegate.domain.comparison import (
    MISSING,
    Difference,
    TypeRules,
    Unverifiable,
    compare,
    same_scalar,
    unverifiable,
)

AS_DECLARED = TypeRules()  # an observation in CloudFormation's vocabulary (CloudFormation drift)
BUCKET = TypeRules(
    unordered=frozenset(
        {
            "NotificationConfiguration/LambdaConfigurations/*/Filter/S3Key/Rules",
            "NotificationConfiguration/QueueConfigurations/*/Filter/S3Key/Rules",
            "NotificationConfiguration/TopicConfigurations/*/Filter/S3Key/Rules",
            "Tags",
        }
    )
)
LISTENER_RULE = TypeRules(
    unordered=frozenset(
        {
            "Actions",
            "Conditions",
            "Conditions/*/HostHeaderConfig/Values",
            "Conditions/*/PathPatternConfig/Values",
            "Conditions/*/Values",
            "Tags",
        }
    )
)
GROUP = TypeRules(
    unordered=frozenset({"SecurityGroupIngress", "SecurityGroupEgress", "Tags"}),
    defaults={
        "SecurityGroupEgress": [
            {"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"},
            {"IpProtocol": "-1", "CidrIpv6": "::/0"},
        ]
    },
)
SSM_PARAMETER = TypeRules()  # AWS::SSM::Parameter: Tags is a JSON object, not a list
QUEUE = TypeRules()

EXPIRE_LOGS = {"Id": "expire-logs", "Status": "Enabled", "Prefix": "logs/", "ExpirationInDays": 30}
ARCHIVE = {
    "Id": "archive",
    "Status": "Enabled",
    "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 90}],
}
IMAGES = {
    "Event": "s3:ObjectCreated:*",
    "Queue": "arn:aws:sqs:eu-west-1:123456789012:images",
    "Filter": {
        "S3Key": {
            "Rules": [{"Name": "prefix", "Value": "images/"}, {"Name": "suffix", "Value": ".jpg"}]
        }
    },
}
API = {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*", "/v1/*"]}}
HOST = {"Field": "host-header", "HostHeaderConfig": {"Values": ["example.com", "www.example.com"]}}
GETATT = "Fn::GetAtt: an attribute of a deployed resource"
NO_VPC = "parameter VpcId has no default; give --parameter VpcId=VALUE"

CASES: list[tuple[str, dict[str, object], dict[str, object], TypeRules, list[Difference]]] = [
    (
        "lifecycle rules are an ordered list: one removed",
        {"LifecycleConfiguration": {"Rules": [EXPIRE_LOGS, ARCHIVE]}},
        {"LifecycleConfiguration": {"Rules": [EXPIRE_LOGS]}},
        AS_DECLARED,
        [Difference("/LifecycleConfiguration/Rules", [EXPIRE_LOGS, ARCHIVE], [EXPIRE_LOGS])],
    ),
    (
        "lifecycle rules are an ordered list: one changed",
        {"LifecycleConfiguration": {"Rules": [EXPIRE_LOGS, ARCHIVE]}},
        {"LifecycleConfiguration": {"Rules": [EXPIRE_LOGS | {"ExpirationInDays": 7}, ARCHIVE]}},
        AS_DECLARED,
        [Difference("/LifecycleConfiguration/Rules/0/ExpirationInDays", 30, 7)],
    ),
    (
        "lifecycle rules are an ordered list: swapped",
        {"LifecycleConfiguration": {"Rules": [EXPIRE_LOGS, ARCHIVE]}},
        {"LifecycleConfiguration": {"Rules": [ARCHIVE, EXPIRE_LOGS]}},
        AS_DECLARED,
        [
            Difference("/LifecycleConfiguration/Rules/0/Id", "expire-logs", "archive"),
            Difference("/LifecycleConfiguration/Rules/0/Prefix", "logs/", MISSING),
            Difference("/LifecycleConfiguration/Rules/0/ExpirationInDays", 30, MISSING),
            Difference("/LifecycleConfiguration/Rules/1/Id", "archive", "expire-logs"),
            Difference(
                "/LifecycleConfiguration/Rules/1/Transitions",
                [{"StorageClass": "GLACIER", "TransitionInDays": 90}],
                MISSING,
            ),
        ],
    ),
    (
        "a nested key the resource does not have",
        {"VersioningConfiguration": {"Status": "Enabled"}, "BucketName": "logs"},
        {"VersioningConfiguration": {}, "BucketName": "logs"},
        AS_DECLARED,
        [Difference("/VersioningConfiguration/Status", "Enabled", MISSING)],
    ),
    (
        "a scalar property the resource does not have",
        {"BucketName": "logs"},
        {},
        AS_DECLARED,
        [Difference("/BucketName", "logs", MISSING)],
    ),
    (
        "declared tags on a resource without tags",
        {"Tags": [{"Key": "team", "Value": "platform"}]},
        {},
        AS_DECLARED,
        [Difference("/Tags", [{"Key": "team", "Value": "platform"}], MISSING)],
    ),
    (
        "only CloudFormation's own tags declared, none observed",
        {"Tags": [{"Key": "aws:cloudformation:stack-name", "Value": "web"}]},
        {},
        AS_DECLARED,
        [],
    ),
    (
        "a key in another case",
        {"VersioningConfiguration": {"Status": "Enabled"}},
        {"versioningConfiguration": {"Status": "Suspended"}},
        AS_DECLARED,
        [Difference("/VersioningConfiguration/Status", "Enabled", "Suspended")],
    ),
    (
        "a key in another case, equal",
        {"VersioningConfiguration": {"Status": "Enabled"}},
        {"versioningConfiguration": {"Status": "Enabled"}},
        AS_DECLARED,
        [],
    ),
    (
        "AWS Config's null for a configuration the bucket lacks",
        {"VersioningConfiguration": {"Status": "Enabled"}},
        {"VersioningConfiguration": None},
        AS_DECLARED,
        [Difference("/VersioningConfiguration", {"Status": "Enabled"}, None)],
    ),
    (
        "AWS Config's null for a rule list",
        {"SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}]},
        {"SecurityGroupIngress": None},
        GROUP,
        [
            Difference(
                "/SecurityGroupIngress",
                [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}],
                None,
            )
        ],
    ),
    (
        "AWS Config's null for tags",
        {"Tags": [{"Key": "team", "Value": "platform"}]},
        {"Tags": None},
        AS_DECLARED,
        [Difference("/Tags/team", "platform", MISSING)],
    ),
    (
        "an S3 key filter's rules are a set, below a list item",
        {"NotificationConfiguration": {"QueueConfigurations": [IMAGES]}},
        {
            "NotificationConfiguration": {
                "QueueConfigurations": [
                    IMAGES
                    | {
                        "Filter": {
                            "S3Key": {
                                "Rules": [
                                    {"Name": "suffix", "Value": ".jpg"},
                                    {"Name": "prefix", "Value": "images/"},
                                ]
                            }
                        }
                    }
                ]
            }
        },
        BUCKET,
        [],
    ),
    (
        "listener rule conditions are a set of items whose values are sets",
        {"Priority": 10, "Conditions": [API, HOST]},
        {
            "Priority": 10,
            "Conditions": [
                {
                    "Field": "host-header",
                    "HostHeaderConfig": {"Values": ["www.example.com", "example.com"]},
                },
                {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/v1/*", "/api/*"]}},
            ],
        },
        LISTENER_RULE,
        [],
    ),
    (
        "a listener rule condition value removed by hand",
        {"Conditions": [API]},
        {"Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/v1/*"]}}]},
        LISTENER_RULE,
        [
            Difference("/Conditions/[]", API, MISSING),
            Difference(
                "/Conditions/[]",
                MISSING,
                {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/v1/*"]}},
            ),
        ],
    ),
    (
        "the default egress rules a template leaves out, declared in another order",
        {
            "SecurityGroupEgress": [
                {"IpProtocol": "-1", "CidrIpv6": "::/0"},
                {"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"},
            ]
        },
        {},
        GROUP,
        [],
    ),
    (
        "tags as a map: equal in another order, AWS's own ignored",
        {"Tags": {"team": "platform", "env": "production"}},
        {"Tags": {"aws:cloudformation:stack-name": "web", "env": "production", "team": "platform"}},
        SSM_PARAMETER,
        [],
    ),
    (
        "tags as a map: one changed, one removed, one added",
        {"Tags": {"team": "platform", "env": "production", "cost-center": "42"}},
        {"Tags": {"env": "staging", "cost-center": 42, "temp": "x"}},
        SSM_PARAMETER,
        [
            Difference("/Tags/env", "production", "staging"),
            Difference("/Tags/team", "platform", MISSING),
            Difference("/Tags/temp", MISSING, "x"),
        ],
    ),
    (
        "a list-form tag changed",
        {"Tags": [{"Key": "team", "Value": "platform"}, {"Key": "env", "Value": "production"}]},
        {"Tags": [{"Key": "env", "Value": "staging"}, {"Key": "team", "Value": "platform"}]},
        AS_DECLARED,
        [Difference("/Tags/env", "production", "staging")],
    ),
    (
        "a visibility timeout changed from 30 to 31",
        {"VisibilityTimeout": "30"},
        {"VisibilityTimeout": 31},
        QUEUE,
        [Difference("/VisibilityTimeout", "30", 31)],
    ),
    (
        "a visibility timeout of 30 read as 30.0",
        {"VisibilityTimeout": "30", "MessageRetentionPeriod": 345600},
        {"VisibilityTimeout": 30.0, "MessageRetentionPeriod": "345600"},
        QUEUE,
        [],
    ),
    (
        "a YAML folded block's trailing newline",
        {"GroupDescription": "web tier security group\n"},
        {"GroupDescription": "web tier security group"},
        GROUP,
        [],
    ),
]


@pytest.mark.parametrize(
    ("why", "declared", "observed", "rules", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_compare(
    why: str,
    declared: dict[str, object],
    observed: dict[str, object],
    rules: TypeRules,
    expected: list[Difference],
) -> None:
    assert CASES
    assert compare(declared, observed, rules).differences == expected


PENDING: list[tuple[str, object]] = [
    ("Fn::Sub", {"Fn::Sub": "arn:${AWS::Partition}:s3:::logs"}),
    ("Fn::Join", {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::logs"]]}),
    ("Fn::Select", {"Fn::Select": [0, [{"Ref": "AWS::Region"}]]}),
    ("Fn::Split", {"Fn::Split": [":", {"Ref": "AWS::AccountId"}]}),
    ("Ref", {"Ref": "AWS::Region"}),
]


@pytest.mark.parametrize(("name", "value"), PENDING, ids=[c[0] for c in PENDING])
def test_pseudo_parameter_expressions_are_unverifiable(name: str, value: object) -> None:
    assert PENDING
    reason = f"{name} needs pseudo parameters no observation carries"
    declared = {"BucketName": value}
    assert unverifiable(declared, AS_DECLARED) == [Unverifiable("/BucketName", reason)]
    found = compare(declared, {"BucketName": "logs"}, AS_DECLARED)
    assert (found.differences, found.unverifiable) == ([], [Unverifiable("/BucketName", reason)])


def test_a_value_known_only_at_deploy_is_unverifiable_present_or_absent() -> None:
    declared: dict[str, object] = {
        "VpcId": {"changegate:unknown": NO_VPC},
        "SecurityGroupIds": [{"changegate:unknown": GETATT}, {"changegate:unknown": GETATT}],
        "NetworkInterface": {"SubnetId": {"changegate:unknown": NO_VPC}, "DeviceIndex": "0"},
    }
    found = compare(
        declared, {"VpcId": "vpc-0abc", "NetworkInterface": {"DeviceIndex": 0}}, AS_DECLARED
    )
    assert found.differences == []
    assert found.unverifiable == [
        Unverifiable("/NetworkInterface/SubnetId", NO_VPC),
        Unverifiable("/SecurityGroupIds/0", GETATT),
        Unverifiable("/SecurityGroupIds/1", GETATT),
        Unverifiable("/VpcId", NO_VPC),
    ]


def test_a_set_item_matched_keeps_what_cannot_be_verified() -> None:
    forward = {"Type": "forward", "TargetGroupArn": {"changegate:unknown": GETATT}, "Order": 1}
    observed = {
        "Actions": [
            {
                "Type": "forward",
                "TargetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:1:tg/a",
                "Order": 1,
            }
        ]
    }
    found = compare({"Actions": [forward]}, observed, LISTENER_RULE)
    assert found.differences == []
    assert found.unverifiable == [Unverifiable("/Actions/*/TargetGroupArn", GETATT)]


SCALARS: list[tuple[object, object, bool]] = [
    ("30", 30, True),
    ("30", 30.0, True),
    ("30", 31, False),
    (True, "true", True),
    (False, "true", False),
    (" Enabled ", "Enabled", True),
    ({"Status": "Enabled"}, "Enabled", False),
    ("Enabled", ["Enabled"], False),
]


@pytest.mark.parametrize(("left", "right", "same"), SCALARS)
def test_same_scalar(left: object, right: object, same: bool) -> None:
    assert SCALARS
    assert same_scalar(left, right) is same
