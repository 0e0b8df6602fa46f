"""`changegate sandbox`: a local Linear and a local Google Drive, for trying the Linear and
Workspace integrations without accounts. They are the peers the test suite runs against
(changegate.sandbox); they keep everything in memory, trust anyone on this machine, and are
never a production endpoint."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import signal
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from changegate.cli.options import group, read_input
from changegate.cli.output import record, say, table
from changegate.config import Settings
from changegate.domain.errors import BadInput, Refused

app = group("Local stand-ins for Linear and Google Drive (trying changegate; never production).")
linear_app = group("The local Linear: file an issue as a person would, see what it shows.")
drive_app = group("The local Google Drive: what changegate filed there.")
app.add_typer(linear_app, name="linear")
app.add_typer(drive_app, name="drive")

PeerPort = Annotated[int, typer.Option(min=0, max=65535, help="TCP port; 0: any free one.")]
ENV_FILE = "sandbox.env"
POLICY_FILE = "sandbox-policy.yaml"


@app.command("serve")
def serve(
    out: Annotated[Path, typer.Option(help="Folder for the settings, CA and key it writes.")],
    linear_port: PeerPort = 0,
    drive_port: PeerPort = 0,
) -> None:
    """Run both peers on 127.0.0.1 until interrupted. Writes OUT/sandbox.env (the settings to
    `source`), OUT/sandbox-policy.yaml (the policy's workspace: section naming the shared
    drive), the service account's key file and the CA that the Drive peer's certificate is
    from. Exit 2 if a port is taken."""
    # Imported here: graphql-core and the schema cost every other command nothing.
    from changegate.sandbox.drive import evidence_drive, private_key_pem  # noqa: PLC0415
    from changegate.sandbox.linear import API_KEY, FakeLinear  # noqa: PLC0415

    out.mkdir(parents=True, exist_ok=True)
    try:
        linear, drive = (
            FakeLinear(port=linear_port),
            evidence_drive(out, private_key_pem(), drive_port),
        )
    except OSError as exc:
        raise BadInput(f"sandbox: cannot listen: {exc.strerror}") from None
    env = {
        "CHANGEGATE_LINEAR_API_KEY": API_KEY,
        "CHANGEGATE_LINEAR_WEBHOOK_SECRET": secrets.token_hex(16),
        "CHANGEGATE_LINEAR_URL": linear.url,
        "CHANGEGATE_GOOGLE_CREDENTIALS": str(drive.key_file.resolve()),
        "CHANGEGATE_GOOGLE_DRIVE_URL": drive.url,
        "CHANGEGATE_GOOGLE_CA_CERTS": str(drive.ca_path.resolve()),
    }
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with linear, drive:
        _write(out / POLICY_FILE, f"workspace:\n  shared_drive: {drive.shared}\n")
        # Written last, whole: a script waiting for this file finds both peers answering.
        _write(out / ENV_FILE, "".join(f"export {k}={v}\n" for k, v in env.items()))
        say(f"local Linear on {linear.url}, local Drive on {drive.url}; settings: {ENV_FILE}")
        stop.wait()


@linear_app.command("issue")
def issue(
    title: Annotated[str, typer.Option(help="The issue's title.")],
    body: Annotated[Path, typer.Option(help="A Markdown file: the issue's description.")],
    creator: Annotated[str, typer.Option(metavar="EMAIL", help="Who files it in Linear.")],
    label: Annotated[list[str], typer.Option(help="A label (repeatable).")] = [],  # noqa: B006
    hook: Annotated[str, typer.Option(help="changegate's Linear webhook.")] = (
        "http://127.0.0.1:8000/hooks/linear"
    ),
) -> None:
    """File an issue in the local Linear, then deliver Linear's webhook for it to --hook,
    signed with CHANGEGATE_LINEAR_WEBHOOK_SECRET as Linear signs it. Exit 1 if changegate
    refuses the delivery."""
    description = read_input(body, "--body").decode("utf-8", errors="replace")
    config = _linear()
    wanted = {"title": title, "description": description, "creator": creator}
    made = _call(
        "POST",
        _base(config.url) + "/sandbox/issues",
        config,
        json=wanted | {"labels": label or ["change-request"]},
    )
    payload = {
        "action": "create",
        "type": "Issue",
        "createdAt": made["updatedAt"],
        "url": made["url"],
        "data": {k: made[k] for k in ("id", "identifier", "number", "title", "description")},
        "organizationId": str(uuid.uuid5(uuid.NAMESPACE_URL, config.url)),
        "webhookId": str(uuid.uuid5(uuid.NAMESPACE_URL, hook)),
        "webhookTimestamp": int(datetime.now(UTC).timestamp() * 1000),
    }
    raw = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "Linear-Event": "Issue",
        "Linear-Delivery": str(uuid.uuid4()),
        "Linear-Signature": hmac.new(
            config.webhook_secret.encode(), raw, hashlib.sha256
        ).hexdigest(),
    }
    answer = _deliver(hook, raw, headers)
    if answer.status_code >= 300:
        raise Refused("sandbox", f"{hook} answered {answer.status_code}: {answer.text[:300]}")
    status = answer.json()["status"]
    say(f"{made['identifier']} filed in the local Linear; delivered to {hook}: {status}")


@linear_app.command("show")
def show(identifier: Annotated[str, typer.Argument(metavar="ISSUE", help="e.g. ENG-1")]) -> None:
    """What the issue shows in the local Linear: its state, comments and attachments (with
    the approvals changegate put on them)."""
    config = _linear()
    found = _call("GET", f"{_base(config.url)}/sandbox/issues/{identifier}", config)
    fields: list[tuple[str, object]] = [("title", found["title"]), ("state", found["state"])]
    fields += [("comment", first_line) for first_line in _firsts(found["comments"])]
    for attached in found["attachments"]:
        fields.append(("attachment", f"{attached['title']}: {attached['url']}"))
        fields += [
            (f"  {a['role']}", f"{a['decision']} by {a['by']} at {a['at']}")
            for a in (attached.get("metadata") or {}).get("approvals", [])
        ]
    record(f"{identifier} in the local Linear", fields)


@drive_app.command("ls")
def ls() -> None:
    """Every file in the local Drive, by folder (CHG-n/...), with changegate's tags."""
    google = Settings.from_env().google
    if google is None or not google.drive_url:
        raise BadInput("sandbox drive ls: source the sandbox.env that `sandbox serve` wrote")
    verify: Any = str(google.ca_certs) if google.ca_certs else True
    try:
        files = httpx.get(f"{google.drive_url}/sandbox/files", verify=verify, timeout=10).json()
    except httpx.HTTPError as exc:
        raise BadInput(f"the local Drive at {google.drive_url} does not answer: {exc}") from None
    rows = [
        (f["path"], f["appProperties"].get("changegateRole", ""), f["sha256Checksum"][:16])
        for f in sorted(files, key=lambda f: f["path"])
    ]
    table(None, ["file", "role", "sha256"], rows, "the local Drive holds no file")


def _linear() -> Any:
    config = Settings.from_env().linear
    if config is None:
        raise BadInput("sandbox linear: source the sandbox.env that `sandbox serve` wrote")
    return config


def _base(graphql_url: str) -> str:
    return graphql_url.removesuffix("/graphql")


def _call(method: str, url: str, config: Any, **kwargs: Any) -> Any:
    try:
        answer = httpx.request(
            method, url, headers={"Authorization": config.credential}, timeout=10, **kwargs
        )
    except httpx.HTTPError as exc:
        raise BadInput(f"the local Linear at {url} does not answer: {exc}") from None
    if answer.status_code == 404:
        raise BadInput(f"the local Linear has no such issue ({url})")
    answer.raise_for_status()
    return answer.json()


def _deliver(hook: str, raw: bytes, headers: dict[str, str]) -> httpx.Response:
    """POST, waiting up to 15 s for a server that is still starting."""
    deadline = time.monotonic() + 15
    while True:
        try:
            return httpx.post(hook, content=raw, headers=headers, timeout=10)
        except httpx.ConnectError as exc:
            if time.monotonic() > deadline:
                raise BadInput(f"{hook} does not answer: {exc}") from None
            time.sleep(0.2)


def _firsts(bodies: list[str]) -> list[str]:
    return [(b.strip().splitlines() or [""])[0] for b in bodies]


def _write(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    os.replace(partial, path)
