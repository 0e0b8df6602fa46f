"""Deployments recorded by pipelines: start, finish, fail, roll back (CM-5)."""

from __future__ import annotations

from datetime import timedelta

from changegate.db.changes import Changes
from changegate.db.models import Deployment, User
from changegate.db.pipeline import Pipeline
from changegate.domain import deployments as rules
from changegate.domain.changes import ChangeStatus
from changegate.domain.deployments import DecisionRef, DeploymentAction, DeploymentStatus
from changegate.domain.errors import BadInput, Refused
from changegate.domain.users import Role
from changegate.services import lifecycle
from changegate.services.context import Context
from changegate.services.testruns import check_commit

DEPLOYABLE_OUTSIDE_PRODUCTION = {ChangeStatus.DRAFT, ChangeStatus.SUBMITTED, ChangeStatus.APPROVED}


def _pipeline(ctx: Context) -> User:
    # CM-5: a deployment is made by a pipeline principal, never by a person.
    return ctx.user_with(Role.PIPELINE)


def _reference(ctx: Context, decision_id: int | None) -> DecisionRef | None:
    if decision_id is None:
        return None
    repo = Pipeline(ctx.session)
    found = repo.decision(decision_id)
    return DecisionRef(
        found.id,
        found.allowed,
        found.change_key,
        found.environment,
        found.commit,
        found.artifact,
        found.decided_at,
        repo.decision_used(found.id),
    )


def start(
    ctx: Context,
    key: str,
    environment: str,
    commit: str,
    run_url: str,
    artifact: str | None = None,
    iac_path: str | None = None,
    iac_sha256: str | None = None,
    decision_id: int | None = None,
) -> Deployment:
    user = _pipeline(ctx)
    env = ctx.policy.environment(environment)
    change = Changes(ctx.session).get(key)
    sha = check_commit(commit)
    if not run_url.startswith(("https://", "http://")):
        raise BadInput(f"--run-url must be the pipeline run's URL, got {run_url!r}")
    if env.production:
        ttl = timedelta(minutes=ctx.policy.gate.decision_ttl_minutes)
        rules.check_authorised(
            _reference(ctx, decision_id), change.key, env.name, sha, artifact, ctx.now, ttl
        )
        if not iac_path:
            raise Refused(
                "CM-5",
                "a production deployment records its IaC template (--iac-path, --iac-sha256)",
            )
    elif ChangeStatus(change.status) not in DEPLOYABLE_OUTSIDE_PRODUCTION:
        raise Refused("state", f"{change.key} is {change.status}; nothing more deploys under it")
    deployment = Deployment(
        change_id=change.id,
        environment=env.name,
        kind="deploy",
        commit=sha,
        artifact=artifact or None,
        status=DeploymentStatus.STARTED.value,
        run_url=run_url,
        iac_path=iac_path,
        iac_sha256=iac_sha256,
        deployer_id=user.id,
        gate_decision_id=decision_id if env.production else None,
        started_at=ctx.now,
    )
    Pipeline(ctx.session).add(deployment)
    ctx.record("deployment.started", change.key, _payload(deployment))
    return deployment


def _move(ctx: Context, deployment_id: int, action: DeploymentAction, reason: str) -> Deployment:
    _pipeline(ctx)
    repo = Pipeline(ctx.session)
    deployment = repo.deployment(deployment_id)
    status = rules.transition(DeploymentStatus(deployment.status), action)
    deployment.status, deployment.finished_at = status.value, ctx.now
    deployment.reason = reason.strip()
    repo.save(deployment)
    ctx.record(f"deployment.{status.value}", deployment.change.key, _payload(deployment))
    return deployment


def finish(ctx: Context, deployment_id: int) -> Deployment:
    """Success in production implements the change (and starts an emergency's clocks)."""
    deployment = _move(ctx, deployment_id, DeploymentAction.FINISH, "")
    production = ctx.policy.environment(deployment.environment).production
    if production and deployment.change.status != ChangeStatus.IMPLEMENTED.value:
        lifecycle.implement(ctx, deployment.change.key)
    return deployment


def fail(ctx: Context, deployment_id: int, reason: str = "") -> Deployment:
    return _move(ctx, deployment_id, DeploymentAction.FAIL, reason)


def rollback(
    ctx: Context, deployment_id: int, to_commit: str, run_url: str, reason: str = ""
) -> Deployment:
    """Executing the change's rollback plan: back to a commit that ran fine before."""
    target = check_commit(to_commit)
    repo = Pipeline(ctx.session)
    original = repo.deployment(deployment_id)
    rules.check_rollback_target(target, repo.known_good_commits(original.environment, original.id))
    _move(ctx, deployment_id, DeploymentAction.ROLL_BACK, reason)
    back = Deployment(
        change_id=original.change_id,
        environment=original.environment,
        kind="rollback",
        commit=target,
        artifact=None,
        status=DeploymentStatus.SUCCEEDED.value,
        run_url=run_url or original.run_url,
        iac_path=original.iac_path,
        iac_sha256=None,
        deployer_id=ctx.user().id,
        rollback_of_id=original.id,
        reason=reason.strip(),
        started_at=ctx.now,
        finished_at=ctx.now,
    )
    repo.add(back)
    ctx.record("deployment.rollback_recorded", original.change.key, _payload(back))
    return back


def _payload(d: Deployment) -> dict[str, object]:
    return {
        "deployment_id": d.id,
        "environment": d.environment,
        "kind": d.kind,
        "commit": d.commit,
        "artifact": d.artifact,
        "status": d.status,
        "run_url": d.run_url,
        "iac_path": d.iac_path,
        "iac_sha256": d.iac_sha256,
        "gate_decision_id": d.gate_decision_id,
        "rollback_of": d.rollback_of_id,
        "reason": d.reason,
    }
