"""Observed configuration in, drift out: ingest AWS Config items, scan against baselines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from changegate.db.configs import Configs
from changegate.db.configuration import BaselineResource, Drift, Observation
from changegate.db.models import Change
from changegate.domain import drift as rules
from changegate.domain.configuration import ObservedItem
from changegate.domain.drift import ChangeRef, DriftAction, DriftStatus
from changegate.domain.users import Role
from changegate.services.context import Context

DELETED = {"ResourceDeleted", "ResourceDeletedNotRecorded"}
# How far from a change's window an observed change may fall and still be explained by it.
AUTHORISATION_SLACK = timedelta(hours=6)


@dataclass(frozen=True)
class Ingested:
    added: int
    duplicates: int


def ingest(ctx: Context, items: Sequence[ObservedItem], source: str) -> Ingested:
    ctx.user_with(Role.SECURITY_ENGINEER, Role.PIPELINE, Role.ADMIN)
    repo = Configs(ctx.session)
    added, seen = [], set()
    for item in items:
        key = (item.resource_type, item.resource_id, item.captured_at)
        if key in seen or repo.observation_exists(key[:2], item.captured_at):
            continue
        seen.add(key)
        added.append(Observation(
            resource_type=item.resource_type, resource_id=item.resource_id, arn=item.arn,
            account_id=item.account_id, region=item.region, captured_at=item.captured_at,
            status=item.status, configuration=_config_of(item), source=source,
            ingested_at=ctx.now))
    repo.add(*added)
    result = Ingested(len(added), len(items) - len(added))
    ctx.record("config.ingested", f"source:{source[:100]}",
               {"added": result.added, "duplicates": result.duplicates})
    return result


def _config_of(item: ObservedItem) -> dict[str, object] | None:
    if item.configuration is None:
        return None
    merged = dict(item.configuration)
    # CloudFormation declares some properties Config reports only as supplementary data
    # (S3 versioning, policies) or as tags; expose them under the declared names as well.
    for name, value in item.supplementary.items():
        merged.setdefault(name, value)
    merged.setdefault("Tags", [{"Key": k, "Value": v} for k, v in sorted(item.tags.items())])
    return merged


@dataclass
class ScanResult:
    checked: int = 0
    unobserved: int = 0
    opened: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    still_open: int = 0


def scan(ctx: Context) -> ScanResult:
    """Compare every approved baseline resource with its latest observation (CFG-4)."""
    ctx.user_with(Role.SECURITY_ENGINEER, Role.PIPELINE, Role.ADMIN)
    repo = Configs(ctx.session)
    observed = repo.latest_observations()
    latest = repo.latest_drifts()
    changes = [_ref(c) for c in repo.executed_changes()]
    result = ScanResult()
    for resource in repo.approved_resources():
        seen = observed.get((resource.resource_type, resource.resource_id))
        if seen is None:
            result.unobserved += 1
            continue
        result.checked += 1
        _judge(ctx, resource, seen, latest.get(resource.id), changes, result)
    ctx.record("drift.scanned", "drift", {
        "checked": result.checked, "unobserved": result.unobserved,
        "opened": result.opened, "reopened": result.reopened, "closed": result.closed})
    return result


def _ref(change: Change) -> ChangeRef:
    text = " ".join((change.title, change.scope, " ".join(change.affected_services)))
    assert change.implemented_at is not None  # the query selects executed changes only
    return ChangeRef(change.key, text.lower(), change.window_start, change.implemented_at)


def _differences(resource: BaselineResource, seen: Observation) -> list[dict[str, object]]:
    if seen.status in DELETED or seen.configuration is None:
        return [{"path": "/", "expected": "present", "actual": seen.status}]
    # A declared name equal to the resource id is its identity (BucketName vs Config's "name"),
    # and was already matched when the observation was found.
    declared = {k: v for k, v in resource.properties.items() if v != resource.resource_id}
    return [{"path": d.path, "expected": d.expected, "actual": d.actual}
            for d in rules.diff(declared, seen.configuration)]


def _judge(ctx: Context, resource: BaselineResource, seen: Observation, last: Drift | None,
           changes: list[ChangeRef], result: ScanResult) -> None:
    found = _differences(resource, seen)
    is_open = last is not None and last.status == DriftStatus.OPEN.value
    if not found:
        if is_open and last is not None:
            _close(ctx, last, seen)
            result.closed.append(last.id)
        return
    if is_open:
        result.still_open += 1
        return
    names = [resource.resource_id, seen.arn or "", resource.logical_id or ""]
    authorised = rules.authorising_change(names, seen.captured_at, changes, AUTHORISATION_SLACK)
    if last is not None and last.observation_id == seen.id:
        return  # this observation was already judged (e.g. a rebaselined drift)
    drift = _open(ctx, resource, seen, found, authorised, last)
    (result.reopened if last is not None else result.opened).append(drift.id)


def _open(ctx: Context, resource: BaselineResource, seen: Observation,
          found: list[dict[str, object]], authorised: str | None, last: Drift | None) -> Drift:
    hours = ctx.policy.drift.remediation_hours
    drift = Drift(baseline_resource_id=resource.id, resource_type=resource.resource_type,
                  resource_id=resource.resource_id, status=DriftStatus.OPEN.value,
                  observation_id=seen.id, differences=found, authorised_by=authorised,
                  detected_at=ctx.now,
                  due_at=None if authorised else rules.due_at(ctx.now, hours),
                  reopened=(last.reopened + 1) if last is not None else 0)
    if last is not None:
        rules.transition(DriftStatus(last.status), DriftAction.REDRIFT)
    Configs(ctx.session).add(drift)
    ctx.record("drift.reopened" if last else "drift.opened", f"drift:{drift.id}", {
        "resource_type": drift.resource_type, "resource_id": drift.resource_id,
        "differences": found, "authorised_by": authorised,
        "due_at": drift.due_at.isoformat() if drift.due_at else None})
    return drift


def _close(ctx: Context, drift: Drift, seen: Observation) -> None:
    drift.status = rules.transition(DriftStatus.OPEN, DriftAction.MATCH).value
    drift.closed_at = max(seen.captured_at, drift.detected_at)
    drift.remediation_seconds = (drift.closed_at - drift.detected_at).total_seconds()
    ctx.record("drift.remediated", f"drift:{drift.id}", {
        "observation_id": seen.id, "remediation_seconds": drift.remediation_seconds,
        "late": bool(drift.due_at and drift.closed_at > drift.due_at)})


def list_drifts(ctx: Context, status: str | None = None) -> list[Drift]:
    return list(Configs(ctx.session).drifts(status))


def get(ctx: Context, drift_id: int) -> Drift:
    return Configs(ctx.session).drift(drift_id)
