"""The deployment gate as a use case: gather the facts, decide, record the decision."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from changegate.db.changes import Changes
from changegate.db.models import Approval, Change, GateDecisionRecord
from changegate.db.pipeline import Pipeline
from changegate.db.workspace import Workspace
from changegate.domain import changes as rules
from changegate.domain import gate
from changegate.domain.changes import ChangeStatus, ChangeType
from changegate.domain.errors import BadInput, NotFound
from changegate.domain.users import Role
from changegate.policy import Environment
from changegate.services import testruns, waivers
from changegate.services.approvals import current_tally
from changegate.services.changes import fields_of
from changegate.services.context import Context
from changegate.services.testruns import check_commit

UNKNOWN = "(none)"


def change_facts(ctx: Context, change: Change, approvals: Sequence[Approval]) -> gate.ChangeFacts:
    result = current_tally(ctx, change, approvals)
    missing = rules.missing_for_submit(fields_of(change), ctx.policy.changes.require_ticket)
    return gate.ChangeFacts(
        key=change.key,
        status=ChangeStatus(change.status),
        change_type=ChangeType(change.change_type),
        version=change.version,
        missing_fields=tuple(missing),
        approvals_complete=result.complete,
        awaiting=tuple(result.missing()),
        justification=change.justification,
        environments=tuple(change.environments),
        window_start=change.window_start,
        window_end=change.window_end,
    )


def evidence(ctx: Context, change: Change) -> list[gate.Evidence]:
    runs = Pipeline(ctx.session).evidence(change)
    found = testruns.as_evidence(ctx, runs)
    if not ctx.policy.documented_tests:
        return found
    # CM-4 "documented in Google Workspace": a run filed there or with a verified Doc.
    documented = Workspace(ctx.session).documented([r.id for r in runs])
    return [replace(e, documented=e.id in documented) for e in found]


def check(
    ctx: Context,
    key: str | None,
    environment: str,
    commit: str,
    artifact: str | None = None,
    source: str = "api",
    answer_unknown_environment: bool = False,
) -> GateDecisionRecord:
    """`key` None: the caller could not name a change; that is recorded as a CM-1 denial.
    An environment the policy does not define is bad input, unless the caller must get an
    answer whatever it asks (GitHub waits for one): then it is a recorded denial."""
    principal = ctx.user()
    sha = check_commit(commit)
    env, known = _environment(ctx, environment, answer_unknown_environment)
    change: Change | None = None
    decisions: Sequence[Approval] = ()
    if key is not None:
        try:
            change, decisions = Changes(ctx.session).with_approvals(key)
        except NotFound:
            change = None
    request = gate.GateRequest(
        env.name,
        env.production,
        sha,
        artifact or None,
        principal.email,
        Role.PIPELINE.value in principal.role_names,
        ctx.now,
        known,
        env.approval,
        env.tests,
    )
    facts = gate.GateFacts(
        request,
        change_facts(ctx, change, decisions) if change else None,
        evidence(ctx, change) if change else (),
        ctx.policy.freezes(),
        ctx.policy.gate.emergency_requires_tests,
        window_rule=ctx.policy.gate.window.rule(),
        documented_tests=ctx.policy.documented_tests,
    )
    decision = gate.decide(facts)
    if not decision.allowed and change is not None:
        # Waivers matter only to a denial: the allowed path (the common one) skips the lookup.
        covers = waivers.covers(ctx)
        if covers:
            facts = replace(facts, covers=tuple(covers))
            decision = gate.decide(facts)
    record = GateDecisionRecord(
        change_id=change.id if change else None,
        change_key=key.strip().upper() if key else UNKNOWN,
        environment=env.name,
        commit=sha,
        artifact=request.artifact,
        principal=principal.email,
        allowed=decision.allowed,
        reasons=[reason_record(r) for r in decision.reasons],
        obligations=list(decision.obligations),
        inputs=_inputs(facts, decision),
        policy_digest=ctx.policy.digest(),
        source=source,
        decided_at=ctx.now,
    )
    Pipeline(ctx.session).add(record)
    ctx.record(
        "gate.allowed" if decision.allowed else "gate.denied",
        record.change_key,
        {
            "decision_id": record.id,
            "environment": env.name,
            "commit": sha,
            "artifact": request.artifact,
            "reasons": record.reasons,
            "obligations": record.obligations,
            "policy_digest": record.policy_digest,
            "source": source,
        },
    )
    return record


def reason_record(r: gate.Reason) -> dict[str, object]:
    # What `dataclasses.asdict` gives, without its deep copy (a tenth of a millisecond a call).
    return {"control": r.control, "ok": r.ok, "message": r.message, "waiver": r.waiver}


def _environment(ctx: Context, name: str, answer_unknown: bool) -> tuple[Environment, bool]:
    try:
        return ctx.policy.environment(name), True
    except BadInput:
        if not answer_unknown:
            raise
    # Treated as production: an unknown target gets the strictest reading (fail closed).
    shown = " ".join(name.split())[:40] or "(none)"
    return Environment.model_construct(name=shown, isolated=False, production=True), False


def _inputs(facts: gate.GateFacts, decision: gate.GateDecision) -> dict[str, object]:
    """What the decision saw, so an auditor can re-perform it from the record alone."""
    change = facts.change
    documented = (
        {"evidence_documented": [e.id for e in facts.evidence if e.documented]}
        if facts.documented_tests
        else {}
    )
    return documented | {
        "production": facts.request.production,
        "requires_approval": facts.request.approval_required,
        "requires_tests": facts.request.tests_required,
        "principal_is_pipeline": facts.request.principal_is_pipeline,
        "change": None
        if change is None
        else {
            "status": change.status.value,
            "type": change.change_type.value,
            "version": change.version,
            "missing_fields": list(change.missing_fields),
            "approvals_complete": change.approvals_complete,
            "awaiting": list(change.awaiting),
            "environments": list(change.environments),
            "window": [
                w.isoformat() if w else None for w in (change.window_start, change.window_end)
            ],
        },
        "evidence_considered": [e.id for e in facts.evidence],
        "evidence_used": decision.evidence_id,
        "waivers_applied": sorted({r.waiver for r in decision.reasons if r.waiver}),
        "freezes": [
            f.name for f in facts.freezes if f.covers(facts.request.environment, facts.request.now)
        ],
    }
