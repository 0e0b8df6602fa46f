"""Audit rules for the change-management controls CM-1 to CM-5 (DESIGN.md section 3).

Each rule re-performs, over every record, the check the gate or the approval flow made (or should
have made) at the time, so a bypassed or mis-configured preventive control still shows up here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from changegate.domain import wording
from changegate.domain.approvals import ApprovalRole, Decision, Quorum, Tally, Vote, tally
from changegate.domain.audit.facts import (
    ApprovalFact,
    AuditFacts,
    AuditSettings,
    ChangeFact,
    DeploymentFact,
    Draft,
    overdue,
)
from changegate.domain.gate import newest_evidence

APPROVED = Decision.APPROVED.value
ROLES = frozenset(r.value for r in ApprovalRole)


def deployment_attributes(d: DeploymentFact) -> dict[str, str]:
    # Every scope a waiver may name for a deployment: its change, where it went, who ran it.
    return {"change": d.change_key, "environment": d.environment, "principal": d.deployer}


def deployment_draft(
    d: DeploymentFact, control: str, slug: str, summary: str, evidence: Iterable[str] = ()
) -> Draft:
    return Draft(
        control=control,
        rule=f"{control}.{slug}",
        subject=f"deployment:{d.id}",
        summary=summary,
        evidence=(f"deployment:{d.id}", f"change:{d.change_key}", *evidence),
        occurred_at=d.started_at,
        attributes=deployment_attributes(d),
    )


def _production_deploys(facts: AuditFacts) -> list[DeploymentFact]:
    # Rollbacks restore a state that was already approved and tested; CM-2/CM-4 govern deploys.
    return [d for d in facts.deployments if d.production and d.kind == "deploy"]


# --- CM-1 --------------------------------------------------------------------------------------


def incomplete_request(facts: AuditFacts) -> list[Draft]:
    """CM-1: every deployment, to any environment, traces to a complete, submitted request."""
    out = []
    for d in facts.deployments:
        change = facts.changes.get(d.change_key)
        if change is None:
            problem = "an unknown change request"
        elif change.missing_fields:
            problem = f"an incomplete request (missing {', '.join(change.missing_fields)})"
        elif change.status == "draft":
            problem = "a request that was never submitted"
        else:
            continue
        out.append(
            deployment_draft(
                d,
                "CM-1",
                "incomplete-request",
                f"deployment #{d.id} to {d.environment} references {problem}: {d.change_key}",
            )
        )
    return out


# --- CM-2 --------------------------------------------------------------------------------------


def version_at(change: ChangeFact, at: datetime) -> int:
    """The version current at `at`: approvals of any other version do not count for it."""
    created = [v for v, created_at in change.versions if created_at <= at]
    return max(created, default=change.version)


def quorum_for(settings: AuditSettings, risk: str) -> Quorum:
    # An unknown risk gets the strictest quorum the policy knows: the audit must not under-ask.
    cab = settings.cab_quorum.get(risk, max(settings.cab_quorum.values(), default=1))
    return Quorum(cab, settings.iso_required)


def _tally_at(change: ChangeFact, version: int, at: datetime, quorum: Quorum) -> Tally:
    """The tally as it stood at `at`, with segregation of duties re-applied to every vote."""
    barred = {change.requester, *change.commit_authors}
    seen: set[str] = set()
    votes = []
    for a in sorted(change.approvals, key=lambda a: (a.decided_at, a.id)):
        if a.version != version or a.decided_at > at or a.role not in ROLES:
            continue
        if a.decision == APPROVED and (a.approver in barred or a.approver in seen):
            continue  # one person counts once; the requester and the authors not at all
        seen.add(a.approver)
        decision = Decision.APPROVED if a.decision == APPROVED else Decision.REJECTED
        votes.append(Vote(a.approver, ApprovalRole(a.role), decision, version))
    return tally(votes, version, quorum)


def deployed_before_approval(facts: AuditFacts) -> list[Draft]:
    """CM-2: a normal change reaches production only with a complete quorum of its version."""
    out = []
    for d in _production_deploys(facts):
        change = facts.changes.get(d.change_key)
        if change is None or change.change_type != "normal":
            continue  # unknown requests are CM-1's finding; emergencies are CM-3's
        version = version_at(change, d.started_at)
        result = _tally_at(change, version, d.started_at, quorum_for(facts.settings, change.risk))
        if result.complete:
            continue
        lacking = (
            f"rejected by {result.rejected_by}"
            if result.rejected_by
            else "still needed " + " and ".join(result.missing())
        )
        existing = sorted(
            a.id for a in change.approvals if a.version == version and a.decided_at <= d.started_at
        )
        out.append(
            deployment_draft(
                d,
                "CM-2",
                "deployed-before-approval",
                f"deployment #{d.id} of {change.key} v{version} started before approval: {lacking}",
                [f"approval:{i}" for i in existing],
            )
        )
    return out


def _self_approvals(change: ChangeFact) -> list[tuple[ApprovalFact, str, tuple[str, ...]]]:
    """(approval, why, other evidence) for each approval segregation of duties forbids."""
    found: list[tuple[ApprovalFact, str, tuple[str, ...]]] = []
    first_role: dict[tuple[str, int], ApprovalFact] = {}
    for a in sorted(change.approvals, key=lambda a: (a.decided_at, a.id)):
        if a.decision != APPROVED:
            continue
        if a.approver == change.requester:
            found.append((a, f"{a.approver} requested {change.key}", ()))
        elif a.approver in change.commit_authors:
            found.append(
                (a, f"{a.approver} authored {change.key} (its commits or pull requests)", ())
            )
        earlier = first_role.setdefault((a.approver, a.version), a)
        # The later of the two is the one that made one person count as both CAB and ISO.
        if earlier is not a and earlier.role != a.role:
            found.append(
                (
                    a,
                    f"{a.approver} approved v{a.version} as both {earlier.role} and {a.role}",
                    (f"approval:{earlier.id}",),
                )
            )
    return found


def self_approval(facts: AuditFacts) -> list[Draft]:
    """CM-2 segregation of duties: requesters and authors never approve; one person, one role."""
    out = []
    for change in facts.changes.values():
        for a, why, extra in _self_approvals(change):
            out.append(
                Draft(
                    control="CM-2",
                    rule="CM-2.self-approval",
                    subject=f"approval:{a.id}",
                    summary=f"approval #{a.id} of {change.key} breaks segregation of duties: {why}",
                    evidence=(f"approval:{a.id}", f"change:{change.key}", *extra),
                    occurred_at=a.decided_at,
                    attributes={"change": change.key, "principal": a.approver},
                )
            )
    return out


# --- CM-3 --------------------------------------------------------------------------------------


def emergency_overdue(facts: AuditFacts) -> list[Draft]:
    """CM-3: an emergency owes retroactive approval and a PIR within N business days."""
    out = []
    as_of = facts.period.as_of
    for c in facts.changes.values():
        if c.change_type != "emergency":
            continue
        owed = (
            ("retro-approval-overdue", "retroactive approval", c.retro_due_at, c.retro_approved_at),
            ("pir-overdue", "post-implementation review", c.pir_due_at, c.pir_recorded_at),
        )
        for slug, what, due, done in owed:
            if due is None or not overdue(due, done, as_of):
                continue
            state = "missing" if done is None else f"recorded late ({wording.when(done)})"
            out.append(
                Draft(
                    control="CM-3",
                    rule=f"CM-3.{slug}",
                    subject=f"change:{c.key}",
                    summary=f"emergency {c.key}: {what} due {facts.due(due)} is {state}",
                    evidence=(f"change:{c.key}",),
                    occurred_at=due,
                    attributes={"change": c.key},
                )
            )
    return out


# --- CM-4 and CM-5 -----------------------------------------------------------------------------


def no_staging_evidence(facts: AuditFacts) -> list[Draft]:
    """CM-4: re-performs the gate's test-evidence check as of each production deploy."""
    out = []
    for d in _production_deploys(facts):
        change = facts.changes.get(d.change_key)
        emergency = change is not None and change.change_type == "emergency"
        if emergency and not facts.settings.emergency_requires_tests:
            continue  # the gate lets emergencies through untested; the PIR must cover testing
        runs = facts.test_runs.get(d.change_key, ())
        documented = facts.settings.documented_tests
        if documented:  # as the gate counts runs: documented in Workspace, here before the start
            runs = tuple(r for r in runs if r.documented_at and r.documented_at <= d.started_at)
        if newest_evidence(runs, d.commit, d.artifact, d.started_at) is not None:
            continue
        subject = d.artifact or d.commit[:12]
        where = " and documented in Google Workspace" if documented else ""
        out.append(
            deployment_draft(
                d,
                "CM-4",
                "no-staging-evidence",
                f"deployment #{d.id} of {d.change_key} to {d.environment} had no passing run in an "
                f"isolated environment for {subject} recorded{where} before it started",
            )
        )
    return out


def non_pipeline_deployment(facts: AuditFacts) -> list[Draft]:
    """CM-5: production is changed only through CI/CD, rollbacks included."""
    return [
        deployment_draft(
            d,
            "CM-5",
            "non-pipeline-deployment",
            f"deployment #{d.id} to {d.environment} was made by {d.deployer}, "
            "not a pipeline principal",
        )
        for d in facts.deployments
        if d.production and not d.deployer_is_pipeline
    ]


def implemented_by_hand(facts: AuditFacts) -> list[Draft]:
    """CM-5: a change bound for production is not marked implemented by a person instead of a
    pipeline deployment (the CLI allows a requester to; the audit catches it)."""
    out = []
    for c in facts.changes.values():
        if (
            c.implemented_at is None
            or not c.production_environments
            or c.implemented_by_pipeline
            or c.production_deployments
        ):
            continue
        who = c.implemented_by or "an unrecorded principal"
        out.append(
            Draft(
                control="CM-5",
                rule="CM-5.implemented-without-pipeline",
                subject=f"change:{c.key}",
                summary=f"{c.key} targets production and was marked implemented by {who} with no "
                "production deployment recorded through a pipeline",
                evidence=(f"change:{c.key}",),
                occurred_at=c.implemented_at,
                attributes={
                    "change": c.key,
                    "environment": c.production_environments[0],
                    **({"principal": c.implemented_by} if c.implemented_by else {}),
                },
            )
        )
    return out
