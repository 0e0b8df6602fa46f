"""CM-5's coverage rule for one production change event: what makes it authorised.

In order: (a) a pipeline deployment of an approved (or emergency) change whose role session
names that change and whose window holds the event; (b) an emergency change its implementer
recorded within `emergency_window` of the event. A waiver (c) is the audit engine's, as for
every finding: the rule reports the event and the engine marks the waiver that covers it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from changegate.domain.trail.actors import Actor, ActorKind, TrailRules
from changegate.domain.trail.classify import Classified

# A change in one of these states was approved (a pipeline may deploy it).
APPROVED = frozenset({"approved", "implemented", "closed"})


@dataclass(frozen=True)
class PipelineRun:
    """A deployment the pipeline recorded, as coverage needs it."""

    id: int
    change: str
    change_status: str
    change_type: str  # "normal" | "emergency"
    environment: str
    started_at: datetime
    finished_at: datetime | None  # None: still running (the window is open to `now`)


@dataclass(frozen=True)
class Emergency:
    """An emergency change someone recorded as implemented (by hand, by definition)."""

    change: str
    implemented_by: str  # email
    implemented_at: datetime


def by_change(runs: Iterable[PipelineRun]) -> dict[str, tuple[PipelineRun, ...]]:
    """The runs of each change: an event is judged against its own change's deployments only,
    so judging many events costs the events, not the events times every deployment."""
    grouped: dict[str, list[PipelineRun]] = {}
    for run in runs:
        grouped.setdefault(run.change, []).append(run)
    return {change: tuple(found) for change, found in grouped.items()}


@dataclass(frozen=True)
class Cover:
    by: str  # "deployment" | "emergency"
    change: str
    evidence: str  # "deployment:45", "change:CHG-9"


def covered(
    who: Actor,
    at: datetime,
    environment: str | None,
    runs: Iterable[PipelineRun],
    emergencies: Iterable[Emergency],
    rules: TrailRules,
    now: datetime,
) -> Cover | None:
    """The first cover of a change event `who` made at `at`, or None (a finding)."""
    if who.kind is ActorKind.PIPELINE and who.change:
        for run in sorted(runs, key=lambda r: (r.started_at, r.id)):
            if _run_covers(run, who.change, at, environment, rules, now):
                return Cover("deployment", run.change, f"deployment:{run.id}")
    window = rules.emergency_window
    for e in sorted(emergencies, key=lambda e: (e.implemented_at, e.change)):
        near = e.implemented_at - window <= at <= e.implemented_at + window
        if near and same_person(who, e.implemented_by, rules):
            return Cover("emergency", e.change, f"change:{e.change}")
    return None


def _run_covers(
    run: PipelineRun,
    change: str,
    at: datetime,
    environment: str | None,
    rules: TrailRules,
    now: datetime,
) -> bool:
    if run.change != change or (environment is not None and run.environment != environment):
        return False
    if run.change_type != "emergency" and run.change_status not in APPROVED:
        return False
    slack = rules.pipeline_tolerance
    return run.started_at - slack <= at <= (run.finished_at or now) + slack


def same_person(who: Actor, email: str, rules: TrailRules) -> bool:
    """Whether the AWS caller is the changegate user `email`: through the policy's `people`
    map where it names the principal or the name, else by name (the whole email, as IAM
    Identity Center sessions carry it, or its local part, as IAM user names often are)."""
    if who.kind not in (ActorKind.PERSON, ActorKind.UNKNOWN):
        return False
    wanted = email.casefold()
    for key in (who.principal.casefold(), who.name.casefold()):
        if key in rules.people:
            return rules.people[key].casefold() == wanted
    name = who.name.casefold()
    return name == wanted or name == wanted.partition("@")[0]


@dataclass(frozen=True)
class AwsChange:
    """A production change event as the audit reads it: re-classified from the stored record
    under the policy in force, with the resources the record names."""

    event_id: str
    source: str  # eventSource, e.g. "ec2.amazonaws.com"
    name: str  # eventName, e.g. "AuthorizeSecurityGroupIngress"
    found: Classified
    resources: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrailFacts:
    """CM-5's CloudTrail facts for a period (services/trail_facts.py loads them)."""

    rules: TrailRules = field(default_factory=TrailRules)
    changes: tuple[AwsChange, ...] = ()
    runs: tuple[PipelineRun, ...] = ()
    emergencies: tuple[Emergency, ...] = ()


def attributes(change: AwsChange) -> dict[str, str]:
    """What a waiver's scope can match (domain/waivers.py ScopeKind): the principal (an IAM
    user's or root's ARN, a session's role ARN), the first resource the record names, the
    environment."""
    out = {"principal": change.found.actor.principal}
    if change.resources:
        out["resource"] = change.resources[0]
    if change.found.environment:
        out["environment"] = change.found.environment
    return out
