"""Deployments: what a pipeline did, and the rules that bind it to the gate (CM-5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from changegate.domain.errors import Refused
from changegate.domain.states import step


class DeploymentStatus(StrEnum):
    STARTED = "started"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"


class DeploymentAction(StrEnum):
    FINISH = "finish"
    FAIL = "fail"
    ROLL_BACK = "roll_back"


D, DA = DeploymentStatus, DeploymentAction

TRANSITIONS: Final[Mapping[tuple[DeploymentStatus, DeploymentAction], DeploymentStatus]] = {
    (D.STARTED, DA.FINISH): D.SUCCEEDED,
    (D.STARTED, DA.FAIL): D.FAILED,
    (D.STARTED, DA.ROLL_BACK): D.ROLLED_BACK,
    (D.SUCCEEDED, DA.ROLL_BACK): D.ROLLED_BACK,
    (D.FAILED, DA.ROLL_BACK): D.ROLLED_BACK,
}


def transition(current: DeploymentStatus, action: DeploymentAction) -> DeploymentStatus:
    return step(TRANSITIONS, current, action, subject="deployment")


@dataclass(frozen=True)
class DecisionRef:
    """The gate decision a production deployment claims as its authority."""

    id: int
    allowed: bool
    change_key: str
    environment: str
    commit: str
    artifact: str | None
    decided_at: datetime
    used: bool


def check_authorised(
    ref: DecisionRef | None,
    change_key: str,
    environment: str,
    commit: str,
    artifact: str | None,
    now: datetime,
    ttl: timedelta,
) -> None:
    """A production deployment must name an unused allow decision for exactly what it deploys."""
    if ref is None:
        raise Refused(
            "CM-5",
            "a production deployment needs the gate decision that allowed it "
            "(--decision ID from `gate check`)",
        )
    if not ref.allowed:
        raise Refused("CM-5", f"gate decision {ref.id} denied this deployment")
    wanted = (change_key, environment, commit)
    if (ref.change_key, ref.environment, ref.commit) != wanted:
        raise Refused(
            "CM-5",
            f"gate decision {ref.id} was for {ref.change_key} {ref.commit[:12]} "
            f"to {ref.environment}, not {change_key} {commit[:12]} "
            f"to {environment}",
        )
    if artifact and ref.artifact and artifact != ref.artifact:
        raise Refused("CM-5", f"gate decision {ref.id} was for another artifact")
    if ref.used:
        raise Refused("CM-5", f"gate decision {ref.id} was already used by a deployment")
    if now - ref.decided_at > ttl:
        raise Refused("CM-5", f"gate decision {ref.id} is older than {ttl}; ask the gate again")


def check_rollback_target(target: str, known_good: set[str]) -> None:
    """Rolling back is the rollback plan, not a new change: only to a commit that ran fine."""
    if target not in known_good:
        raise Refused(
            "CM-5",
            f"{target[:12]} never deployed successfully to this environment; "
            "a rollback goes only to a known-good commit",
        )
