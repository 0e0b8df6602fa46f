"""Documents evidence cites, kept as they were: each policy document put in force (by its
digest) and each test report uploaded (by its SHA-256, stored once however often cited)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from changegate.db.models.core import Base


class PolicyDocument(Base):
    """A policy document as its digest is taken over (`Policy.digest`: SHA-256 of `document`)."""

    __tablename__ = "policy_documents"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(1000))
    first_in_force_at: Mapped[datetime]


class EvidenceFile(Base):
    """An uploaded file's bytes, addressed by their SHA-256 (a test report as uploaded)."""

    __tablename__ = "evidence_files"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int]
    content: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime]
