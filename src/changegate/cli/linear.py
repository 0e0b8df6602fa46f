"""`changegate linear check|sync`: Linear as the front door (docs/linear.md)."""

from __future__ import annotations

from contextlib import ExitStack

from changegate import bootstrap
from changegate.cli import runtime, transport
from changegate.cli.options import Instant, Json, group
from changegate.cli.output import emit_json, record, say
from changegate.config import parse_instant
from changegate.domain.errors import BadInput
from changegate.services import linear_sync
from changegate.services.linear_delivery import LinearChannel

app = group("Linear: issues that ask for changes and waivers, and what goes back to them.")


@app.command("check")
def check(json_out: Json = False) -> None:
    """Hold the policy's linear: section against the workspace: its teams, the change and
    exception labels, and every mapped workflow state must exist. Exit 2 naming what is not."""
    transport.local_only("linear check")
    with runtime.app() as cg, ExitStack() as closing:
        workspace = bootstrap.linear_api(cg.settings, closing).workspace()
        found = linear_sync.check(workspace, cg.policy.linear)
        public = cg.settings.web.public_url
    if json_out:
        emit_json({**found.__dict__, "public_url": public})
    else:
        record(
            "Linear workspace",
            [
                ("teams", ", ".join(found.teams) or None),
                ("labels", ", ".join(found.labels) or None),
                ("workflow states", ", ".join(found.states) or None),
                ("attachment links", public or "CHANGEGATE_PUBLIC_URL is not set"),
            ],
        )
    if found.problems:
        raise BadInput("linear check: " + "; ".join(found.problems))


@app.command("sync")
def sync(
    since: Instant = None,
    json_out: Json = False,
) -> None:
    """Reconcile after downtime: apply every labelled issue updated since --since (default:
    where the last sync got to), then queue each linked request's current state for its issue
    (the worker sends it)."""
    transport.local_only("linear sync")
    moment = parse_instant(since, "--since") if since else None
    with runtime.app() as cg, ExitStack() as closing:
        api = bootstrap.linear_api(cg.settings, closing)
        channel = LinearChannel(api, cg.run, cg.read)
        done = linear_sync.sync(api, channel, cg.run, cg.policy.linear, moment, cg.now())
    if json_out:
        emit_json(
            {
                "since": done.since.isoformat(),
                "read": done.read,
                "outcomes": dict(done.outcomes),
                "queued": done.queued,
            }
        )
        return
    outcomes = ", ".join(f"{n} {status}" for status, n in sorted(done.outcomes.items()))
    say(
        f"read {done.read} labelled issue(s) updated since {done.since:%Y-%m-%d %H:%M} UTC"
        f"{': ' + outcomes if outcomes else ''}; {done.queued} request(s) queued to show "
        "their current state in Linear (the worker sends them)"
    )
