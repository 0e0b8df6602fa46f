"""A regression-test report as the rules see it, whatever format it came in (CM-4)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TestReport:
    __test__ = False  # not a pytest class, despite the name

    tests: int
    passed: int
    failures: int
    errors: int
    skipped: int
    flaky: int
    duration_seconds: float
    suites: int
    sha256: str
    format_hint: str  # informative only: pytest, surefire, go-junit-report, jest, generic
    failing: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Evidence of passing: at least one test ran and nothing failed or errored."""
        return self.tests > 0 and self.failures == 0 and self.errors == 0
