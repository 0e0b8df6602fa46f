"""CI cannot silently skip the browser tests: with CHANGEGATE_TEST_REQUIRE_BROWSER=1 (set by
.ci/run) a missing Chromium fails the run; without it they are skipped, and the summary says
so loudly."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.web.conftest import ROOT

ONE_BROWSER_TEST = "tests/web/test_browser.py::test_no_page_without_a_session[sqlite]"


def run_without_chromium(require: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHANGEGATE_")}
    env["CHANGEGATE_TEST_CHROMIUM"] = "/nonexistent/chromium"
    if require:
        env["CHANGEGATE_TEST_REQUIRE_BROWSER"] = "1"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"]
    return subprocess.run(
        [*command, ONE_BROWSER_TEST], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(("require", "outcome"), [(True, "1 error"), (False, "1 skipped")])
def test_the_switch_turns_the_skip_into_a_failure(require: bool, outcome: str) -> None:
    done = run_without_chromium(require)
    assert outcome in done.stdout, done.stdout[-2000:]
    assert (done.returncode != 0) is require
    if not require:
        assert "WARNING: browser tests were SKIPPED" in done.stdout


def test_ci_requires_the_browser_and_make_installs_it() -> None:
    ci = (ROOT / ".ci/run").read_text()
    assert "CHANGEGATE_TEST_REQUIRE_BROWSER=1" in ci and "make chromium" in ci
    makefile = (ROOT / "Makefile").read_text()
    assert "apt-get install -y chromium" in makefile and "test: lint chromium" in makefile
