"""Declared against observed, in CloudFormation's vocabulary; expected values by hand."""

from __future__ import annotations

import pytest

from changegate.domain.comparison import (
    MISSING,
    NOT_RECORDED,
    Difference,
    TypeRules,
    Unverifiable,
    compare,
    unverifiable,
)

BUCKET = TypeRules(
    covered=frozenset({"BucketName", "VersioningConfiguration", "Tags"}),
    unordered=frozenset({"Tags"}),
)
GROUP = TypeRules(
    covered=frozenset({"GroupDescription", "SecurityGroupIngress", "SecurityGroupEgress", "Tags"}),
    unordered=frozenset({"SecurityGroupIngress", "SecurityGroupEgress", "Tags"}),
    defaults={"SecurityGroupEgress": [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}]},
)
SSH = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "10.0.0.0/8"}
HTTPS = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}

CASES: list[tuple[str, dict[str, object], dict[str, object], TypeRules, list[Difference]]] = [
    (
        "equal",
        {"BucketName": "logs", "VersioningConfiguration": {"Status": "Enabled"}},
        {"BucketName": "logs", "VersioningConfiguration": {"Status": "Enabled"}, "Tags": []},
        BUCKET,
        [],
    ),
    (
        "changed",
        {"VersioningConfiguration": {"Status": "Enabled"}},
        {"VersioningConfiguration": {"Status": "Suspended"}},
        BUCKET,
        [Difference("/VersioningConfiguration/Status", "Enabled", "Suspended")],
    ),
    (
        "absent",
        {"VersioningConfiguration": {"Status": "Enabled"}},
        {},
        BUCKET,
        [Difference("/VersioningConfiguration", {"Status": "Enabled"}, MISSING)],
    ),
    (
        "YAML YES is the text true; order of tags is no matter",
        {"Tags": [{"Key": "FOO", "Value": True}, {"Key": "BAR", "Value": False}]},
        {"Tags": [{"Key": "BAR", "Value": "false"}, {"Key": "FOO", "Value": "true"}]},
        BUCKET,
        [],
    ),
    (
        "CloudFormation's own tags are nobody's baseline",
        {"Tags": [{"Key": "team", "Value": "a"}]},
        {
            "Tags": [
                {"Key": "aws:cloudformation:stack-name", "Value": "s"},
                {"Key": "team", "Value": "a"},
            ]
        },
        BUCKET,
        [],
    ),
    (
        "a tag added by hand is drift",
        {"Tags": [{"Key": "team", "Value": "a"}]},
        {"Tags": [{"Key": "team", "Value": "a"}, {"Key": "temp", "Value": "x"}]},
        BUCKET,
        [Difference("/Tags/temp", MISSING, "x")],
    ),
    (
        "a rule set in another order",
        {"SecurityGroupIngress": [SSH, HTTPS]},
        {"SecurityGroupIngress": [HTTPS | {"IpRanges": "x"}, SSH]},
        GROUP,
        [],
    ),
    (
        "a rule opened by hand",
        {"SecurityGroupIngress": [HTTPS]},
        {"SecurityGroupIngress": [HTTPS, SSH]},
        GROUP,
        [Difference("/SecurityGroupIngress/[]", MISSING, SSH)],
    ),
    (
        "a rule removed",
        {"SecurityGroupIngress": [HTTPS, SSH]},
        {"SecurityGroupIngress": [HTTPS]},
        GROUP,
        [Difference("/SecurityGroupIngress/[]", SSH, MISSING)],
    ),
    (
        "the default egress a template leaves out",
        {"SecurityGroupEgress": [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}]},
        {},
        GROUP,
        [],
    ),
    (
        "numbers as text",
        {"SecurityGroupIngress": [SSH]},
        {"SecurityGroupIngress": [SSH | {"FromPort": "22", "ToPort": 22.0}]},
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
    assert len(CASES) == 11
    assert compare(declared, observed, rules).differences == expected


def test_what_cannot_be_observed_is_unverifiable_never_drift() -> None:
    declared = {
        "BucketName": "logs",
        "LifecycleConfiguration": {"Rules": []},
        "VersioningConfiguration": {"Status": {"changegate:unknown": "parameter X"}},
        "Tags": [{"Key": "stack", "Value": {"Ref": "AWS::StackName"}}],
    }
    found = compare(
        declared, {"BucketName": "logs", "Tags": [{"Key": "stack", "Value": "s"}]}, BUCKET
    )
    assert found.differences == []
    assert found.unverifiable == [
        Unverifiable("/LifecycleConfiguration", NOT_RECORDED),
        Unverifiable("/Tags/stack", "Ref needs pseudo parameters no observation carries"),
        Unverifiable("/VersioningConfiguration/Status", "parameter X"),
    ]
    assert unverifiable(declared, BUCKET) == [
        Unverifiable("/LifecycleConfiguration", NOT_RECORDED),
        Unverifiable("/Tags/0/Value", "Ref needs pseudo parameters no observation carries"),
        Unverifiable("/VersioningConfiguration/Status", "parameter X"),
    ]


def test_an_observation_in_cloudformations_vocabulary_covers_every_property() -> None:
    found = compare({"LifecycleConfiguration": {"Rules": []}}, {}, TypeRules())
    assert found.differences == [Difference("/LifecycleConfiguration", {"Rules": []}, MISSING)]
