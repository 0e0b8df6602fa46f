"""Tables for configuration management: baselines, observations, drift (CFG-1..CFG-4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from changegate.db.models.core import Base, User
from changegate.domain import limits


class Baseline(Base):
    """A versioned set of declared resources; effective only once a security engineer approves."""

    __tablename__ = "baselines"
    __table_args__ = (UniqueConstraint("name", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))
    source_ref: Mapped[str] = mapped_column(String(1000))
    source_sha256: Mapped[str] = mapped_column(String(64))
    change_key: Mapped[str | None] = mapped_column(String(40))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    approved_at: Mapped[datetime | None]
    lock_version: Mapped[int] = mapped_column(default=1)
    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")
    approver: Mapped[User | None] = relationship(foreign_keys=[approver_id], lazy="joined")
    resources: Mapped[list[BaselineResource]] = relationship(
        back_populates="baseline", lazy="selectin", order_by="BaselineResource.id"
    )
    __mapper_args__ = {"version_id_col": lock_version}


class BaselineResource(Base):
    __tablename__ = "baseline_resources"
    __table_args__ = (Index("ix_baseline_resources_key", "resource_type", "resource_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    baseline_id: Mapped[int] = mapped_column(ForeignKey("baselines.id"), index=True)
    resource_type: Mapped[str] = mapped_column(String(limits.RESOURCE_TYPE))
    resource_id: Mapped[str] = mapped_column(String(limits.RESOURCE_ID))
    logical_id: Mapped[str | None] = mapped_column(String(300))
    properties: Mapped[dict[str, Any]]
    # [{"path", "reason"}]: declared properties no observation can confirm (CFG-1)
    unverifiable: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    # Where resource_id came from: "physical" (given, or the stack's), "name" (the template's
    # literal name), "logical" (nothing an observation carries: it will never be matched).
    id_source: Mapped[str] = mapped_column(String(20), default="logical")
    # The properties holding expressions on pseudo parameters (AWS::AccountId, AWS::Region),
    # which each scan binds from the observation; None (resources imported before 0008): all.
    pseudo_properties: Mapped[list[str] | None]
    baseline: Mapped[Baseline] = relationship(back_populates="resources")


class Observation(Base):
    """One AWS Config configuration item as ingested (deduplicated on type, id, capture time)."""

    __tablename__ = "observations"
    __table_args__ = (
        UniqueConstraint("resource_type", "resource_id", "captured_at"),
        Index("ix_observations_key", "resource_type", "resource_id"),
        Index("ix_observations_name", "resource_type", "resource_name", "captured_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    resource_type: Mapped[str] = mapped_column(String(limits.RESOURCE_TYPE))
    resource_id: Mapped[str] = mapped_column(String(limits.RESOURCE_ID))
    arn: Mapped[str | None] = mapped_column(String(limits.ARN))
    # Some types are named by templates but identified by Config otherwise (an IAM role's
    # name against its AROA... id; a security group's name against its sg- id).
    resource_name: Mapped[str | None] = mapped_column(String(500))
    account_id: Mapped[str | None] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(40))
    captured_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(40))
    configuration: Mapped[dict[str, Any] | None]
    # In CloudFormation's vocabulary (None: no translation for the type); `shape` says what
    # `configuration` was: AWS Config's own ("config") or already CloudFormation's.
    properties: Mapped[dict[str, Any] | None]
    shape: Mapped[str] = mapped_column(String(20), default="config")
    diff: Mapped[dict[str, Any] | None]  # a change notification's configurationItemDiff
    source: Mapped[str] = mapped_column(Text)
    ingested_at: Mapped[datetime]


class Drift(Base):
    __tablename__ = "drifts"
    id: Mapped[int] = mapped_column(primary_key=True)
    baseline_resource_id: Mapped[int] = mapped_column(
        ForeignKey("baseline_resources.id"), index=True
    )
    resource_type: Mapped[str] = mapped_column(String(limits.RESOURCE_TYPE))
    resource_id: Mapped[str] = mapped_column(String(limits.RESOURCE_ID), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    observation_id: Mapped[int] = mapped_column(ForeignKey("observations.id"))
    differences: Mapped[list[dict[str, Any]]]
    authorised_by: Mapped[str | None] = mapped_column(String(40))
    detected_at: Mapped[datetime] = mapped_column(index=True)
    due_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    remediation_seconds: Mapped[float | None]
    reopened: Mapped[int] = mapped_column(default=0)
    lock_version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": lock_version}
