"""CM-4's judgement of a test report: passing only when tests ran and none went wrong, with the
one-line reason the gate quotes. Every figure below differs from the others, so a swapped
argument shows."""

from __future__ import annotations

import pytest

from changegate.domain.evidence import TestReport, Verdict, judge


def report(
    passed: int = 0,
    failures: int = 0,
    errors: int = 0,
    skipped: int = 0,
    not_run: int = 0,
    warnings: int = 0,
    suite_errors: int = 0,
) -> TestReport:
    return TestReport(
        tests=passed + failures + errors + skipped + not_run + warnings,
        passed=passed,
        failures=failures,
        errors=errors,
        skipped=skipped,
        flaky=0,
        duration_seconds=1.5,
        suites=1,
        sha256="0" * 64,
        format_hint="pytest",
        not_run=not_run,
        warnings=warnings,
        suite_errors=suite_errors,
    )


VERDICTS: list[tuple[dict[str, int], Verdict]] = [
    (
        {"passed": 5, "suite_errors": 2},
        Verdict(
            False,
            "the report's suites declare 2 error(s) or failure(s) that no test case shows "
            "(a crash outside any test, e.g. a lost browser)",
        ),
    ),
    (
        {"passed": 3, "failures": 1, "errors": 2},
        Verdict(False, "1 failed and 2 errored of 6 executed"),
    ),
    ({"passed": 3, "errors": 1}, Verdict(False, "0 failed and 1 errored of 4 executed")),
    (
        {"passed": 2, "warnings": 1, "skipped": 4},
        Verdict(False, "1 of 3 executed ended with a warning (policy tests.warnings: fail)"),
    ),
    ({"skipped": 3, "not_run": 1}, Verdict(False, "no test executed (3 skipped, 1 not run)")),
    ({"passed": 1}, Verdict(True, "1 passed of 1 executed")),
    ({"passed": 12, "skipped": 2, "not_run": 1}, Verdict(True, "12 passed of 12 executed")),
]


def test_the_verdict_table_is_not_empty() -> None:
    assert len(VERDICTS) == 7


@pytest.mark.parametrize(("figures", "verdict"), VERDICTS)
def test_the_verdict_under_the_strict_default(figures: dict[str, int], verdict: Verdict) -> None:
    run = report(**figures)
    assert run.verdict() == verdict
    assert run.ok is verdict.passing


def test_warnings_pass_when_the_policy_says_so() -> None:
    run = report(passed=2, warnings=1, skipped=4, not_run=5)
    assert run.verdict(warnings_fail=False) == Verdict(True, "3 passed of 3 executed")
    assert run.executed == 3


def test_only_warnings_executed_is_executed_when_warnings_pass() -> None:
    assert judge(0, 0, 0, 0, 0, 1, 0, False) == Verdict(True, "1 passed of 1 executed")
    assert judge(0, 0, 0, 2, 3, 0, 0, False) == Verdict(
        False, "no test executed (2 skipped, 3 not run)"
    )


def test_executed_counts_passed_failed_errored_and_warned() -> None:
    assert report(passed=1, failures=2, errors=4, warnings=8, skipped=16, not_run=32).executed == 15
