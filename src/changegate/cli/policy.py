"""`changegate policy show|check`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from changegate import policy as policy_file
from changegate.cli import runtime, transport
from changegate.cli.options import Json, group
from changegate.cli.output import emit_json, say
from changegate.config import Settings
from changegate.domain.errors import BadInput, Refused
from changegate.services.views import policy as views
from changegate.services.views.policy import PolicyOut

app = group("The change-management policy in force.")


@app.command("show")
def show(json_out: Json = False) -> None:
    """The effective policy (defaults merged with CHANGEGATE_POLICY), its digest, and the
    first day audited."""
    settings = Settings.from_env()
    source = str(settings.policy_path or "built-in defaults")
    if transport.remote_settings() is not None:
        out: PolicyOut = transport.fetch(
            "policy show", None, PolicyOut, lambda r: r.call("GET", "/api/v1/policy")
        )
    else:
        out = _local(settings, source)
    if json_out:
        emit_json(out)
        return
    import yaml  # noqa: PLC0415

    set_in_policy = out.policy["audits"]["effective_from"] is not None
    origin = "audits.effective_from" if set_in_policy else "the adoption date"
    since = (
        f"{out.effective_from} ({origin})"
        if out.effective_from
        else ("the beginning (no adoption date recorded)")
    )
    say(f"# source: {out.source}\n# digest: sha256:{out.digest}\n# audited from: {since}")
    say(yaml.safe_dump(out.policy, sort_keys=False, allow_unicode=True).rstrip())


def _local(settings: Settings, source: str) -> PolicyOut:
    """The adoption date comes from the database when there is one; the policy alone else."""
    policy = policy_file.load(settings.policy_path)
    try:
        with runtime.app() as cg:
            return cg.read(lambda ctx: views.show(ctx, source))
    except BadInput:
        return views.policy_of(policy, source, None)


@app.command("check")
def check(file: Annotated[Path, typer.Argument(metavar="FILE")]) -> None:
    """Validate a policy file; exit 1 naming the first offending key."""
    if not file.is_file():
        raise BadInput(f"no such file: {file}")
    try:
        policy = policy_file.load(file)
        policy.holidays.known_calendar()
    except BadInput as exc:
        raise Refused("policy", exc.message) from None
    say(f"{file}: ok (sha256:{policy.digest()[:16]})")
