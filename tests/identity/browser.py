"""A browser for `changegate login`'s tests, run as `BROWSER="python browser.py %s"`: opens the
page, signs in with the demo sign-in as $CG_BROWSER_AS, agrees, and follows the server's
redirect to the CLI's listener. With --show-code it stops at the code page and prints the code.
"""

from __future__ import annotations

import os
import re
import sys

import httpx


def field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no {name} in {html[:500]}"
    return found.group(1).replace("&amp;", "&")


def sign_in(client: httpx.Client, url: str, who: str) -> httpx.Response:
    """Open `url`; sign in through the demo chooser when asked; the page `url` shows."""
    page = client.get(url)
    if "/auth/demo" in str(page.url):
        form = page.text.split(f'value="{who}"', 1)[1]
        token = re.search(r'name="token" value="([^"]+)"', form)
        back = re.search(r'name="next" value="([^"]+)"', form)
        assert token and back
        data = {"email": who, "token": token.group(1), "next": back.group(1).replace("&amp;", "&")}
        page = client.post(str(page.url.copy_with(query=None)), data=data)
    page.raise_for_status()
    return page


def main(url: str, show_code: bool) -> None:
    with httpx.Client(follow_redirects=True, timeout=30) as client:
        consent = sign_in(client, url, os.environ["CG_BROWSER_AS"])
        data = {k: field(consent.text, k) for k in ("csrf_token", "challenge", "port")}
        answer = client.post(str(consent.url.copy_with(query=None)), data=data)
        answer.raise_for_status()
        if show_code:
            code = re.search(r'<output class="login-code">([^<]+)</output>', answer.text)
            assert code
            print(code.group(1))


if __name__ == "__main__":
    main(sys.argv[-1], "--show-code" in sys.argv)
