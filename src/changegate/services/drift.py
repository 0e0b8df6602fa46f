"""Observed configuration in, drift out: ingest AWS Config items, scan against baselines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from changegate.db.configs import Configs, DriftRow, ObservationRow, ResourceRow, ScanTarget
from changegate.db.models import Change
from changegate.domain import drift as rules
from changegate.domain.comparison import compare
from changegate.domain.configuration import CLOUDFORMATION, ObservedItem
from changegate.domain.drift import ChangeRef, DriftAction, DriftStatus, Verdict
from changegate.domain.intrinsics import Environment, bind
from changegate.domain.users import Role
from changegate.integrations.ports import Vocabulary
from changegate.services.context import Context

DELETED = {"ResourceDeleted", "ResourceDeletedNotRecorded"}
# How far from a change's window an observed change may fall and still be explained by it.
AUTHORISATION_SLACK = timedelta(hours=6)
SCANNED = "drift.scanned"


@dataclass(frozen=True)
class Ingested:
    added: int
    duplicates: int


def ingest(
    ctx: Context, items: Sequence[ObservedItem], source: str, vocabulary: Vocabulary
) -> Ingested:
    """Store each item once (type, id, capture time), with its properties translated into
    CloudFormation's vocabulary, which is what a scan compares with the baselines."""
    ctx.user_with(Role.SECURITY_ENGINEER, Role.PIPELINE, Role.ADMIN)
    repo = Configs(ctx.session)
    # Overlapping ingests would commit observation ids out of order (see the repository).
    repo.serialise_observation_writes()
    seen: set[tuple[str, str, datetime]] = set()
    rows: list[dict[str, object]] = []
    for item in items:
        key = (item.resource_type, item.resource_id, item.captured_at)
        if key in seen:
            continue
        seen.add(key)
        rows.append(
            {
                "resource_type": item.resource_type,
                "resource_id": item.resource_id,
                "resource_name": item.resource_name,
                "arn": item.arn,
                "account_id": item.account_id,
                "region": item.region,
                "captured_at": item.captured_at,
                "status": item.status,
                "configuration": item.configuration,
                "properties": None if item.configuration is None else vocabulary.translate(item),
                "shape": item.shape,
                "diff": item.diff,
                "source": source,
                "ingested_at": ctx.now,
            }
        )
    added = repo.add_observations(rows)  # skips those already stored
    repo.analyse("observations", added)
    result = Ingested(added, len(items) - added)
    ctx.record(
        "config.ingested",
        f"source:{source[:100]}",
        {"added": result.added, "duplicates": result.duplicates},
    )
    return result


@dataclass
class ScanResult:
    checked: int = 0
    unobserved: int = 0
    opened: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    still_open: int = 0
    compared: int = 0  # of `checked`, those new or re-baselined since the last scan (or all)
    # Declared properties of the compared resources that their observation cannot confirm.
    unverifiable: int = 0


@dataclass(frozen=True)
class Mark:
    """How far a scan looked: observations up to this id, and these approved baselines."""

    observation_id: int
    baselines: tuple[int, ...]


@dataclass
class _Scan:
    ctx: Context
    changes: list[ChangeRef]
    vocabulary: Vocabulary
    result: ScanResult = field(default_factory=ScanResult)
    compared: int = 0
    was_open: int = 0  # compared resources whose drift was open before this scan
    new: list[tuple[dict[str, object], dict[str, object]]] = field(default_factory=list)
    closing: list[dict[str, object]] = field(default_factory=list)
    events: list[dict[str, object]] = field(default_factory=list)


def scan(ctx: Context, vocabulary: Vocabulary, full: bool = False) -> ScanResult:
    """Compare approved baseline resources with their latest observations (CFG-4).

    Incremental: a resource's verdict depends only on its declared properties, its latest
    observation and its newest drift, and only scans open or close drift (replacing a baseline
    closes its drift too, but its resources then leave the approved set), so a resource whose
    observation and baseline are as the last scan saw them would get the same verdict again.
    Time alone changes nothing: a drift's lateness is worked out when it closes.
    Only resources observed since the last scan's mark, or in a baseline approved since, are
    compared; the counts still cover every resource. `full` compares them all (e.g. after the
    comparison rules change). Rows are streamed and writes batched; the scan's single ledger
    record lists each drift it opened, reopened or closed, and the mark the next scan starts at.
    """
    ctx.user_with(Role.SECURITY_ENGINEER, Role.PIPELINE, Role.ADMIN)
    repo = Configs(ctx.session)
    repo.serialise_scans()
    since = None if full else _last_mark(repo)
    # Read before the rows: anything committed later is above it, so the next scan compares it.
    mark = Mark(repo.newest_observation_id(), tuple(repo.approved_baseline_ids()))
    run = _Scan(ctx, [_ref(c) for c in repo.executed_changes()], vocabulary)
    targets = (
        repo.scan_targets(since.observation_id, since.baselines) if since else repo.scan_targets()
    )
    for target in targets:
        _visit(run, target)
    result = run.result
    if since is not None:
        totals = repo.scan_totals()  # before writing: `open` must not count what this scan opens
        result.checked, result.unobserved = totals.observed, totals.approved - totals.observed
        result.still_open += totals.open - run.was_open  # unchanged, so still differing
    result.compared = run.compared
    _persist(run, repo)
    ctx.record(
        SCANNED,
        "drift",
        {
            "checked": result.checked,
            "unobserved": result.unobserved,
            "still_open": result.still_open,
            "unverifiable": result.unverifiable,
            "events": run.events,
            "coverage": {
                "full": since is None,
                "compared": run.compared,
                "observations_after": since.observation_id if since else None,
                "observations_through": mark.observation_id,
                "baselines": list(mark.baselines),
            },
        },
    )
    return result


def _last_mark(repo: Configs) -> Mark | None:
    """The mark of the newest scan; None (compare everything) before the first, or if that
    scan predates marks."""
    payload = repo.last_payload(SCANNED)
    coverage = json.loads(payload).get("coverage") if payload else None
    if not isinstance(coverage, dict):
        return None
    return Mark(int(coverage["observations_through"]), tuple(int(b) for b in coverage["baselines"]))


def _visit(run: _Scan, target: ScanTarget) -> None:
    resource, seen, last = target
    if seen is None:
        run.result.unobserved += 1
        return
    run.result.checked += 1
    run.compared += 1
    status = DriftStatus(last.status) if last is not None else None
    run.was_open += status is DriftStatus.OPEN
    found = _differences(run, resource, seen)
    verdict = rules.judge(bool(found), status, last.observation_id if last else None, seen.id)
    if verdict is Verdict.CLOSE and last is not None:
        _close(run, last, seen)
    elif verdict is Verdict.STILL_OPEN:
        run.result.still_open += 1
    elif verdict is Verdict.OPEN:
        _open(run, resource, seen, found, last)


def _ref(change: Change) -> ChangeRef:
    text = " ".join((change.title, change.scope, " ".join(change.affected_services)))
    assert change.implemented_at is not None  # the query selects executed changes only
    return ChangeRef(change.key, rules.words(text), change.window_start, change.implemented_at)


def _differences(
    run: _Scan, resource: ResourceRow, seen: ObservationRow
) -> list[dict[str, object]]:
    if seen.status in DELETED:
        return [{"path": "/", "expected": "present", "actual": seen.status}]
    if seen.properties is None:  # no translation for the type: nothing can be verified
        run.result.unverifiable += len(resource.properties)
        return []
    names = resource.pseudo_properties
    declared = (
        bind(resource.properties, names, _pseudo(seen)) if names != [] else resource.properties
    )
    found = compare(
        declared,
        seen.properties,
        run.vocabulary.rules(resource.resource_type, seen.shape == CLOUDFORMATION),
    )
    run.result.unverifiable += len(found.unverifiable)
    return [{"path": d.path, "expected": d.expected, "actual": d.actual} for d in found.differences]


def _pseudo(seen: ObservationRow) -> Environment:
    """The pseudo parameters an observation tells: its account, region and their partition."""
    region = seen.region if seen.region and seen.region != "global" else None
    partition = (
        "aws-cn"
        if region and region.startswith("cn-")
        else ("aws-us-gov" if region and region.startswith("us-gov-") else "aws")
    )
    known: dict[str, object] = {"AWS::Partition": partition}
    if seen.account_id:
        known["AWS::AccountId"] = seen.account_id
    if region:
        known["AWS::Region"] = region
        known["AWS::URLSuffix"] = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return Environment(pseudo=known)


def _open(
    run: _Scan,
    resource: ResourceRow,
    seen: ObservationRow,
    found: list[dict[str, object]],
    last: DriftRow | None,
) -> None:
    if last is not None:
        rules.transition(DriftStatus(last.status), DriftAction.REDRIFT)
    names = [resource.resource_id, seen.arn or "", resource.logical_id or ""]
    authorised = rules.authorising_change(names, seen.captured_at, run.changes, AUTHORISATION_SLACK)
    now, hours = run.ctx.now, run.ctx.policy.drift.remediation_hours
    due = None if authorised else rules.due_at(now, hours)
    row: dict[str, object] = {
        "baseline_resource_id": resource.id,
        "resource_type": resource.resource_type,
        "resource_id": resource.resource_id,
        "status": DriftStatus.OPEN.value,
        "observation_id": seen.id,
        "differences": found,
        "authorised_by": authorised,
        "detected_at": now,
        "due_at": due,
        "closed_at": None,
        "remediation_seconds": None,
        "reopened": (last.reopened + 1) if last is not None else 0,
    }
    event: dict[str, object] = {
        "event": "reopened" if last is not None else "opened",
        "resource_type": resource.resource_type,
        "resource_id": resource.resource_id,
        "differences": found,
        "authorised_by": authorised,
        "due_at": due.isoformat() if due else None,
        # What `ledger verify --state` re-derives the row from (issue 12).
        "baseline_resource_id": resource.id,
        "observation_id": seen.id,
        "reopened": row["reopened"],
    }
    run.new.append((row, event))


def _close(run: _Scan, drift: DriftRow, seen: ObservationRow) -> None:
    status = rules.transition(DriftStatus.OPEN, DriftAction.MATCH).value
    closed_at = max(seen.captured_at, drift.detected_at)
    seconds = (closed_at - drift.detected_at).total_seconds()
    run.closing.append(
        {
            "drift": drift.id,
            "read_version": drift.lock_version,
            "new_status": status,
            "closed": closed_at,
            "seconds": seconds,
        }
    )
    run.result.closed.append(drift.id)
    run.events.append(
        {
            "drift": drift.id,
            "event": "remediated",
            "observation_id": seen.id,
            "remediation_seconds": seconds,
            "closed_at": closed_at.isoformat(),
            "late": bool(drift.due_at and closed_at > drift.due_at),
        }
    )


def _persist(run: _Scan, repo: Configs) -> None:
    repo.close_drifts(run.closing)
    ids = repo.insert_drifts([row for row, _ in run.new])
    repo.analyse("drifts", len(ids) + len(run.closing))
    for drift_id, (_, event) in zip(ids, run.new, strict=True):
        reopened = event["event"] == "reopened"
        (run.result.reopened if reopened else run.result.opened).append(drift_id)
        run.events.append({"drift": drift_id} | event)
