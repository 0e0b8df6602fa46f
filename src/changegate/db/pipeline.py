"""Queries about test runs, gate decisions, deployments and webhook deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.exc import StaleDataError

from changegate.db.base import Repository, Slice
from changegate.db.models import Change, Deployment, GateDecisionRecord, TestRun, WebhookDelivery
from changegate.domain.errors import Conflict, NotFound

STALE = timedelta(minutes=2)


class Pipeline(Repository):
    def add(self, row: TestRun | GateDecisionRecord | Deployment) -> None:
        self.session.add(row)
        try:
            self.session.flush()
        except IntegrityError:
            raise Conflict("a concurrent request recorded the same thing first; retry") from None

    def test_runs(self, change: Change, limit: int, offset: int) -> Slice[TestRun]:
        return self.paginate(self._runs(change), limit, offset)

    def evidence(self, change: Change) -> Sequence[TestRun]:
        """Every run of the change, oldest first: what the gate weighs (not who recorded it:
        that is loaded only if asked for)."""
        stmt = self._runs(change).options(lazyload(TestRun.recorded_by))
        return self.session.execute(stmt).scalars().all()

    def _runs(self, change: Change) -> Select[tuple[TestRun]]:
        return (
            select(TestRun)
            .where(TestRun.change_id == change.id)
            .order_by(TestRun.recorded_at, TestRun.id)
        )

    def decision(self, decision_id: int) -> GateDecisionRecord:
        found = self.session.get(GateDecisionRecord, decision_id)
        if found is None:
            raise NotFound(f"no gate decision {decision_id}")
        return found

    def decision_used(self, decision_id: int) -> bool:
        stmt = select(Deployment.id).where(Deployment.gate_decision_id == decision_id)
        return self.session.execute(stmt).first() is not None

    def deployment(self, deployment_id: int) -> Deployment:
        found = self.session.get(Deployment, deployment_id)
        if found is None:
            raise NotFound(f"no deployment {deployment_id}")
        return found

    def deployments(self, change: Change, limit: int, offset: int) -> Slice[Deployment]:
        stmt = (
            select(Deployment)
            .where(Deployment.change_id == change.id)
            .order_by(Deployment.started_at, Deployment.id)
        )
        return self.paginate(stmt, limit, offset)

    def known_good_commits(self, environment: str, excluding: int) -> set[str]:
        stmt = select(Deployment.commit).where(
            Deployment.environment == environment,
            Deployment.id != excluding,
            Deployment.status == "succeeded",
        )
        return set(self.session.execute(stmt).scalars())

    def save(self, deployment: Deployment) -> None:
        ident = deployment.id
        try:
            self.session.flush()
        except StaleDataError:
            raise Conflict(f"deployment {ident} was changed concurrently; retry") from None

    def _delivery(self, source: str, delivery_id: str) -> WebhookDelivery | None:
        return self.session.execute(
            select(WebhookDelivery).where(
                WebhookDelivery.source == source, WebhookDelivery.delivery_id == delivery_id
            )
        ).scalar_one_or_none()

    def finish_delivery(self, source: str, delivery_id: str, status: str) -> None:
        found = self._delivery(source, delivery_id)
        if found is not None:
            found.status = status
            self.session.flush()

    def claim_delivery(self, row: WebhookDelivery) -> bool:
        """False if this delivery was handled before (a replay)."""
        existing = self._delivery(row.source, row.delivery_id)
        if existing is not None and (
            existing.status == "done"
            or (existing.status == "new" and row.received_at - existing.received_at < STALE)
        ):
            return False
        if existing is None:
            self.session.add(row)
        else:
            # Failed, or claimed by a process that died before answering: take it over.
            existing.event, existing.received_at = row.event, row.received_at
            existing.status = "new"
        try:
            self.session.flush()
        except IntegrityError:
            raise Conflict(f"delivery {row.delivery_id} is being handled concurrently") from None
        return True
