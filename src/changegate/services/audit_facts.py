"""Load a period's records into the audit rules' plain facts (no rule logic here)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from changegate.db.audit_records import AuditRecords
from changegate.db.code_reviews import CodeReviews
from changegate.db.decisions import Decisions
from changegate.db.inventory import GONE, Inventory
from changegate.db.models import Finding
from changegate.db.workspace import Workspace
from changegate.domain import changes as change_rules
from changegate.domain.audit.facts import (
    ApprovalFact,
    AuditFacts,
    AuditSettings,
    ChangeFact,
    DeliveryFact,
    DeploymentFact,
    DriftFact,
    FindingFact,
    ObservedFact,
    Period,
    ReviewFact,
    WaiverApprovalFact,
    WaiverFact,
)
from changegate.domain.gate import Evidence
from changegate.domain.users import Role
from changegate.services import installation, testruns, trail_facts
from changegate.services import waivers as waivers_service
from changegate.services.changes import fields_of
from changegate.services.context import Context

QUARTERLY_KINDS = ("quarterly_metrics", "baseline_verification", "waiver_quarterly")
ANNUAL_KINDS = ("policy_annual", "config_annual")
UNKNOWN = "(unknown)"


def settings(ctx: Context, period: Period) -> AuditSettings:
    policy = ctx.policy
    return AuditSettings(
        calendar=policy.calendar(period.start),
        quarterly_review_business_days=policy.audits.quarterly_review_business_days,
        report_hours=policy.violations.report_hours,
        emergency_requires_tests=policy.gate.emergency_requires_tests,
        documented_tests=policy.documented_tests,
        cab_quorum={risk.value: n for risk, n in policy.approvals.cab_quorum.items()},
        iso_required=policy.approvals.iso_required,
        effective_from=_start_of(installation.effective_from(ctx), policy.timezone),
        window_rule=policy.gate.window.rule(),
    )


def _start_of(day: date | None, tz: str) -> datetime | None:
    return None if day is None else datetime.combine(day, time(0), tzinfo=ZoneInfo(tz))


def load(ctx: Context, period: Period) -> AuditFacts:
    repo = AuditRecords(ctx.session)
    people = repo.people()
    deployment_rows = repo.deployments(period.start, period.end)
    ids = repo.change_ids(period.start, period.end, {r.change_id for r in deployment_rows})
    production = frozenset(e.name for e in ctx.policy.environments if e.production)
    # As the gate reads the policy: an environment's `approval`, else whether it is production.
    approving = frozenset(
        e.name
        for e in ctx.policy.environments
        if (e.production if e.approval is None else e.approval)
    )
    changes = _changes(ctx, repo, ids, _Known(people, production))
    keys = {cid: fact.key for cid, fact in changes.items()}
    waivers = repo.waivers()
    observed, declared = inventory(ctx, period)
    return AuditFacts(
        period=period,
        settings=settings(ctx, period),
        changes={fact.key: fact for fact in changes.values()},
        deployments=tuple(
            _deployment(row, keys, people, production, approving) for row in deployment_rows
        ),
        test_runs=_test_runs(ctx, repo, ids, keys),
        reviews=tuple(_reviews(repo, people)),
        drifts=tuple(DriftFact(*row) for row in repo.drifts(period.start, period.end)),
        waivers=tuple(_waiver_facts(repo, waivers)),
        covers=tuple(waivers_service.covers_of(waivers)),
        observed=observed,
        declared=declared,
        unauthenticated=tuple(Decisions(ctx.session).unauthenticated(period.start, period.end)),
        trail=trail_facts.load(ctx, period),
    )


def inventory(
    ctx: Context, period: Period
) -> tuple[tuple[ObservedFact, ...], frozenset[tuple[str, str]]]:
    """CFG-1's facts: resources seen in production accounts, and what the baselines declare."""
    accounts = ctx.policy.production_accounts()
    if not accounts:
        return (), frozenset()
    repo = Inventory(ctx.session)
    observed = tuple(
        ObservedFact(
            s.observation_id,
            s.resource_type,
            s.resource_id,
            s.resource_name,
            s.account_id or "",
            s.region,
            s.first_seen,
            s.status in GONE,
        )
        for s in repo.observed(accounts, period.start, period.end)
    )
    return observed, repo.declared(period.as_of)


def not_checked(ctx: Context) -> list[str]:
    """Rules that had nothing to check for want of configuration, said in the run's record."""
    missing = trail_facts.not_checked(ctx)
    if ctx.policy.production_accounts():
        return missing
    return [
        "CFG-1: the policy names no production AWS account (environments[].aws_accounts, "
        "or cloudtrail.accounts without regions), so no observed resource could be held to "
        "a baseline",
        *missing,
    ]


@dataclass(frozen=True)
class _Known:
    people: dict[int, tuple[str, frozenset[str]]]
    production: frozenset[str]


def _changes(
    ctx: Context, repo: AuditRecords, ids: list[int], known: _Known
) -> dict[int, ChangeFact]:
    approvals: dict[int, list[ApprovalFact]] = defaultdict(list)
    for a_id, change_id, email, role, decision, version, at, retro in repo.approvals(ids):
        approvals[change_id].append(ApprovalFact(a_id, email, role, decision, version, at, retro))
    versions: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    for change_id, version, created_at in repo.versions(ids):
        versions[change_id].append((version, created_at))
    require_ticket = ctx.policy.changes.require_ticket
    deployed = repo.production_deployments(ids, known.production)
    out = {}
    pull_request_authors = CodeReviews(ctx.session).authors(ids)
    for c in repo.changes(ids):
        missing = change_rules.missing_for_submit(fields_of(c), require_ticket)
        implementer, roles = known.people.get(c.implemented_by_id or 0, (None, frozenset()))
        out[c.id] = ChangeFact(
            key=c.key,
            requester=c.requester.email,
            status=c.status,
            change_type=c.change_type,
            risk=c.risk,
            version=c.version,
            missing_fields=tuple(missing),
            commit_authors=tuple(sorted({*c.commit_authors, *pull_request_authors.get(c.id, ())})),
            approvals=tuple(approvals[c.id]),
            versions=tuple(sorted(versions[c.id])),
            implemented_at=c.implemented_at,
            retro_due_at=c.retro_due_at,
            retro_approved_at=c.retro_approved_at,
            pir_due_at=c.pir_due_at,
            pir_recorded_at=c.pir_recorded_at,
            production_environments=tuple(e for e in c.environments if e in known.production),
            implemented_by=implementer,
            implemented_by_pipeline=Role.PIPELINE.value in roles,
            production_deployments=deployed.get(c.id, 0),
            environments=tuple(c.environments),
            window=(c.window_start, c.window_end),
        )
    return out


def _deployment(
    row: Any,
    keys: dict[int, str],
    people: dict[int, tuple[str, frozenset[str]]],
    production: frozenset[str],
    approving: frozenset[str],
) -> DeploymentFact:
    email, roles = people.get(row.deployer_id, (UNKNOWN, frozenset()))
    return DeploymentFact(
        id=row.id,
        change_key=keys.get(row.change_id, UNKNOWN),
        environment=row.environment,
        production=row.environment in production,
        kind=row.kind,
        status=row.status,
        commit=row.commit,
        artifact=row.artifact,
        started_at=row.started_at,
        deployer=email,
        deployer_is_pipeline=Role.PIPELINE.value in roles,
        iac_path=row.iac_path,
        needs_approval=row.environment in approving,
    )


def _test_runs(
    ctx: Context, repo: AuditRecords, ids: list[int], keys: dict[int, str]
) -> dict[str, tuple[Evidence, ...]]:
    rows = repo.test_runs(ids)
    documented = (
        Workspace(ctx.session).documented_at([r.id for r in rows])
        if ctx.policy.documented_tests
        else {}
    )
    runs: dict[str, list[Evidence]] = defaultdict(list)
    for row, evidence in zip(rows, testruns.as_evidence(ctx, rows), strict=True):
        at = documented.get(row.id)
        runs[keys[row.change_id]].append(replace(evidence, documented_at=at) if at else evidence)
    return {key: tuple(found) for key, found in runs.items()}


def _reviews(repo: AuditRecords, people: dict[int, tuple[str, frozenset[str]]]) -> list[ReviewFact]:
    out = []
    for r in repo.reviews((*QUARTERLY_KINDS, *ANNUAL_KINDS)):
        field = "year" if r.kind in ANNUAL_KINDS else "quarter"
        try:
            period = str(json.loads(r.summary)[field]).upper()
        except (ValueError, KeyError, TypeError):
            continue  # a record without its period cannot satisfy a period's rule
        email, roles = people.get(r.author_id, (UNKNOWN, frozenset()))
        out.append(ReviewFact(r.id, r.kind, period, email, tuple(sorted(roles)), r.recorded_at))
    return out


def _waiver_facts(repo: AuditRecords, waivers: Any) -> list[WaiverFact]:
    votes: dict[int, list[WaiverApprovalFact]] = defaultdict(list)
    for a_id, waiver_id, round_, role, decision, email, at in repo.waiver_approvals():
        votes[waiver_id].append(WaiverApprovalFact(a_id, round_, role, decision, email, at))
    return [
        WaiverFact(
            w.key,
            w.requester.email,
            w.status,
            w.round,
            w.expires_at,
            w.reviewed_at,
            tuple(
                (round_, window.start, window.end)
                for round_, window in waivers_service.windows_of(w)
            ),
            tuple(votes[w.id]),
        )
        for w in waivers
    ]


def findings(ctx: Context, period: Period) -> tuple[FindingFact, ...]:
    repo = AuditRecords(ctx.session)
    window = timedelta(hours=ctx.policy.violations.report_hours)
    rows: list[Finding] = list(repo.findings_for_violations(period.start, period.end, window))
    deliveries: dict[str, list[DeliveryFact]] = defaultdict(list)
    for n_id, event_key, role, delivered_at in repo.deliveries([report_key(f.key) for f in rows]):
        for one in (role or "").split(","):
            deliveries[event_key].append(DeliveryFact(n_id, one or None, delivered_at))
    return tuple(
        FindingFact(
            f.key,
            f.control,
            f.rule,
            f.status,
            f.first_detected_at,
            tuple(deliveries[report_key(f.key)]),
            f.remediation_due_at,
            f.remediated_at,
        )
        for f in rows
    )


def report_key(finding_key: str) -> str:
    """The outbox event that reports a finding to the ISO and HR (VIO-1 looks for it)."""
    return f"finding.reported:{finding_key}"
