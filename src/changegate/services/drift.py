"""Observed configuration in, drift out: ingest AWS Config items, scan against baselines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from changegate.db.configs import Configs, ObservationRow, ResourceRow
from changegate.db.configuration import Drift, Observation
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
    known = repo.known_captures({(i.resource_type, i.resource_id) for i in items})
    added = []
    for item in items:
        key = (item.resource_type, item.resource_id, item.captured_at)
        if key in known:
            continue
        known.add(key)
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


@dataclass
class _Scan:
    ctx: Context
    changes: list[ChangeRef]
    result: ScanResult = field(default_factory=ScanResult)
    new: list[Drift] = field(default_factory=list)
    events: list[dict[str, object]] = field(default_factory=list)


def scan(ctx: Context) -> ScanResult:
    """Compare every approved baseline resource with its latest observation (CFG-4).

    Rows are read as plain tuples and every write is batched: at 100,000 resources, ORM objects
    and one ledger record per drift were most of the cost. The scan's single ledger record
    lists each drift it opened, reopened or closed, with its differences.
    """
    ctx.user_with(Role.SECURITY_ENGINEER, Role.PIPELINE, Role.ADMIN)
    repo = Configs(ctx.session)
    observed = repo.latest_observation_rows()
    latest = repo.latest_drifts()
    run = _Scan(ctx, [_ref(c) for c in repo.executed_changes()])
    for resource in repo.approved_resource_rows():
        seen = observed.get((resource.resource_type, resource.resource_id))
        if seen is None:
            run.result.unobserved += 1
            continue
        run.result.checked += 1
        _judge(run, resource, seen, latest.get(resource.id))
    repo.add(*run.new)
    result = run.result
    for drift in run.new:
        (result.reopened if drift.reopened else result.opened).append(drift.id)
        run.events.append(_opened_event(drift))
    ctx.session.flush()
    ctx.record("drift.scanned", "drift", {
        "checked": result.checked, "unobserved": result.unobserved,
        "still_open": result.still_open, "events": run.events})
    return result


def _ref(change: Change) -> ChangeRef:
    text = " ".join((change.title, change.scope, " ".join(change.affected_services)))
    assert change.implemented_at is not None  # the query selects executed changes only
    return ChangeRef(change.key, text.lower(), change.window_start, change.implemented_at)


def _differences(resource: ResourceRow, seen: ObservationRow) -> list[dict[str, object]]:
    if seen.status in DELETED or seen.configuration is None:
        return [{"path": "/", "expected": "present", "actual": seen.status}]
    # A declared name equal to the resource id is its identity (BucketName vs Config's "name"),
    # and was already matched when the observation was found.
    declared = {k: v for k, v in resource.properties.items() if v != resource.resource_id}
    return [{"path": d.path, "expected": d.expected, "actual": d.actual}
            for d in rules.diff(declared, seen.configuration)]


def _judge(run: _Scan, resource: ResourceRow, seen: ObservationRow, last: Drift | None) -> None:
    found = _differences(resource, seen)
    is_open = last is not None and last.status == DriftStatus.OPEN.value
    if not found:
        if is_open and last is not None:
            _close(run, last, seen)
        return
    if is_open:
        run.result.still_open += 1
        return
    if last is not None and last.observation_id == seen.id:
        return  # this observation was already judged (e.g. a rebaselined drift)
    names = [resource.resource_id, seen.arn or "", resource.logical_id or ""]
    authorised = rules.authorising_change(names, seen.captured_at, run.changes,
                                          AUTHORISATION_SLACK)
    run.new.append(_open(run.ctx, resource, seen, found, authorised, last))


def _open(ctx: Context, resource: ResourceRow, seen: ObservationRow,
          found: list[dict[str, object]], authorised: str | None, last: Drift | None) -> Drift:
    if last is not None:
        rules.transition(DriftStatus(last.status), DriftAction.REDRIFT)
    hours = ctx.policy.drift.remediation_hours
    return Drift(baseline_resource_id=resource.id, resource_type=resource.resource_type,
                 resource_id=resource.resource_id, status=DriftStatus.OPEN.value,
                 observation_id=seen.id, differences=found, authorised_by=authorised,
                 detected_at=ctx.now,
                 due_at=None if authorised else rules.due_at(ctx.now, hours),
                 reopened=(last.reopened + 1) if last is not None else 0)


def _opened_event(drift: Drift) -> dict[str, object]:
    return {"drift": drift.id, "event": "reopened" if drift.reopened else "opened",
            "resource_type": drift.resource_type, "resource_id": drift.resource_id,
            "differences": drift.differences, "authorised_by": drift.authorised_by,
            "due_at": drift.due_at.isoformat() if drift.due_at else None}


def _close(run: _Scan, drift: Drift, seen: ObservationRow) -> None:
    drift.status = rules.transition(DriftStatus.OPEN, DriftAction.MATCH).value
    drift.closed_at = max(seen.captured_at, drift.detected_at)
    drift.remediation_seconds = (drift.closed_at - drift.detected_at).total_seconds()
    run.result.closed.append(drift.id)
    run.events.append({"drift": drift.id, "event": "remediated", "observation_id": seen.id,
                       "remediation_seconds": drift.remediation_seconds,
                       "late": bool(drift.due_at and drift.closed_at > drift.due_at)})

def list_drifts(ctx: Context, status: str | None = None) -> list[Drift]:
    return list(Configs(ctx.session).drifts(status))


def get(ctx: Context, drift_id: int) -> Drift:
    return Configs(ctx.session).drift(drift_id)
