"""The deployment gate: one pure decision from the facts, with a reason per control.

A pipeline asks "may commit X of change CHG-n go to environment E now?". Every check is
evaluated (not just the first failure) so the pipeline log shows everything that is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from changegate.domain.changes import ChangeStatus, ChangeType
from changegate.domain.waivers import Cover, covering

# Whether a submitted normal change is approved is CM-2's question, not the state's.
GATEABLE_PRODUCTION = {ChangeStatus.SUBMITTED, ChangeStatus.APPROVED}
CLOSED_FOR_DEPLOYS = {ChangeStatus.CANCELLED, ChangeStatus.CLOSED, ChangeStatus.REJECTED}


@dataclass(frozen=True)
class Reason:
    control: str
    ok: bool
    message: str
    waiver: str | None = None


@dataclass(frozen=True)
class Evidence:
    """A recorded regression-test run, as the gate needs to see it (CM-4)."""

    id: int
    environment: str
    isolated: bool
    commit: str
    artifact: str | None
    passed: bool
    recorded_at: datetime
    verdict: str = ""  # why it passes or not: "no test executed (3 skipped, 0 not run)"
    # Filed in or verified from Google Workspace (CM-4 "documented"); weighed only when the
    # policy requires it (GateFacts.documented_tests).
    documented: bool = True
    # When it was first documented there: the audit re-performs CM-4 as of each deployment's
    # start (AuditSettings.documented_tests); None: never, or not read.
    documented_at: datetime | None = None


@dataclass(frozen=True)
class Freeze:
    name: str
    start: datetime
    end: datetime
    environments: tuple[str, ...]

    def covers(self, environment: str, now: datetime) -> bool:
        return environment in self.environments and self.start <= now < self.end


@dataclass(frozen=True)
class ChangeFacts:
    key: str
    status: ChangeStatus
    change_type: ChangeType
    version: int
    missing_fields: tuple[str, ...]
    approvals_complete: bool
    awaiting: tuple[str, ...]
    justification: str
    # What the request declares (CM-1): where it may deploy and when.
    environments: tuple[str, ...] = ()
    window_start: datetime | None = None
    window_end: datetime | None = None


@dataclass(frozen=True)
class GateRequest:
    environment: str
    production: bool
    commit: str
    artifact: str | None
    principal: str
    principal_is_pipeline: bool
    now: datetime
    # False: the policy defines no such environment; the gate answers (denied), fail closed.
    known_environment: bool = True
    # What the policy asks of this environment; None: as of production (the policy's default).
    requires_approval: bool | None = None
    requires_tests: bool | None = None

    @property
    def approval_required(self) -> bool:
        return self.production if self.requires_approval is None else self.requires_approval

    @property
    def tests_required(self) -> bool:
        return self.production if self.requires_tests is None else self.requires_tests


@dataclass(frozen=True)
class WindowRule:
    """How the planned window binds a deployment that needs approval: it may start `early`
    before the window opens and `late` after it closes; a normal change without a window may
    deploy only if `unplanned_ok`. Emergencies are not bound to a window (CM-3)."""

    early: timedelta = timedelta(minutes=30)
    late: timedelta = timedelta(minutes=60)
    unplanned_ok: bool = True


@dataclass(frozen=True)
class GateFacts:
    request: GateRequest
    change: ChangeFacts | None
    evidence: Sequence[Evidence] = ()
    freezes: Sequence[Freeze] = ()
    emergency_requires_tests: bool = False
    # Approved exceptions (EXC-1): a failing control an active waiver covers passes, named.
    covers: Sequence[Cover] = ()
    window_rule: WindowRule = WindowRule()
    documented_tests: bool = False


@dataclass(frozen=True)
class GateDecision:
    allowed: bool
    reasons: tuple[Reason, ...]
    obligations: tuple[str, ...] = ()
    evidence_id: int | None = None

    def failures(self) -> list[Reason]:
        return [r for r in self.reasons if not r.ok]


def _principal(facts: GateFacts) -> Reason:
    req = facts.request
    if req.principal_is_pipeline:
        return Reason("CM-5", True, f"{req.principal} is a pipeline principal")
    return Reason(
        "CM-5", False, f"{req.principal} is not a pipeline principal; deployments go through CI/CD"
    )


def _request(change: ChangeFacts) -> Reason:
    if change.missing_fields:
        missing = ", ".join(change.missing_fields)
        return Reason("CM-1", False, f"{change.key} is incomplete: missing {missing}")
    return Reason("CM-1", True, f"{change.key} states scope, impact and rollback plan")


def _state(change: ChangeFacts, production: bool) -> Reason:
    if not production:
        ok = change.status not in CLOSED_FOR_DEPLOYS
    else:
        ok = change.status in GATEABLE_PRODUCTION
    # Passing this check alone deploys nothing: the wording must not read as a verdict.
    said = "open to deployment" if ok else "closed to deployment"
    return Reason("state", ok, f"{change.key} is {change.status.value}: {said}")


def _scope(change: ChangeFacts, req: GateRequest) -> Reason:
    return scope_reason(change.key, change.environments, req.environment, req.production)


def scope_reason(key: str, declared: Sequence[str], environment: str, production: bool) -> Reason:
    """The environments a request declares are the only ones it may deploy to (compared without
    regard to case); a request declaring none may go only where nothing is production. The gate
    decides with it and the audit re-performs it (CM-1)."""
    if declared:
        listed = ", ".join(declared)
        if environment.lower() in {e.lower() for e in declared}:
            return Reason("scope", True, f"{key} declares {environment}")
        return Reason("scope", False, f"{key} declares {listed}; {environment} is not among them")
    if production:
        return Reason(
            "scope",
            False,
            f"{key} declares no environments; {environment} is a production "
            "environment and must be declared",
        )
    return Reason("scope", True, f"{key} declares no environments; {environment} is not production")


def _minutes(delta: timedelta) -> str:
    return f"{int(delta.total_seconds() // 60)} min"


def _window(change: ChangeFacts, req: GateRequest, rule: WindowRule) -> Reason:
    emergency = change.change_type is ChangeType.EMERGENCY
    planned = (change.window_start, change.window_end)
    return window_reason(change.key, emergency, planned, req.now, rule)


def window_reason(
    key: str,
    emergency: bool,
    planned: tuple[datetime | None, datetime | None],
    at: datetime,
    rule: WindowRule,
) -> Reason:
    """A deployment starting at `at` against the planned window (start, end) and the policy's
    tolerances; emergencies are not bound to one (CM-3). The gate decides with it and the audit
    re-performs it (CM-2)."""
    start, end = planned
    if emergency:
        return Reason("window", True, "emergency: not bound to a planned window")
    if start is None or end is None:
        if rule.unplanned_ok:
            return Reason("window", True, f"{key} plans no window; the policy allows that")
        return Reason("window", False, f"{key} plans no window; the policy requires one to deploy")
    shown = f"{start.isoformat()} to {end.isoformat()}"
    if at < start - rule.early:
        return Reason(
            "window",
            False,
            f"{key} is planned for {shown}; too early "
            f"(deployments may start {_minutes(rule.early)} before the window)",
        )
    if at > end + rule.late:
        return Reason(
            "window",
            False,
            f"{key} was planned for {shown}; the window has passed "
            f"(tolerance {_minutes(rule.late)} after it)",
        )
    return Reason("window", True, f"within {key}'s planned window {shown}")


def _approval(change: ChangeFacts) -> Reason:
    if change.change_type is ChangeType.EMERGENCY and not change.approvals_complete:
        ok = bool(change.justification.strip())
        text = (
            f"emergency: deploying before approval, justified: {change.justification.strip()}"
            if ok
            else "an emergency change needs a recorded justification"
        )
        return Reason("CM-3", ok, text)
    if change.approvals_complete:
        return Reason("CM-2", True, f"CAB and ISO approved version {change.version}")
    waiting = " and ".join(change.awaiting) or "approval"
    return Reason("CM-2", False, f"version {change.version} still needs {waiting}")


def evidence_matches(run: Evidence, commit: str, artifact: str | None, at: datetime) -> bool:
    """CM-4's predicate, shared by the gate and the audit so the audit re-performs the same check.

    A passing run in an isolated environment, recorded by `at`, of this exact commit (or of the
    same artifact, when the deployment names one).
    """
    same = run.commit == commit or (artifact is not None and run.artifact == artifact)
    return run.passed and run.isolated and run.recorded_at <= at and same


def newest_evidence(
    runs: Sequence[Evidence], commit: str, artifact: str | None, at: datetime
) -> Evidence | None:
    candidates = [r for r in runs if evidence_matches(r, commit, artifact, at)]
    return max(candidates, key=lambda r: r.recorded_at, default=None)


def matching_evidence(facts: GateFacts) -> Evidence | None:
    """The newest passing, isolated run of this exact commit (or artifact), recorded before now."""
    req = facts.request
    runs = [r for r in facts.evidence if r.documented or not facts.documented_tests]
    return newest_evidence(runs, req.commit, req.artifact, req.now)


def _tests(facts: GateFacts, change: ChangeFacts) -> Reason:
    found = matching_evidence(facts)
    subject = facts.request.artifact or facts.request.commit[:12]
    if found is not None:
        return Reason(
            "CM-4", True, f"passing run #{found.id} in {found.environment} (isolated) for {subject}"
        )
    if change.change_type is ChangeType.EMERGENCY and not facts.emergency_requires_tests:
        return Reason(
            "CM-4",
            True,
            f"emergency: no staging evidence for {subject}; "
            "the post-implementation review must cover testing",
        )
    return Reason("CM-4", False, _why_no_evidence(facts, subject))


def _why_no_evidence(facts: GateFacts, subject: str) -> str:
    """Name the run that came closest, so the pipeline owner knows what to fix."""
    req = facts.request
    same = [
        r
        for r in facts.evidence
        if (r.commit == req.commit or (req.artifact is not None and r.artifact == req.artifact))
        and r.recorded_at <= req.now
    ]
    isolated = [r for r in same if r.isolated]
    passing = [r for r in isolated if r.passed]
    if passing and facts.documented_tests:
        newest = max(passing, key=lambda r: r.recorded_at)
        return (
            f"run #{newest.id} in {newest.environment} for {subject} passed but is not "
            "documented in Google Workspace: the policy requires it filed there (test record "
            "--upload; a filing still pending counts once the worker has filed it) or a "
            "verified Google Doc (--doc)"
        )
    if isolated:
        newest = max(isolated, key=lambda r: r.recorded_at)
        return (
            f"run #{newest.id} in {newest.environment} for {subject} is not passing evidence: "
            f"{newest.verdict or 'it did not pass'}"
        )
    if same:
        places = ", ".join(sorted({r.environment for r in same}))
        return f"runs for {subject} were recorded only in {places}, which is not isolated"
    return f"no regression run in an isolated environment for {subject} recorded before now"


def _freeze(facts: GateFacts, change: ChangeFacts) -> Reason | None:
    req = facts.request
    active = [f for f in facts.freezes if f.covers(req.environment, req.now)]
    if not active:
        return None
    names = ", ".join(f.name for f in active)
    if change.change_type is ChangeType.EMERGENCY:
        return Reason("freeze", True, f"emergency change allowed during freeze: {names}")
    return Reason("freeze", False, f"{req.environment} is frozen: {names}")


def _waived(facts: GateFacts, change: ChangeFacts, reason: Reason) -> Reason:
    """The same match the audit makes: control, scope (change, environment, principal), now."""
    if reason.ok or not facts.covers:
        return reason
    req = facts.request
    scope = {"change": change.key, "environment": req.environment, "principal": req.principal}
    key = covering(facts.covers, reason.control, scope, req.now)
    if key is None:
        return reason
    return Reason(reason.control, True, f"waived by {key}: {reason.message}", key)


def decide(facts: GateFacts) -> GateDecision:
    req, change = facts.request, facts.change
    reasons = [_principal(facts)]
    if not req.known_environment:
        reasons.append(
            Reason("policy", False, f"{req.environment!r} is not an environment the policy defines")
        )
        return GateDecision(False, tuple(reasons))
    if change is None:
        reasons.append(Reason("CM-1", False, "no such change request"))
        return GateDecision(False, tuple(reasons))
    reasons += [_request(change), _scope(change, req), _state(change, req.production)]
    if req.approval_required:
        reasons += [_approval(change), _window(change, req, facts.window_rule)]
    if req.tests_required:
        reasons.append(_tests(facts, change))
    frozen = _freeze(facts, change)
    reasons += [frozen] if frozen else []
    reasons = [_waived(facts, change, r) for r in reasons]
    allowed = all(r.ok for r in reasons)
    obligations: tuple[str, ...] = ()
    if allowed and req.production and change.change_type is ChangeType.EMERGENCY:
        obligations = (
            ("post-implementation review",)
            if change.approvals_complete
            else ("retroactive approval", "post-implementation review")
        )
    found = matching_evidence(facts)
    return GateDecision(allowed, tuple(reasons), obligations, found.id if found else None)
