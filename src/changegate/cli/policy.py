"""`changegate policy show|check`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml

from changegate import policy as policy_file
from changegate.cli.output import emit_json, say
from changegate.config import Settings
from changegate.domain.errors import BadInput, Refused

app = typer.Typer(help="The change-management policy in force.", no_args_is_help=True)


@app.command("show")
def show(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Print the effective policy (defaults merged with CHANGEGATE_POLICY) and its digest."""
    settings = Settings.from_env()
    policy = policy_file.load(settings.policy_path)
    data = policy.model_dump(mode="json")
    if json_out:
        emit_json({"digest": policy.digest(), "policy": data})
        return
    source = settings.policy_path or "built-in defaults"
    say(f"# source: {source}\n# digest: sha256:{policy.digest()}")
    say(yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip())


@app.command("check")
def check(file: Path) -> None:
    """Validate a policy file; exit 1 naming the first offending key."""
    if not file.is_file():
        raise typer.BadParameter(f"no such file: {file}")
    try:
        policy = policy_file.load(file)
    except BadInput as exc:
        raise Refused("policy", exc.message) from None
    say(f"{file}: ok (sha256:{policy.digest()[:16]})")
