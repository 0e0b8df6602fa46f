"""Queries about peer review GitHub reported (pull requests approved and merged)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from changegate.db.base import Repository
from changegate.db.models import CodeReview, User


class CodeReviews(Repository):
    def add(self, row: CodeReview) -> bool:
        """False if this very review (or merge) is already recorded."""
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            return False
        return True

    def of_change(self, change_id: int) -> Sequence[CodeReview]:
        stmt = select(CodeReview).where(CodeReview.change_id == change_id).order_by(CodeReview.id)
        return self.session.execute(stmt).scalars().all()

    def authors(self, change_ids: Collection[int]) -> dict[int, set[str]]:
        """change id -> emails of the people (by GitHub login) who authored its pull requests."""
        found: dict[int, set[str]] = defaultdict(set)
        for among in self.among(CodeReview.change_id, sorted(change_ids)):
            stmt = (
                select(CodeReview.change_id, User.email)
                .join(User, User.github_login == CodeReview.author_login)  # both lower-case
                .where(among)
                .distinct()
            )
            for change_id, email in self.session.execute(stmt):
                found[change_id].add(email)
        return dict(found)
