"""The status tables of findings, deployments, waivers, drift and notifications, each written
out by hand, and the message a refused step gives: it names the record, not "a change"."""

from __future__ import annotations

import itertools
from enum import StrEnum
from types import ModuleType

import pytest

from changegate.domain import deployments, drift, findings, notifications, waivers
from changegate.domain.deployments import DeploymentAction, DeploymentStatus
from changegate.domain.drift import DriftAction, DriftStatus
from changegate.domain.errors import InvalidTransition
from changegate.domain.findings import FindingAction, FindingStatus
from changegate.domain.notifications import NotificationAction, NotificationStatus
from changegate.domain.states import step
from changegate.domain.waivers import WaiverAction, WaiverStatus

F, FA = FindingStatus, FindingAction
D, DA = DeploymentStatus, DeploymentAction
W, WA = WaiverStatus, WaiverAction

FINDINGS: dict[tuple[FindingStatus, FindingAction], FindingStatus] = {
    (F.OPEN, FA.CONFIRM): F.CONFIRMED,
    (F.OPEN, FA.DISMISS): F.DISMISSED,
    (F.OPEN, FA.SUPPRESS): F.SUPPRESSED,
    (F.SUPPRESSED, FA.UNSUPPRESS): F.OPEN,
    (F.CONFIRMED, FA.REMEDIATE): F.CLOSED,
}
DEPLOYMENTS: dict[tuple[DeploymentStatus, DeploymentAction], DeploymentStatus] = {
    (D.STARTED, DA.FINISH): D.SUCCEEDED,
    (D.STARTED, DA.FAIL): D.FAILED,
    (D.STARTED, DA.ROLL_BACK): D.ROLLED_BACK,
    (D.SUCCEEDED, DA.ROLL_BACK): D.ROLLED_BACK,
    (D.FAILED, DA.ROLL_BACK): D.ROLLED_BACK,
}
WAIVERS: dict[tuple[WaiverStatus, WaiverAction], WaiverStatus] = {
    (W.REQUESTED, WA.APPROVE): W.ACTIVE,
    (W.REQUESTED, WA.REJECT): W.REJECTED,
    (W.ACTIVE, WA.EXPIRE): W.EXPIRED,
    (W.ACTIVE, WA.RENEW): W.RENEWAL,
    (W.ACTIVE, WA.CLOSE): W.CLOSED,
    (W.EXPIRED, WA.RENEW): W.RENEWAL,
    (W.EXPIRED, WA.CLOSE): W.CLOSED,
    (W.RENEWAL, WA.APPROVE): W.ACTIVE,
    (W.RENEWAL, WA.REJECT): W.CLOSED,
}


def test_the_hand_tables_are_not_empty() -> None:
    assert (len(FINDINGS), len(DEPLOYMENTS), len(WAIVERS)) == (5, 5, 9)
    assert (len(FINDING_PAIRS), len(DEPLOYMENT_PAIRS), len(WAIVER_PAIRS)) == (25, 12, 30)
    assert len(REFUSALS) == 5


FINDING_PAIRS = list(itertools.product(FindingStatus, FindingAction))
DEPLOYMENT_PAIRS = list(itertools.product(DeploymentStatus, DeploymentAction))
WAIVER_PAIRS = list(itertools.product(WaiverStatus, WaiverAction))


@pytest.mark.parametrize(("status", "action"), FINDING_PAIRS)
def test_every_finding_pair(status: FindingStatus, action: FindingAction) -> None:
    if (status, action) in FINDINGS:
        assert findings.transition(status, action) is FINDINGS[(status, action)]
    else:
        with pytest.raises(InvalidTransition):
            findings.transition(status, action)


@pytest.mark.parametrize(("status", "action"), DEPLOYMENT_PAIRS)
def test_every_deployment_pair(status: DeploymentStatus, action: DeploymentAction) -> None:
    if (status, action) in DEPLOYMENTS:
        assert deployments.transition(status, action) is DEPLOYMENTS[(status, action)]
    else:
        with pytest.raises(InvalidTransition):
            deployments.transition(status, action)


@pytest.mark.parametrize(("status", "action"), WAIVER_PAIRS)
def test_every_waiver_pair(status: WaiverStatus, action: WaiverAction) -> None:
    if (status, action) in WAIVERS:
        assert waivers.transition(status, action) is WAIVERS[(status, action)]
    else:
        with pytest.raises(InvalidTransition):
            waivers.transition(status, action)


def test_only_open_and_suppressed_findings_are_undecided() -> None:
    assert {F.OPEN, F.SUPPRESSED} == findings.UNDECIDED


REFUSALS: list[tuple[ModuleType, StrEnum, StrEnum, str]] = [
    (findings, F.CLOSED, FA.CONFIRM, "state: cannot confirm a finding that is closed"),
    (
        deployments,
        D.SUCCEEDED,
        DA.FINISH,
        "state: cannot finish a deployment that is succeeded",
    ),
    (waivers, W.CLOSED, WA.RENEW, "state: cannot renew a waiver that is closed"),
    (drift, DriftStatus.OPEN, DriftAction.REDRIFT, "state: cannot redrift a drift that is open"),
    (
        notifications,
        NotificationStatus.DELIVERED,
        NotificationAction.RETRY,
        "state: cannot retry a notification that is delivered",
    ),
]


@pytest.mark.parametrize(
    ("module", "status", "action", "message"),
    REFUSALS,
    ids=["finding", "deployment", "waiver", "drift", "notification"],
)
def test_a_refused_step_names_the_record(
    module: ModuleType, status: StrEnum, action: StrEnum, message: str
) -> None:
    with pytest.raises(InvalidTransition) as info:
        module.transition(status, action)
    assert (info.value.message, info.value.control) == (message, "state")
    assert (info.value.current, info.value.action) == (status.value, action.value)


def test_step_without_hint_or_subject_speaks_of_a_change() -> None:
    table: dict[tuple[FindingStatus, FindingAction], FindingStatus] = {}
    with pytest.raises(InvalidTransition) as info:
        step(table, F.OPEN, FA.CONFIRM)
    assert info.value.message == "state: cannot confirm a change that is open"


def test_invalid_transition_without_hint_ends_at_the_state() -> None:
    assert (
        InvalidTransition("closed", "edit").message == "state: cannot edit a change that is closed"
    )
