"""Where a test run is documented in Google Workspace (CM-4): the files filed for it in the
shared drive, and the Google Docs or Sheets verified and frozen as its write-up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from changegate.db.models.core import Base


class WorkspaceFile(Base):
    """One Drive file for one test run. `role`: `report` (the JUnit report as recorded),
    `summary` (the rendered summary) or `doc` (a verified Doc or Sheet). `md5`/`sha256` are
    Drive's checksums of a filed file (none for a Doc); `content_sha256` names the bytes kept
    in evidence_files: the filed bytes, or a Doc's PDF export, which freezes it."""

    __tablename__ = "workspace_files"
    __table_args__ = (UniqueConstraint("test_run_id", "role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    test_run_id: Mapped[int] = mapped_column(ForeignKey("test_runs.id"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    file_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(1000))
    mime_type: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(BigInteger)
    modified_at: Mapped[datetime]
    drive_id: Mapped[str] = mapped_column(String(200))
    link: Mapped[str] = mapped_column(String(1000))
    md5: Mapped[str | None] = mapped_column(String(32))
    sha256: Mapped[str | None] = mapped_column(String(64))
    content_sha256: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime]
