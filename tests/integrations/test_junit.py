"""CM-4 evidence: the JUnit report parser, over real reports from the tools pipelines use.

The sample reports live in tests/fixtures/junit-xml (copied from the projects named in its
LICENSES folder; `shaped/` holds our own in PHPUnit's and Karma's documented shapes). The figures
below were counted by hand from the files: testcase elements and their result children; the
suites' summary attributes count only where they declare failures no case shows.
"""

from __future__ import annotations

import hashlib
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from changegate.domain.errors import BadInput
from changegate.integrations import junit
from tests.fixtures import files, fixture

DATA_DIR = fixture("junit-xml")


# A missing corpus fails at collection (files() asserts), never an empty parameter set.
CORPUS = [p for p in files("junit-xml", "**/*.xml", minimum=40) if "LICENSES" not in p.parts]


def _read(name: str) -> bytes:
    matches = [p for p in CORPUS if p.name == name]
    assert len(matches) == 1, f"expected exactly one {name} under {DATA_DIR}, found {matches}"
    return matches[0].read_bytes()


def _parse(name: str) -> junit.JUnitSummary:
    return junit.parse(_read(name), name)


# Files that must be refused, with a fragment of the reason.
REFUSED = {
    "enricomi__empty.xml": "empty",
    "enricomi__non-junit.xml": "root element is <suites>",
}

# name: (tests, passed, failures, errors, skipped, flaky, not run, warnings, suite errors),
# counted by hand.
EXPECTED: dict[str, tuple[int, ...]] = {
    # edge cases
    "dorny__jest-junit-empty-testsuite.xml": (0, 0, 0, 0, 0, 0, 0, 0, 0),
    "dorny__jest-test-errors.xml": (2, 0, 0, 2, 0, 0, 0, 0, 0),  # root claims tests="0"
    "enricomi__empty-system-out-err.xml": (1, 1, 0, 0, 0, 0, 0, 0, 0),
    "enricomi__junit.multiresult.xml": (4, 1, 1, 1, 1, 0, 0, 0, 0),  # error > failure > skipped
    "enricomi__minimal-attributes.xml": (4, 1, 1, 1, 1, 0, 0, 0, 0),
    "enricomi__no-attributes.xml": (4, 1, 1, 1, 1, 0, 0, 0, 0),
    # claims tests="6" failures="1": a failure no case shows
    "enricomi__no-cases-but-tests.xml": (0, 0, 0, 0, 0, 0, 0, 0, 1),
    "enricomi__no-cases.xml": (0, 0, 0, 0, 0, 0, 0, 0, 0),
    "enricomi__testsuite-in-testsuite.xml": (5, 5, 0, 0, 0, 0, 0, 0, 0),
    "enricomi__testsuite-root.xml": (5, 5, 0, 0, 0, 0, 0, 0, 0),
    "enricomi__with-xml-entities.xml": (4, 0, 1, 1, 2, 0, 0, 0, 0),
    "jenkins__junit-report-bad-duration.xml": (2, 2, 0, 0, 0, 0, 0, 0, 0),  # claims tests="1"
    "jenkins__junit-report-empty-testcasename.xml": (1, 0, 1, 0, 0, 0, 0, 0, 0),
    "jenkins__junit-report-huge.xml": (7580, 5131, 19, 0, 2430, 1, 0, 0, 0),
    # 2 testcases + a suite-level <error> in a suite with no testcase; root claims tests="186"
    "jenkins__junit-report-nested-testsuites.xml": (3, 2, 0, 1, 0, 0, 0, 0, 0),
    "jenkins__junit-report-testsuite-various-timestamps.xml": (12, 12, 0, 0, 0, 0, 0, 0, 0),
    "jenkins__junit-report-with-properties.xml": (2, 1, 1, 0, 0, 0, 0, 0, 0),
    # go-junit-report
    "001-report.xml": (5, 2, 1, 0, 2, 0, 0, 0, 0),
    "012-report.xml": (11, 6, 4, 0, 1, 0, 0, 0, 0),
    "014-report.xml": (2, 0, 0, 2, 0, 0, 0, 0, 0),
    "017-report.xml": (1, 0, 1, 0, 0, 0, 0, 0, 0),
    "030-report.xml": (17, 8, 9, 0, 0, 0, 0, 0, 0),
    "101-report.xml": (2, 1, 1, 0, 0, 0, 0, 0, 0),
    "104-report.xml": (1, 0, 1, 0, 0, 0, 0, 0, 0),
    # maven surefire (and TestNG's JUnit reporter)
    "dorny__TEST-org.apache.pulsar.AddMissingPatchVersionTest.xml": (2, 0, 1, 0, 1, 0, 0, 0, 0),
    "jenkins__TEST-io.olamy.AlwaysFailTest.xml": (1, 0, 1, 0, 0, 0, 0, 0, 0),  # claims 4 failures
    "jenkins__TEST-io.olamy.FlakyTest.xml": (
        1,
        1,
        0,
        0,
        0,
        1,
        0,
        0,
        0,
    ),  # claims tests=3 failures=2
    "mikepenz__TEST-action.surefire.report.calc.CalcUtilsTest.xml": (2, 0, 2, 0, 0, 0, 0, 0, 0),
    "mikepenz__TEST-action.surefire.report.calc.StringUtilsTest.xml": (5, 2, 2, 0, 1, 0, 0, 0, 0),
    "mikepenz__TEST-action.surefire.report.email.EmailAddressTest.xml": (9, 2, 2, 5, 0, 0, 0, 0, 0),
    "mikepenz__surefire-flaky-report.xml": (1, 1, 0, 0, 0, 1, 0, 0, 0),
    # pytest and python unittest
    "dorny__python-xunit-pytest.xml": (10, 6, 2, 0, 2, 0, 0, 0, 0),  # claims tests="15"
    "dorny__python-xunit-unittest.xml": (8, 4, 1, 1, 2, 0, 0, 0, 0),
    "enricomi__horovod-junit.gloo.standalone.xml": (97, 80, 0, 0, 17, 0, 0, 0, 0),
    "enricomi__horovod-junit.mpi.standalone.xml": (97, 96, 0, 0, 1, 0, 0, 0, 0),
    "enricomi__horovod-junit.spark.integration.1.xml": (35, 33, 0, 0, 2, 0, 0, 0, 0),
    "enricomi__junit.fail.xml": (5, 3, 1, 0, 1, 0, 0, 0, 0),
    "mikepenz__report.xml": (3, 1, 2, 0, 0, 0, 0, 0, 0),
    # "flaky" only in a test's name: no rerun elements, so nothing is flaky
    "mikepenz__report_flaky.xml": (4, 2, 2, 0, 0, 0, 0, 0, 0),
    # shaped after PHPUnit's and karma-junit-reporter's own output
    "phpunit-warning.xml": (3, 2, 0, 0, 0, 0, 0, 1, 0),
    # errors="1" for the lost browser; the two cases that ran passed
    "karma-browser-crash.xml": (2, 2, 0, 0, 0, 0, 0, 0, 1),
}


def _counts(s: junit.JUnitSummary) -> tuple[int, ...]:
    return (
        *(s.tests, s.passed, s.failures, s.errors, s.skipped, s.flaky),
        *(s.not_run, s.warnings, s.suite_errors),
    )


# --- the whole corpus -------------------------------------------------------------------------


def test_corpus_is_present_and_fully_reviewed() -> None:
    names = [p.name for p in CORPUS]
    assert len(names) == len(set(names)), "sample names must be unique across folders"
    unreviewed = sorted(set(names) - EXPECTED.keys() - REFUSED.keys())
    assert not unreviewed, f"new samples need hand-counted figures in EXPECTED: {unreviewed}"
    assert not (EXPECTED.keys() | REFUSED.keys()) - set(names), "figures for a missing sample"


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_every_sample_parses_consistently_or_is_refused(path: Path) -> None:
    data = path.read_bytes()
    if path.name in REFUSED:
        with pytest.raises(BadInput) as refused:
            junit.parse(data, path.name)
        assert path.name in refused.value.message
        assert REFUSED[path.name] in refused.value.message
        assert "\n" not in refused.value.message
        return
    s = junit.parse(data, path.name)
    assert s.passed + s.failures + s.errors + s.skipped + s.not_run + s.warnings == s.tests
    assert s.executed == s.passed + s.failures + s.errors + s.warnings
    assert 0 <= s.flaky <= s.passed
    assert s.duration_seconds >= 0
    clean = s.failures == s.errors == s.suite_errors == s.warnings == 0
    assert s.ok == (s.executed > 0 and clean)
    assert len(s.failing) == min(10, s.failures + s.errors)
    assert s.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_counts_match_hand_count(name: str) -> None:
    assert _counts(_parse(name)) == EXPECTED[name]


# --- by value: the files that carry a decision ------------------------------------------------


def test_pytest_report() -> None:
    s = _parse("dorny__python-xunit-pytest.xml")
    assert (s.suites, s.format_hint, s.ok) == (1, "pytest", False)
    assert s.duration_seconds == pytest.approx(0.007)
    assert s.failing == ("tests.test_lib::test_always_fail", "tests.test_lib::test_error")


def test_passing_pytest_report_is_ok() -> None:
    s = _parse("enricomi__horovod-junit.mpi.standalone.xml")
    assert s.ok and s.failing == ()
    assert s.format_hint == "pytest"


def test_go_junit_report() -> None:
    s = _parse("001-report.xml")
    assert (s.suites, s.format_hint, s.ok) == (3, "go-junit-report", False)
    assert s.duration_seconds == pytest.approx(0.461)
    assert s.failing == ("package/fail::TestOne",)


@pytest.mark.parametrize(
    "name", ["mikepenz__surefire-flaky-report.xml", "jenkins__TEST-io.olamy.FlakyTest.xml"]
)
def test_surefire_flaky_pass_is_passed_and_flaky_not_failed(name: str) -> None:
    s = _parse(name)
    assert (s.tests, s.passed, s.flaky, s.failures, s.errors) == (1, 1, 1, 0, 0)
    assert s.ok and s.format_hint == "surefire"


def test_surefire_reruns_that_always_failed_count_as_one_failure() -> None:
    s = _parse("jenkins__TEST-io.olamy.AlwaysFailTest.xml")
    assert (s.tests, s.failures, s.flaky, s.ok) == (1, 1, 0, False)
    assert s.failing == ("io.olamy.AlwaysFailTest::testApp",)


@pytest.mark.parametrize(
    "name", ["enricomi__testsuite-in-testsuite.xml", "enricomi__testsuite-root.xml"]
)
def test_nested_suites_at_any_depth(name: str) -> None:
    s = _parse(name)
    assert (s.tests, s.passed, s.suites, s.ok) == (5, 5, 4, True)
    # testcase times sum to 4.807419, which here happens to equal the outer suite's time
    assert s.duration_seconds == pytest.approx(4.807419)


def test_suite_level_error_is_not_lost_in_nested_suites() -> None:
    s = _parse("jenkins__junit-report-nested-testsuites.xml")
    assert (s.tests, s.errors, s.suites, s.ok) == (3, 1, 4, False)
    assert s.failing == ("test.3rdlevel::(suite)",)
    assert s.duration_seconds == pytest.approx(0.006)


def test_testcase_times_win_over_inconsistent_suite_times() -> None:
    s = _parse("jenkins__junit-report-testsuite-various-timestamps.xml")
    assert s.suites == 9
    assert s.duration_seconds == pytest.approx(287.78)  # suites claim 2503.1 + 40


def test_jest_suites_that_failed_to_run_are_errors() -> None:
    s = _parse("dorny__jest-test-errors.xml")
    assert (s.tests, s.errors, s.suites, s.format_hint, s.ok) == (2, 2, 2, "jest", False)
    assert s.failing == (
        "Test suite failed to run::libs/foo.spec.ts",
        "Test suite failed to run::libs/bar.spec.ts",
    )


def test_jest_empty_suite_is_not_evidence() -> None:
    s = _parse("dorny__jest-junit-empty-testsuite.xml")
    assert (s.tests, s.suites, s.format_hint, s.ok) == (0, 1, "jest", False)
    assert s.duration_seconds == pytest.approx(11.299)  # no cases: the root's time


def test_bad_duration_does_not_crash_and_negative_counts_as_zero() -> None:
    s = _parse("jenkins__junit-report-bad-duration.xml")
    assert (s.tests, s.passed, s.ok) == (2, 2, True)
    assert s.duration_seconds == pytest.approx(100.0)  # time="-345345" and time="100"


def test_huge_report() -> None:
    data = _read("jenkins__junit-report-huge.xml")
    s = junit.parse(data, "huge.xml")
    assert len(re.findall(rb"<testcase\b", data)) == 7580  # independent cross-check
    assert _counts(s) == (7580, 5131, 19, 0, 2430, 1, 0, 0, 0)
    assert len(s.failing) == 10
    assert s.ok is False


def test_no_cases_but_tests_is_zero_tests_and_not_ok() -> None:
    s = _parse("enricomi__no-cases-but-tests.xml")
    assert (s.tests, s.failures, s.skipped, s.suites, s.ok) == (0, 0, 0, 1, False)
    assert s.duration_seconds == pytest.approx(0.010)


def test_multiresult_precedence() -> None:
    s = _parse("enricomi__junit.multiresult.xml")
    assert s.failing == ("test class::test that errors", "test class::test that fails")


def test_predefined_entities_and_char_refs_are_fine() -> None:
    s = _parse("enricomi__with-xml-entities.xml")
    assert s.failing == (
        "Test with 'apostrophe' in the test name",
        "Test with & in the test name",
    )


@pytest.mark.parametrize(
    "name", ["jenkins__TEST-io.olamy.FlakyTest.xml", "001-report.xml", "enricomi__no-cases.xml"]
)
def test_sha256_is_of_the_raw_bytes(name: str) -> None:
    data = _read(name)
    assert junit.parse(data, name).sha256 == hashlib.sha256(data).hexdigest()


# --- rules on small inline reports ------------------------------------------------------------


def _doc(cases: str) -> bytes:
    return f'<testsuites><testsuite name="s">{cases}</testsuite></testsuites>'.encode()


def test_lenient_times() -> None:
    times = ["1,234.5", "", "abc", "nan", "inf", "-3", " 0.5 "]
    s = junit.parse(
        _doc("".join(f'<testcase name="t{i}" time="{t}"/>' for i, t in enumerate(times)))
    )
    assert s.tests == 7
    assert s.duration_seconds == pytest.approx(1235.0)


def test_result_rules() -> None:
    s = junit.parse(
        _doc(
            '<testcase name="twice"><failure/><failure/></testcase>'
            '<testcase name="rerun-only"><rerunError/></testcase>'
            '<testcase name="flaky-error"><flakyError/></testcase>'
            '<testcase name="skipped-flaky"><skipped/><flakyFailure/></testcase>'
        )
    )
    assert _counts(s) == (4, 1, 1, 1, 1, 1, 0, 0, 0)
    assert s.failing == ("twice", "rerun-only")


def test_failing_list_is_capped_at_ten() -> None:
    s = junit.parse(
        _doc("".join(f'<testcase name="f{i}"><failure/></testcase>' for i in range(25)))
    )
    assert s.failures == 25
    assert s.failing == tuple(f"f{i}" for i in range(10))


def test_deeply_nested_suites_do_not_recurse() -> None:
    depth = 5000
    data = ("<testsuite>" * depth + '<testcase name="deep"/>' + "</testsuite>" * depth).encode()
    s = junit.parse(data)
    assert (s.tests, s.suites, s.ok) == (1, depth, True)


# --- refusals ---------------------------------------------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str]

    def do_GET(self) -> None:
        self.hits.append(self.path)
        body = b'<!ENTITY leak "LEAKED-FROM-SERVER">'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def dtd_server() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP peer serving a DTD, to prove the parser never fetches one."""
    hits: list[str] = []
    handler = type("Handler", (_Recorder,), {"hits": hits})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    # A short poll interval keeps shutdown (and so each test's teardown) fast.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE testsuites [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + ']>\n<testsuites name="&lol9;"><testsuite><testcase name="x"/></testsuite></testsuites>'
)


def _hostile(base: str, secret_file: Path) -> dict[str, str]:
    case = '<testsuites><testsuite name="&{};"><testcase name="x"/></testsuite></testsuites>'
    return {
        "billion-laughs": BILLION_LAUGHS,
        "xxe-etc-passwd": '<!DOCTYPE t [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        + case.format("xxe"),
        "xxe-local-file": f'<!DOCTYPE t [<!ENTITY xxe SYSTEM "{secret_file.as_uri()}">]>'
        + case.format("xxe"),
        "xxe-http": f'<!DOCTYPE t [<!ENTITY xxe SYSTEM "{base}/xxe">]>' + case.format("xxe"),
        "external-dtd": f'<!DOCTYPE testsuites SYSTEM "{base}/evil.dtd">' + case.format("leak"),
        "parameter-entity": f'<!DOCTYPE t [<!ENTITY % remote SYSTEM "{base}/p.dtd"> %remote;]>'
        + case.format("leak"),
        "harmless-internal-dtd": "<!DOCTYPE testsuites []><testsuites/>",
    }


HOSTILE_KINDS = tuple(_hostile("http://peer", Path("/secret")))


@pytest.mark.parametrize("kind", HOSTILE_KINDS)
def test_dtds_and_entities_are_refused_without_expanding_or_fetching(
    kind: str, dtd_server: tuple[str, list[str]], tmp_path: Path
) -> None:
    base, hits = dtd_server
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER")
    data = _hostile(base, secret)[kind].encode()
    with pytest.raises(BadInput) as refused:
        junit.parse(data, f"{kind}.xml")
    message = refused.value.message
    assert message.startswith(f"{kind}.xml: ")
    assert "DTD" in message and "entit" in message
    assert hits == [], "the parser fetched an external resource"
    for leaked in ("root:", "TOP-SECRET-MARKER", "LEAKED-FROM-SERVER", "lollol"):
        assert leaked not in message


def test_truncated_xml_is_refused_naming_the_line() -> None:
    data = b'<?xml version="1.0"?>\n<testsuites>\n  <testsuite name="a">\n    <testcase name="t"'
    with pytest.raises(BadInput) as refused:
        junit.parse(data, "truncated.xml")
    assert refused.value.message.startswith("truncated.xml: not well-formed XML at line 4")


def test_truncated_real_report_is_refused() -> None:
    data = _read("dorny__python-xunit-pytest.xml")
    with pytest.raises(BadInput, match=r"^cut\.xml: not well-formed XML at line \d+"):
        junit.parse(data[: len(data) // 2], "cut.xml")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"  \n\t ", "empty"),
        (b"not xml at all", "not well-formed XML at line 1"),
        (b"<testsuites><testsuite></testsuites>", "not well-formed XML at line 1"),
        (b"<html><body/></html>", "root element is <html>"),
        (b'<?xml version="1.0" encoding="bogus"?><testsuites/>', "unreadable XML"),
    ],
)
def test_bad_input_is_refused_with_one_line_naming_the_source(data: bytes, reason: str) -> None:
    with pytest.raises(BadInput) as refused:
        junit.parse(data, "upload.xml")
    assert refused.value.message.startswith("upload.xml: ")
    assert reason in refused.value.message
    assert "\n" not in refused.value.message


def test_default_source_is_named() -> None:
    with pytest.raises(BadInput, match=r"^report: report is empty$"):
        junit.parse(b"")


def test_size_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _doc('<testcase name="t"/>')
    monkeypatch.setattr(junit, "MAX_BYTES", len(data))
    assert junit.parse(data).tests == 1  # exactly at the cap is fine
    monkeypatch.setattr(junit, "MAX_BYTES", len(data) - 1)
    with pytest.raises(BadInput, match=r"^big\.xml: .*over the \d+-byte limit"):
        junit.parse(data, "big.xml")


def test_default_cap_admits_the_huge_sample() -> None:
    assert len(_read("jenkins__junit-report-huge.xml")) < junit.MAX_BYTES == 50 * 1024 * 1024


# --- verdicts: a run passes only when tests ran and nothing went wrong (issue 10, CM-4) ------


def test_a_report_whose_every_test_was_skipped_is_not_passing() -> None:
    s = junit.parse(fixture("real-world", "case-02.xml").read_bytes(), "case-02.xml")
    assert (s.tests, s.executed, s.skipped, s.ok) == (3, 0, 3, False)
    assert s.verdict().why == "no test executed (3 skipped, 0 not run)"


def test_google_test_disabled_cases_are_not_run() -> None:
    s = junit.parse(fixture("real-world", "case-03.xml").read_bytes(), "case-03.xml")
    assert (s.tests, s.executed, s.not_run, s.passed, s.ok) == (2, 0, 2, 0, False)
    assert s.verdict().why == "no test executed (0 skipped, 2 not run)"


def test_google_test_result_attributes() -> None:
    report = b"""<testsuites><testsuite name="T" tests="4" failures="0" errors="0">
      <testcase name="a" status="run" result="completed" classname="T"/>
      <testcase name="b" status="run" result="skipped"><skipped message=""/></testcase>
      <testcase name="c" status="run" result="skipped" classname="T"/>
      <testcase name="DISABLED_d" status="notrun" result="suppressed" classname="T"/>
    </testsuite></testsuites>"""
    s = junit.parse(report)
    assert (s.passed, s.skipped, s.not_run, s.executed, s.ok) == (1, 2, 1, 1, True)


def test_phpunit_warnings_fail_unless_the_policy_lets_them_pass() -> None:
    s = _parse("phpunit-warning.xml")
    assert (s.executed, s.passed, s.warnings) == (3, 2, 1)
    strict, lenient = s.verdict(warnings_fail=True), s.verdict(warnings_fail=False)
    assert not strict.passing and "1 of 3 executed ended with a warning" in strict.why
    assert (lenient.passing, lenient.why) == (True, "3 passed of 3 executed")


def test_a_crashed_browser_declared_only_by_its_suite_is_not_passing() -> None:
    s = _parse("karma-browser-crash.xml")
    assert (s.passed, s.failures, s.errors, s.suite_errors, s.ok) == (2, 0, 0, 1, False)
    assert "declare 1 error(s) or failure(s) that no test case shows" in s.verdict().why


@pytest.mark.parametrize(
    ("outer", "expected"),
    [('errors="1"', 1), ('errors="0"', 1), ('errors="2"', 2), ('errors="x"', 1)],
)
def test_an_undeclared_failure_counts_once_at_the_deepest_suite(outer: str, expected: int) -> None:
    report = f"""<testsuites {outer}><testsuite name="outer" {outer}>
      <testsuite name="inner" errors="1"><testcase name="ok"/></testsuite>
      <testcase name="fine"/>
    </testsuite></testsuites>""".encode()
    assert junit.parse(report).suite_errors == expected


def test_suite_attributes_that_match_the_cases_accuse_nothing() -> None:
    report = b"""<testsuite name="s" failures="2" errors="1">
      <testcase name="a"><failure/></testcase><testcase name="b"><failure/></testcase>
      <testcase name="c"><error/></testcase><testcase name="d"/>
    </testsuite>"""
    s = junit.parse(report)
    assert (s.failures, s.errors, s.suite_errors) == (2, 1, 0)
    assert s.verdict().why == "2 failed and 1 errored of 4 executed"
