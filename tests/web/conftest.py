"""Browser tests: Debian's Chromium driven by Playwright, against a real server over a seeded
database (SQLite and PostgreSQL).

Chromium is /usr/bin/chromium (CHANGEGATE_TEST_CHROMIUM elsewhere). Without it the browser
tests are skipped and the summary says so loudly; with CHANGEGATE_TEST_REQUIRE_BROWSER=1 (set
by .ci/run) they fail instead, as the PostgreSQL half does with CHANGEGATE_TEST_REQUIRE_PG.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from changegate import bootstrap
from changegate.api.app import create_app
from changegate.bootstrap import App
from changegate.config import Settings
from changegate.config_identity import OidcSettings
from changegate.services import demo
from tests.api.conftest import free_port

CHROMIUM = os.environ.get("CHANGEGATE_TEST_CHROMIUM", "/usr/bin/chromium")
QUARTER_START = date(2026, 7, 1)
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
AXE = ROOT / "tests" / "fixtures" / "axe-core" / "axe.min.js"
MISSING = "Chromium absent"


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CHANGEGATE_TEST_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{MISSING} at {CHROMIUM}: apt-get install -y chromium", pytrace=False)
        pytest.skip(f"{MISSING} at {CHROMIUM}")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        launched = p.chromium.launch(executable_path=chromium_path, args=["--no-sandbox"])
        yield launched
        launched.close()


@dataclass
class Site:
    app: App
    url: str
    db: str  # sqlite | postgresql

    def page(self, browser: Any) -> Any:
        context = browser.new_context(base_url=self.url, viewport={"width": 1280, "height": 900})
        return context.new_page()


def with_demo_sign_in(app: App) -> App:
    """The demo's identity settings: its seeding decides through `--as`, people sign in by
    picking themselves."""
    changes = {"demo_sign_in": True, "local_decisions": "allow"}
    identity = app.policy.identity.model_copy(update=changes)
    app.policy = app.policy.model_copy(update={"identity": identity})
    return app


@contextmanager
def serving(app: App, port: int | None = None) -> Iterator[str]:
    """`app` on a real socket (uvicorn in a thread); yields its base URL."""
    port = port or free_port()
    config = uvicorn.Config(create_app(app), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def seeded(db_url: str) -> App:
    """The demo's quarter on a fresh database, with the demo's identity settings."""
    app = with_demo_sign_in(bootstrap.build(Settings(database_url=db_url)))
    demo.seed(app, QUARTER_START)
    return app


def _kind(db_url: str) -> str:
    return "postgresql" if "postgres" in db_url else "sqlite"


@pytest.fixture
def site(db_url: str, chromium_path: str) -> Iterator[Site]:
    app = seeded(db_url)
    with serving(app) as url:
        yield Site(app, url, _kind(db_url))
    app.engine.dispose()


@pytest.fixture(scope="session")
def issuer() -> Iterator[str]:
    """A local OpenID provider (oidc-provider-mock: discovery, JWKS, authorize, token)."""
    import oidc_provider_mock

    with oidc_provider_mock.run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def oidc_site(db_url: str, chromium_path: str, issuer: str) -> Iterator[Site]:
    """The same, signing in through a local OpenID provider (oidc-provider-mock)."""
    app = seeded(db_url)
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    oidc = OidcSettings(
        issuer, "changegate", "secret", public, allowed_domains=("casperstudios.example",)
    )
    app.settings = dataclasses.replace(app.settings, oidc=oidc)
    with serving(app, port) as url:
        yield Site(app, url, _kind(db_url))
    app.engine.dispose()


def sign_in(page: Any, email: str, back: str = "/") -> None:
    """Through the demo-only sign-in: pick the person on /auth/demo."""
    page.goto(f"/auth/demo?next={back}")
    page.locator("form", has=page.locator(f'input[name="email"][value="{email}"]')).locator(
        "button"
    ).click()
    page.wait_for_load_state()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    # Evaluated through the DevTools protocol: an injected <script> would be inline, which the
    # pages' Content-Security-Policy refuses (as it should).
    page.evaluate(AXE.read_text())
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document)).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
    )
    return found


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if any(MISSING in str(getattr(r, "longrepr", "")) for r in skipped):
        terminalreporter.write_line(
            f"WARNING: browser tests were SKIPPED: {MISSING} at {CHROMIUM} "
            "(apt-get install -y chromium)",
            red=True,
            bold=True,
        )
