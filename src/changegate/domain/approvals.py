"""CAB and ISO approvals: who may decide, and when the decisions add up to an approval (CM-2)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from changegate.domain.errors import Forbidden, Refused, VersionMoved


class ApprovalRole(StrEnum):
    CAB = "cab"
    ISO = "iso"


class Decision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Vote:
    approver: str
    role: ApprovalRole
    decision: Decision
    version: int


@dataclass(frozen=True)
class Quorum:
    cab: int
    iso_required: bool = True


@dataclass(frozen=True)
class Tally:
    cab_approvers: tuple[str, ...]
    iso_approver: str | None
    rejected_by: str | None
    needed_cab: int
    iso_required: bool

    @property
    def complete(self) -> bool:
        iso_ok = self.iso_approver is not None or not self.iso_required
        return self.rejected_by is None and len(self.cab_approvers) >= self.needed_cab and iso_ok

    def missing(self) -> list[str]:
        out = []
        short = self.needed_cab - len(self.cab_approvers)
        if short > 0:
            out.append(f"{short} more CAB approval{'s' if short > 1 else ''}")
        if self.iso_required and self.iso_approver is None:
            out.append("the ISO's approval")
        return out


def check_may_decide(
    approver: str,
    approver_roles: Collection[str],
    role: ApprovalRole,
    requester: str,
    authors: Collection[str],
    votes: Sequence[Vote],
    version: int,
) -> None:
    """Segregation of duties: requesters and authors never approve; one person counts once."""
    if role.value not in approver_roles:
        raise Forbidden(f"{approver} does not hold the {role.value} role")
    if approver == requester:
        raise Refused("SoD", f"{approver} requested this change and may not decide on it")
    if approver in authors:
        raise Refused(
            "SoD",
            f"{approver} authored this change (its commits or pull requests) "
            "and may not decide on it",
        )
    for vote in votes:
        if vote.version != version or vote.approver != approver:
            continue
        if vote.role is role:
            raise Refused("SoD", f"{approver} already decided version {version} as {role.value}")
        raise Refused(
            "SoD",
            f"{approver} already decided version {version} as {vote.role.value}; "
            "one person's decision counts for one role only",
        )


def tally(votes: Sequence[Vote], version: int, quorum: Quorum) -> Tally:
    """Only decisions on the current version count: an edit voids earlier approvals."""
    current = [v for v in votes if v.version == version]
    cab = tuple(
        v.approver
        for v in current
        if v.role is ApprovalRole.CAB and v.decision is Decision.APPROVED
    )
    iso = next(
        (
            v.approver
            for v in current
            if v.role is ApprovalRole.ISO and v.decision is Decision.APPROVED
        ),
        None,
    )
    rejected = next((v.approver for v in current if v.decision is Decision.REJECTED), None)
    return Tally(cab, iso, rejected, quorum.cab, quorum.iso_required)


def check_version(key: str, seen: int, current: int) -> None:
    """A decision counts only for the version its decider saw (CM-2): if the request was edited
    after they read it, they are told, not counted for text they never read.

    Raises VersionMoved naming both versions."""
    if seen != current:
        raise VersionMoved(key, seen, current)
