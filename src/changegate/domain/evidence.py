"""A regression-test report as the rules see it, whatever format it came in (CM-4).

A report is passing evidence only when tests ran and none went wrong: at least one executed
test (passed, failed or errored; skipped, disabled and not-run cases did not execute), no
failure or error, no failure a suite declares but no test case shows (a browser that crashed
under Karma), and, unless the policy says otherwise, no test that ended with a warning (PHPUnit
calls such a run unsuccessful).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    passing: bool
    why: str  # one line, e.g. "no test executed (3 skipped)", "12 passed of 12 executed"


@dataclass(frozen=True)
class TestReport:
    __test__ = False  # not a pytest class, despite the name

    tests: int  # test cases in the report, executed or not
    passed: int
    failures: int
    errors: int
    skipped: int
    flaky: int  # passed on a rerun after failing (counted in `passed`)
    duration_seconds: float
    suites: int
    sha256: str
    format_hint: str  # informative only: pytest, surefire, go-junit-report, jest, generic
    failing: tuple[str, ...] = ()
    not_run: int = 0  # disabled or suppressed (Google Test `status="notrun"`)
    warnings: int = 0  # ended with a warning (PHPUnit `<warning>`)
    suite_errors: int = 0  # errors/failures suites declare beyond what their cases show

    @property
    def executed(self) -> int:
        return self.passed + self.failures + self.errors + self.warnings

    @property
    def ok(self) -> bool:
        """Passing evidence under the strict default (warnings fail)."""
        return self.verdict().passing

    def verdict(self, warnings_fail: bool = True) -> Verdict:
        """Passing or not, and why, in the words the gate's CM-4 reason uses."""
        return judge(
            self.passed,
            self.failures,
            self.errors,
            self.skipped,
            self.not_run,
            self.warnings,
            self.suite_errors,
            warnings_fail,
        )


def judge(
    passed: int,
    failures: int,
    errors: int,
    skipped: int,
    not_run: int,
    warnings: int,
    suite_errors: int,
    warnings_fail: bool,
) -> Verdict:
    """The one rule for a run's figures, used on upload and when stored runs are re-judged."""
    executed = passed + failures + errors + warnings
    if suite_errors:
        return Verdict(
            False,
            f"the report's suites declare {suite_errors} error(s) or failure(s) that no test "
            "case shows (a crash outside any test, e.g. a lost browser)",
        )
    if failures or errors:
        return Verdict(False, f"{failures} failed and {errors} errored of {executed} executed")
    if warnings and warnings_fail:
        return Verdict(
            False,
            f"{warnings} of {executed} executed ended with a warning (policy tests.warnings: fail)",
        )
    if executed == 0:
        return Verdict(False, f"no test executed ({skipped} skipped, {not_run} not run)")
    return Verdict(True, f"{passed + warnings} passed of {executed} executed")
