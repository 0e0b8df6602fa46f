"""`make demo` opens the web app: its banner's sign-in link, in Chromium, signs a demo person in
through the demo-only sign-in, onto their home page; the seeded quarter's dashboard is there."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.cli.test_demo import _start_demo, _stop, free_port


def test_the_demo_banner_signs_a_person_into_the_web_app(tmp_path: Path, browser: Any) -> None:
    port = free_port()
    proc, text = _start_demo(tmp_path, port)
    try:
        link = re.search(
            r"^\s+(http://\S+/auth/demo\?next=/)\s+e\.g\. as the ISO, (\S+):", text, re.M
        )
        board = re.search(r"^\s+(http://\S+/dashboard\?quarter=2026-Q3)\s", text, re.M)
        assert link and board, text
        page = browser.new_context().new_page()
        page.goto(link.group(1))
        iso = link.group(2)
        page.locator("form", has=page.locator(f'input[name="email"][value="{iso}"]')).locator(
            "button"
        ).click()
        page.wait_for_url(f"http://127.0.0.1:{port}/")
        assert page.get_by_role("heading", name="What awaits you").is_visible()
        assert page.get_by_role("button", name=re.compile(r"^Approve CHG-\d+ v\d+ as iso$")).count()
        page.goto(board.group(1))
        assert page.get_by_role("heading", name="Change management in 2026-Q3").is_visible()
        page.context.close()
    finally:
        _stop(proc)
