"""The queries an audit run needs: a period's records, read as plain rows in bulk.

A year holds tens of thousands of deployments and drifts, so these select columns rather than
ORM entities and never issue a query per record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from changegate.db.base import Repository
from changegate.db.models import (
    Approval,
    Change,
    ChangeVersion,
    Deployment,
    Drift,
    Finding,
    GateDecisionRecord,
    Notification,
    Review,
    TestRun,
    User,
    UserRole,
    Waiver,
    WaiverApproval,
)


def _between(column: Any, start: datetime, end: datetime) -> Any:
    return and_(column >= start, column < end)


class AuditRecords(Repository):
    def _rows(self, stmt: Select[Any]) -> Sequence[Row[Any]]:
        return self.session.execute(stmt).all()

    def deployments(self, start: datetime, end: datetime) -> Sequence[Row[Any]]:
        stmt = (
            select(
                Deployment.id,
                Deployment.change_id,
                Deployment.environment,
                Deployment.kind,
                Deployment.status,
                Deployment.commit,
                Deployment.artifact,
                Deployment.started_at,
                Deployment.iac_path,
                Deployment.deployer_id,
            )
            .where(_between(Deployment.started_at, start, end))
            .order_by(Deployment.id)
        )
        return self._rows(stmt)

    def change_ids(self, start: datetime, end: datetime, deployed: Iterable[int]) -> list[int]:
        """Changes deployed, implemented, decided on, or with deadlines, in the period."""
        due = select(Change.id).where(
            or_(
                _between(Change.retro_due_at, start, end),
                _between(Change.pir_due_at, start, end),
                _between(Change.implemented_at, start, end),
            )
        )
        decided = select(Approval.change_id).where(_between(Approval.decided_at, start, end))
        found = set(deployed)
        found.update(self.session.execute(due).scalars())
        found.update(self.session.execute(decided).scalars())
        return sorted(found)

    def production_deployments(
        self, ids: Sequence[int], production: Iterable[str]
    ) -> dict[int, int]:
        """How many deployments (not rollbacks) each change ever made to production."""
        out: dict[int, int] = {}
        envs = list(production)
        for among in self.among(Deployment.change_id, ids):
            stmt = (
                select(Deployment.change_id, func.count())
                .where(
                    among,
                    Deployment.environment.in_(envs),
                    Deployment.kind == "deploy",
                )
                .group_by(Deployment.change_id)
            )
            out.update((cid, int(n)) for cid, n in self.session.execute(stmt).all())
        return out

    def changes(self, ids: Sequence[int]) -> list[Change]:
        out: list[Change] = []
        for among in self.among(Change.id, ids):
            out.extend(self.session.execute(select(Change).where(among)).scalars().all())
        return out

    def approvals(self, ids: Sequence[int]) -> list[Row[Any]]:
        out: list[Row[Any]] = []
        for among in self.among(Approval.change_id, ids):
            out.extend(
                self._rows(
                    select(
                        Approval.id,
                        Approval.change_id,
                        User.email,
                        Approval.role,
                        Approval.decision,
                        Approval.version,
                        Approval.decided_at,
                        Approval.retroactive,
                    )
                    .join(User, User.id == Approval.approver_id)
                    .where(among)
                    .order_by(Approval.id)
                )
            )
        return out

    def versions(self, ids: Sequence[int]) -> list[Row[Any]]:
        out: list[Row[Any]] = []
        for among in self.among(ChangeVersion.change_id, ids):
            out.extend(
                self._rows(
                    select(
                        ChangeVersion.change_id, ChangeVersion.version, ChangeVersion.created_at
                    ).where(among)
                )
            )
        return out

    def test_runs(self, ids: Sequence[int]) -> list[Row[Any]]:
        out: list[Row[Any]] = []
        for among in self.among(TestRun.change_id, ids):
            out.extend(
                self._rows(
                    select(
                        TestRun.id,
                        TestRun.change_id,
                        TestRun.environment,
                        TestRun.isolated,
                        TestRun.commit,
                        TestRun.artifact,
                        TestRun.ok,
                        TestRun.recorded_at,
                        TestRun.passed,
                        TestRun.failures,
                        TestRun.errors,
                        TestRun.skipped,
                        TestRun.not_run,
                        TestRun.warnings,
                        TestRun.suite_errors,
                    )
                    .where(among)
                    .order_by(TestRun.id)
                )
            )
        return out

    def people(self) -> dict[int, tuple[str, frozenset[str]]]:
        """Every user's email and roles (a few hundred rows at most)."""
        roles: dict[int, set[str]] = {}
        for user_id, role in self._rows(select(UserRole.user_id, UserRole.role)):
            roles.setdefault(user_id, set()).add(role)
        return {
            uid: (email, frozenset(roles.get(uid, ())))
            for uid, email in self._rows(select(User.id, User.email))
        }

    def reviews(self, kinds: Iterable[str]) -> Sequence[Row[Any]]:
        return self._rows(
            select(Review.id, Review.kind, Review.summary, Review.author_id, Review.recorded_at)
            .where(Review.kind.in_(list(kinds)))
            .order_by(Review.id)
        )

    def drifts(self, start: datetime, end: datetime) -> Sequence[Row[Any]]:
        stmt = (
            select(
                Drift.id,
                Drift.resource_type,
                Drift.resource_id,
                Drift.status,
                Drift.authorised_by,
                Drift.detected_at,
                Drift.due_at,
                Drift.closed_at,
            )
            .where(or_(_between(Drift.detected_at, start, end), _between(Drift.due_at, start, end)))
            .order_by(Drift.id)
        )
        return self._rows(stmt)

    def waivers(self) -> Sequence[Waiver]:
        return self.session.execute(select(Waiver).order_by(Waiver.number)).scalars().all()

    def waiver_approvals(self) -> Sequence[Row[Any]]:
        approver = aliased(User)
        return self._rows(
            select(
                WaiverApproval.id,
                WaiverApproval.waiver_id,
                WaiverApproval.round,
                WaiverApproval.role,
                WaiverApproval.decision,
                approver.email,
                WaiverApproval.decided_at,
            )
            .join(approver, approver.id == WaiverApproval.approver_id)
            .order_by(WaiverApproval.id)
        )

    def findings_for_violations(
        self, start: datetime, end: datetime, report_window: Any
    ) -> Sequence[Finding]:
        """Findings whose report or remediation deadline can fall in the period."""
        stmt = (
            select(Finding)
            .where(
                or_(
                    _between(Finding.first_detected_at, start - report_window, end),
                    _between(Finding.remediation_due_at, start, end),
                )
            )
            .order_by(Finding.number)
        )
        return self.session.execute(stmt).scalars().all()

    def deliveries(self, event_keys: Sequence[str]) -> list[Row[Any]]:
        out: list[Row[Any]] = []
        for among in self.among(Notification.event_key, event_keys):
            out.extend(
                self._rows(
                    select(
                        Notification.id,
                        Notification.event_key,
                        Notification.recipient_role,
                        Notification.delivered_at,
                    ).where(among)
                )
            )
        return out


class Metrics:
    """Counts for the ISO's quarterly change-management review (CM-6)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _grouped(self, stmt: Select[Any]) -> dict[str, int]:
        return {str(k): int(n) for k, n in self.session.execute(stmt).all()}

    def changes_by(self, column: Any, start: datetime, end: datetime) -> dict[str, int]:
        return self._grouped(
            select(column, func.count())
            .where(_between(Change.created_at, start, end))
            .group_by(column)
        )

    def deployments_by_environment(self, start: datetime, end: datetime) -> dict[str, int]:
        return self._grouped(
            select(Deployment.environment, func.count())
            .where(_between(Deployment.started_at, start, end))
            .group_by(Deployment.environment)
        )

    def gate_decisions(self, start: datetime, end: datetime) -> dict[str, int]:
        return self._grouped(
            select(GateDecisionRecord.allowed, func.count())
            .where(_between(GateDecisionRecord.decided_at, start, end))
            .group_by(GateDecisionRecord.allowed)
        )

    def findings_by_control(self, start: datetime, end: datetime) -> dict[str, int]:
        return self._grouped(
            select(Finding.control, func.count())
            .where(_between(Finding.occurred_at, start, end), Finding.status != "suppressed")
            .group_by(Finding.control)
        )
