"""The few pages sign-in shows before anyone is signed in: a message, and the demo's chooser.

Plain HTML without scripts or inline styles (the web app's Content-Security-Policy), the
stylesheet from /static; every value escaped.
"""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse

_FRAME = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · changegate</title><link rel="stylesheet" href="/static/app.css"></head>
<body><main class="sign-in"><h1>{title}</h1>{body}</main></body></html>"""


def page(status: int, title: str, body: str) -> HTMLResponse:
    """`body` is HTML the caller escaped."""
    html = _FRAME.format(title=escape(title), body=body)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def message_page(status: int, title: str, message: str, retry: bool = False) -> HTMLResponse:
    again = '<p><a href="/auth/login">Sign in</a></p>' if retry else ""
    return page(status, title, f"<p>{escape(message)}</p>{again}")


def demo_page(people: list[tuple[str, str, str]], token: str, back: str) -> HTMLResponse:
    """One button per active person: a demo signs in without an identity provider."""
    rows = "".join(
        f'<li><form method="post" action="/auth/demo">'
        f'<input type="hidden" name="email" value="{escape(email)}">'
        f'<input type="hidden" name="token" value="{escape(token)}">'
        f'<input type="hidden" name="next" value="{escape(back)}">'
        f'<button type="submit">{escape(name)}</button> '
        f"<span>{escape(email)} · {escape(roles)}</span></form></li>"
        for email, name, roles in people
    )
    note = (
        "<p>Demo sign-in: the policy allows choosing who you are without an identity "
        "provider (<code>identity.demo_sign_in</code>). Never enable it on a real server.</p>"
    )
    return page(200, "Sign in (demo)", f'{note}<ul class="people">{rows}</ul>')
