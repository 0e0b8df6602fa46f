"""CM-5's coverage rule and its finding, table-driven: what covers a production change event.

Expected values are written by hand from the rule in the issue (14, section 2): a pipeline
deployment of an approved or emergency change whose session names it and whose window holds the
event; an emergency change implemented by the same person within the policy's window; else a
finding, which the engine marks with a waiver covering the principal or the resource.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from changegate.domain.audit import engine
from changegate.domain.audit.facts import AuditFacts, AuditSettings, Period
from changegate.domain.audit.rules_trail import RULE, unauthorised_aws_change
from changegate.domain.calendar import calendar_from
from changegate.domain.trail.actors import AccountMapping, TrailRules
from changegate.domain.trail.classify import classify
from changegate.domain.trail.coverage import (
    AwsChange,
    Emergency,
    PipelineRun,
    TrailFacts,
    covered,
)
from changegate.domain.waivers import Cover, ScopeKind, Window
from changegate.integrations.cloudtrail_catalogue import catalogue

T = datetime(2026, 8, 3, 9, 0, tzinfo=UTC)  # inside 2026-Q3
M, H = timedelta(minutes=1), timedelta(hours=1)
ROLE = "arn:aws:iam::123456789012:role/gha-deployer"
ALICE = "arn:aws:iam::123456789012:user/alice"
SG = "arn:aws:ec2:us-east-1:123456789012:security-group/sg-0abc"
RULES = TrailRules(
    accounts=(AccountMapping("123456789012", "production"),),
    production=frozenset({"production"}),
    pipeline_roles=frozenset({ROLE.casefold()}),
    people={"bob-admin": "robert@example.com"},
)


def record(at: datetime = T, who: str = "alice", **fields: Any) -> dict[str, Any]:
    """A console write in the production account, by IAM user `who`, or by the pipeline
    (`who="pipeline:SESSION"`)."""
    if who.startswith("pipeline:"):
        session = who.partition(":")[2]
        identity: dict[str, Any] = {
            "type": "AssumedRole",
            "arn": f"arn:aws:sts::123456789012:assumed-role/gha-deployer/{session}",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": ROLE}},
        }
    else:
        identity = {
            "type": "IAMUser",
            "arn": f"arn:aws:iam::123456789012:user/{who}",
            "userName": who,
            "accountId": "123456789012",
        }
    return {
        "eventVersion": "1.11",
        "eventTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "ec2.amazonaws.com",
        "eventName": "AuthorizeSecurityGroupIngress",
        "awsRegion": "us-east-1",
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": "123456789012",
        "userAgent": "AWS Internal",
        "userIdentity": identity,
        "resources": [{"ARN": SG, "type": "AWS::EC2::SecurityGroup"}],
        "eventID": f"evt-{who}-{at.isoformat()}",
    } | fields


def aws_change(at: datetime = T, who: str = "alice", rules: TrailRules = RULES) -> AwsChange:
    r = record(at, who)
    found = classify(r, catalogue(), rules)
    return AwsChange(r["eventID"], r["eventSource"], r["eventName"], found, (SG,))


def run(
    status: str = "approved",
    kind: str = "normal",
    change: str = "CHG-42",
    start: datetime = T - 10 * M,
    end: datetime | None = T + 10 * M,
    environment: str = "production",
) -> PipelineRun:
    return PipelineRun(7, change, status, kind, environment, start, end)


def emergency(by: str = "alice@example.com", at: datetime = T + H) -> Emergency:
    return Emergency("CHG-9", by, at)


CASES = [
    ("a console change with nothing around it", "alice", (), (), None),
    (
        "the pipeline inside an approved change's deployment",
        "pipeline:chg-42-run-9001",
        (run(),),
        (),
        "deployment:7",
    ),
    (
        "the pipeline inside an emergency's deployment (not yet approved)",
        "pipeline:chg-42-run-1",
        (run(status="submitted", kind="emergency"),),
        (),
        "deployment:7",
    ),
    (
        "the pipeline deploying an unapproved normal change",
        "pipeline:chg-42-run-9001",
        (run(status="submitted"),),
        (),
        None,
    ),
    ("the pipeline naming another change", "pipeline:chg-43-run-1", (run(),), (), None),
    ("the pipeline naming no change", "pipeline:GitHubActions", (run(),), (), None),
    (
        "the pipeline after the deployment finished, past the tolerance",
        "pipeline:chg-42-run-1",
        (run(start=T - H, end=T - 16 * M),),
        (),
        None,
    ),
    (
        "the pipeline within the 15-minute tolerance after it finished",
        "pipeline:chg-42-run-1",
        (run(start=T - H, end=T - 14 * M),),
        (),
        "deployment:7",
    ),
    (
        "the pipeline during a deployment still running",
        "pipeline:chg-42-run-1",
        (run(start=T - H, end=None),),
        (),
        "deployment:7",
    ),
    (
        "the pipeline deploying to staging, the event in production",
        "pipeline:chg-42-run-1",
        (run(environment="staging"),),
        (),
        None,
    ),
    ("a person inside their emergency's window", "alice", (), (emergency(),), "change:CHG-9"),
    ("a person just outside the 4-hour window", "alice", (), (emergency(at=T + 4 * H + M),), None),
    ("someone else's emergency", "carol", (), (emergency(),), None),
    (
        "the people map names the implementer",
        "bob-admin",
        (),
        (emergency("robert@example.com"),),
        "change:CHG-9",
    ),
    (
        "a pipeline is not covered by a person's emergency",
        "pipeline:alice",
        (),
        (emergency(),),
        None,
    ),
]


def test_the_table_is_not_empty() -> None:
    assert len(CASES) > 10


@pytest.mark.parametrize(
    ("why", "who", "runs", "emergencies", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_coverage(
    why: str,
    who: str,
    runs: tuple[PipelineRun, ...],
    emergencies: tuple[Emergency, ...],
    expected: str | None,
) -> None:
    found = aws_change(who=who).found
    assert found.at is not None
    cover = covered(found.actor, found.at, found.environment, runs, emergencies, RULES, T + H)
    assert (cover.evidence if cover else None) == expected, why


def trail_facts(
    *changes: AwsChange,
    runs: tuple[PipelineRun, ...] = (),
    emergencies: tuple[Emergency, ...] = (),
    covers: tuple[Cover, ...] = (),
) -> AuditFacts:
    period = Period(
        "2026-Q3",
        datetime(2026, 7, 1, tzinfo=UTC),
        datetime(2026, 10, 1, tzinfo=UTC),
        datetime(2026, 10, 1, tzinfo=UTC),
    )
    settings = AuditSettings(calendar_from("UTC", (), "UTC"), 10, 24, False)
    return AuditFacts(
        period=period,
        settings=settings,
        covers=covers,
        trail=TrailFacts(RULES, changes, runs, emergencies),
    )


def test_a_console_change_in_production_with_no_change_is_a_finding() -> None:
    [draft] = unauthorised_aws_change(trail_facts(aws_change()))
    assert draft.rule == RULE == "CM-5.unauthorised-aws-change"
    assert draft.subject == "aws-event:evt-alice-2026-08-03T09:00:00+00:00"
    assert draft.occurred_at == T
    assert draft.attributes == {"principal": ALICE, "resource": SG, "environment": "production"}
    assert draft.summary == (
        f"AuthorizeSecurityGroupIngress (ec2.amazonaws.com) on {SG} by person alice ({ALICE}) "
        "at 2026-08-03T09:00:00+00:00 in production account 123456789012: no approved "
        "deployment, emergency change or waiver covers it"
    )


def test_the_same_change_inside_an_emergency_window_is_not() -> None:
    assert unauthorised_aws_change(trail_facts(aws_change(), emergencies=(emergency(),))) == []


def test_no_finding_outside_production_or_for_aws_itself() -> None:
    elsewhere = dataclasses.replace(RULES, accounts=(AccountMapping("123456789012", "staging"),))
    service = record(userIdentity={"type": "AWSService", "invokedBy": "ec2.amazonaws.com"})
    by_aws = AwsChange("e", "s", "n", classify(service, catalogue(), RULES))
    assert unauthorised_aws_change(trail_facts(aws_change(rules=elsewhere), by_aws)) == []


@pytest.mark.parametrize(
    ("kind", "value"), [(ScopeKind.PRINCIPAL, ALICE), (ScopeKind.RESOURCE, SG)]
)
def test_a_waiver_on_the_principal_or_the_resource_suppresses_it(
    kind: ScopeKind, value: str
) -> None:
    waiver = Cover("WVR-3", frozenset({"CM-5"}), kind, value, (Window(T - H, T + H),))
    [result] = [
        r
        for r in engine.evaluate(trail_facts(aws_change(), covers=(waiver,)))
        if r.draft.rule == RULE
    ]
    assert result.waiver == "WVR-3"


def test_a_waiver_that_has_ended_suppresses_nothing() -> None:
    waiver = Cover(
        "WVR-3", frozenset({"CM-5"}), ScopeKind.PRINCIPAL, ALICE, (Window(T - 2 * H, T - H),)
    )
    [result] = [
        r
        for r in engine.evaluate(trail_facts(aws_change(), covers=(waiver,)))
        if r.draft.rule == RULE
    ]
    assert result.waiver is None


def test_the_trail_facts_travel_in_the_evidence_package_and_reperform_the_same() -> None:
    """The auditor re-performs CM-5 from audit/facts.json: the codec carries every trail fact."""
    from changegate.services.evidence import codec

    rules = dataclasses.replace(
        RULES,
        accounts=(
            *RULES.accounts,
            AccountMapping("222222222222", "staging", frozenset({"eu-west-1"})),
        ),
    )
    facts = trail_facts(
        aws_change(),
        aws_change(T + H, "pipeline:chg-42-run-1"),
        runs=(run(), run(end=None)),
        emergencies=(emergency(at=T + 9 * H),),
    )
    facts = dataclasses.replace(facts, trail=dataclasses.replace(facts.trail, rules=rules))
    back = codec.decode(AuditFacts, json.loads(json.dumps(codec.encode(facts))))
    assert back == facts
    assert engine.digest(engine.evaluate(back)) == engine.digest(engine.evaluate(facts))
    # The pipeline's call at T+1h falls in the deployment still running: only Alice's is found.
    assert [r.draft.subject for r in engine.evaluate(back) if r.draft.rule == RULE] == [
        "aws-event:evt-alice-2026-08-03T09:00:00+00:00"
    ]
