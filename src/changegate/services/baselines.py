"""Configuration baselines: imported from IaC or adopted from observation, approved (CFG-3)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence

from changegate.db.changes import Changes
from changegate.db.configs import Configs
from changegate.db.models import Baseline, BaselineResource, Review
from changegate.domain import comparison
from changegate.domain.configuration import DeclaredResource
from changegate.domain.drift import DriftAction, DriftStatus, transition
from changegate.domain.errors import BadInput, Refused
from changegate.domain.intrinsics import pseudo_properties
from changegate.domain.users import Role
from changegate.integrations.ports import Vocabulary
from changegate.services import reviews
from changegate.services.context import Context
from changegate.services.ledger_replay_detective import resources_sha256

AUTHORS = (Role.SECURITY_ENGINEER, Role.REQUESTER, Role.ADMIN)
REPLACEABLE_BY = {"approved", "implemented", "closed"}
BASELINE_VERIFICATION = "baseline_verification"


def import_baseline(
    ctx: Context,
    name: str,
    resources: Sequence[DeclaredResource],
    source_ref: str,
    sha256: str,
    vocabulary: Vocabulary,
    physical_ids: Mapping[str, str] | None = None,
    source: str = "template",
) -> Baseline:
    """A new draft version. Each resource is keyed by its physical id where known (that is
    what Config reports), else the template's literal name, else (never matched by an
    observation: the view warns) its logical id. Each records what of it no observation can
    verify: properties AWS Config does not record for its type, values known only at deploy."""
    author = ctx.user_with(*AUTHORS)
    if not name.strip():
        raise BadInput("a baseline needs a --name")
    if not resources:
        raise BadInput(f"{source_ref} declares no resources")
    ids = physical_ids or {}
    strays = sorted(set(ids) - {r.logical_id for r in resources})
    if strays:
        raise BadInput(f"--physical names {strays[0]}, which {source_ref} does not declare")
    repo = Configs(ctx.session)
    baseline = Baseline(
        name=name.strip(),
        version=repo.latest_version(name.strip()) + 1,
        status="draft",
        source=source,
        source_ref=source_ref,
        source_sha256=sha256,
        author_id=author.id,
        created_at=ctx.now,
    )
    repo.add(baseline)
    rows = [_resource(baseline, r, ids.get(r.logical_id), vocabulary) for r in resources]
    repo.add(*rows)
    repo.analyse("baseline_resources", len(rows))
    ctx.record(
        "baseline.imported",
        f"baseline:{baseline.name}",
        {
            "version": baseline.version,
            "source": source,
            "source_ref": source_ref,
            "sha256": sha256,
            "resources": len(resources),
            "unmatched": [r.logical_id for r in rows if r.id_source == UNMATCHED],
            "unverifiable": sum(len(r.unverifiable) for r in rows),
            "resources_sha256": resources_sha256(
                [
                    (r.resource_type, r.resource_id, r.logical_id, r.properties, r.id_source)
                    for r in rows
                ]
            ),
        },
    )
    return baseline


UNMATCHED = "logical"


def _resource(
    baseline: Baseline, declared: DeclaredResource, physical: str | None, vocabulary: Vocabulary
) -> BaselineResource:
    resource_id, id_source = (
        (physical, "physical")
        if physical
        else (declared.physical_name, "name")
        if declared.physical_name
        else (declared.logical_id, UNMATCHED)
    )
    rules = vocabulary.rules(declared.resource_type)
    return BaselineResource(
        baseline_id=baseline.id,
        resource_type=declared.resource_type,
        resource_id=resource_id,
        logical_id=declared.logical_id,
        properties=dict(declared.properties),
        unverifiable=[
            {"path": u.path, "reason": u.reason}
            for u in comparison.unverifiable(declared.properties, rules)
        ],
        id_source=id_source,
        pseudo_properties=pseudo_properties(declared.properties),
    )


def adopt(
    ctx: Context, name: str, keys: Sequence[tuple[str, str]], vocabulary: Vocabulary
) -> Baseline:
    """A draft baseline from what AWS Config last observed, for resources not built from IaC
    yet: their current configuration, in CloudFormation's vocabulary and without what AWS sets
    itself (the schema's read-only properties: ARNs, ids, timestamps), becomes the declared one,
    once approved."""
    if not keys:
        raise BadInput("name at least one --resource TYPE=ID to adopt")
    observed = Configs(ctx.session).latest_observation_rows()
    declared = []
    for resource_type, resource_id in keys:
        seen = observed.get((resource_type, resource_id))
        if seen is None or seen.properties is None:
            raise BadInput(
                f"no observed configuration for {resource_type} {resource_id}"
                + (
                    ""
                    if seen is None
                    else " in CloudFormation's vocabulary (no translation for the type)"
                )
            )
        runtime = vocabulary.read_only(resource_type)
        kept = {k: v for k, v in seen.properties.items() if k not in runtime}
        declared.append(DeclaredResource(resource_id, resource_type, kept, resource_id))
    text = json.dumps([[t, i] for t, i in keys], sort_keys=True)
    return import_baseline(
        ctx,
        name,
        declared,
        "observed configuration",
        hashlib.sha256(text.encode()).hexdigest(),
        vocabulary,
        {resource_id: resource_id for _, resource_id in keys},
        source="observed",
    )


def approve(ctx: Context, name: str, version: int | None, change_key: str | None) -> Baseline:
    """CFG-3: a security engineer other than the author; replacing one needs an approved change."""
    approver = ctx.user_with(Role.SECURITY_ENGINEER)
    repo = Configs(ctx.session)
    baseline = repo.baseline(name, version)
    if baseline.status != "draft":
        raise Refused("state", f"{name} v{baseline.version} is {baseline.status}")
    if approver.id == baseline.author_id:
        raise Refused("SoD", f"{approver.email} authored {name} v{baseline.version}")
    current = [b for b in repo.baselines() if b.name == baseline.name and b.status == "approved"]
    if current:
        _check_replacing_change(ctx, change_key)
    for old in current:
        old.status = "superseded"
        _rebaseline(ctx, old)
    baseline.status, baseline.approver_id, baseline.approved_at = "approved", approver.id, ctx.now
    baseline.change_key = change_key.upper() if change_key else None
    ctx.session.flush()
    ctx.record(
        "baseline.approved",
        f"baseline:{baseline.name}",
        {
            "version": baseline.version,
            "replaces": [b.version for b in current],
            "change": baseline.change_key,
        },
    )
    return baseline


def _check_replacing_change(ctx: Context, change_key: str | None) -> None:
    if not change_key:
        raise Refused(
            "CFG-2", "replacing an approved baseline needs an approved change (--change KEY)"
        )
    change = Changes(ctx.session).get(change_key)
    if change.status not in REPLACEABLE_BY:
        raise Refused("CFG-2", f"{change.key} is {change.status}; it must be approved")


def _rebaseline(ctx: Context, old: Baseline) -> None:
    """Open drift on a replaced baseline closes: the new baseline is the approved truth."""
    ids = {r.id for r in old.resources}
    for drift in Configs(ctx.session).drifts(DriftStatus.OPEN.value):
        if drift.baseline_resource_id in ids:
            drift.status = transition(DriftStatus.OPEN, DriftAction.REBASELINE).value
            drift.closed_at = ctx.now
            ctx.record("drift.rebaselined", f"drift:{drift.id}", {"baseline": old.name})


def verify_quarter(ctx: Context, quarter: str) -> Review:
    """CFG-3: the security engineer's signed quarterly verification of baselines and drift."""
    engineer = ctx.user_with(Role.SECURITY_ENGINEER)
    name, start, end = reviews.ended_quarter(ctx, quarter, "CFG-3")
    repo = Configs(ctx.session)
    found = [d for d in repo.drifts() if start <= d.detected_at < end]
    report = {
        "quarter": name,
        "baselines": [
            {"name": b.name, "version": b.version, "resources": len(b.resources)}
            for b in repo.baselines()
            if b.status == "approved"
        ],
        "drift": {
            "found": len(found),
            "unauthorised": sum(1 for d in found if not d.authorised_by),
            "by_status": dict(Counter(d.status for d in found)),
            "late": sum(1 for d in found if d.due_at and (d.closed_at or ctx.now) > d.due_at),
            "ids": [d.id for d in found],
        },
    }
    return reviews.sign(ctx, BASELINE_VERIFICATION, engineer, name, report, "baseline.verified")
