"""CI-facing commands: `test record`, `gate check`, `deploy ...`; in-process or over HTTP.

With CHANGEGATE_URL and CHANGEGATE_TOKEN set they call the server; otherwise they act on the
configured database as the `--as` user (a pipeline principal).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from changegate.bootstrap import read_report
from changegate.cli import runtime
from changegate.cli.output import emit_json, say
from changegate.cli.remote import Remote
from changegate.config import Settings
from changegate.domain.errors import BadInput
from changegate.services import deployments, gate, testruns, views
from changegate.services.context import Context

test_app = typer.Typer(help="Regression-test evidence.", no_args_is_help=True)
gate_app = typer.Typer(help="The deployment gate.", no_args_is_help=True)
deploy_app = typer.Typer(help="Deployments.", no_args_is_help=True)

As = Annotated[str | None, typer.Option("--as", help="Act as this user (in-process only).")]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
Commit = Annotated[str, typer.Option(help="The commit SHA.")]
Env = Annotated[str, typer.Option("--env", help="Target environment.")]


def perform(
    as_: str | None, remote: Callable[[Remote], Any], local: Callable[[Context], Any]
) -> Any:
    """Over HTTP when CHANGEGATE_URL is set, else in-process as the --as user."""
    settings = Settings.from_env()
    if settings.server_url:
        return remote(Remote(settings.server_url, settings.token))
    if not as_:
        raise BadInput("give --as EMAIL, or set CHANGEGATE_URL and CHANGEGATE_TOKEN")
    with runtime.app() as cg:
        return cg.run(local, actor=as_)


@test_app.command("record")
def record(
    key: str,
    env: Env,
    commit: Commit,
    junit: Annotated[Path, typer.Option(help="JUnit XML report.")],
    artifact: Annotated[str | None, typer.Option(help="Artifact digest.")] = None,
    doc: Annotated[str | None, typer.Option(help="Where the results are written up.")] = None,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Record a regression-test report for a commit of a change (CM-4)."""
    try:
        data = junit.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read {junit}: {exc.strerror}") from None

    def remote(r: Remote) -> Any:
        form = {"environment": env, "commit": commit, "artifact": artifact, "doc_url": doc}
        return r.call(
            "POST",
            f"/api/v1/changes/{key}/test-runs",
            data={k: v for k, v in form.items() if v is not None},
            files={"junit": (junit.name, data, "application/xml")},
        )

    def local(ctx: Context) -> Any:
        report = read_report(data, junit.name)
        return views.test_run(testruns.record(ctx, key, env, commit, report, artifact, doc))

    run = perform(as_, remote, local)
    if json_out:
        emit_json(run)
        return
    verdict = "passing" if run["ok"] else "NOT passing"
    where = f"{run['environment']} ({'isolated' if run['isolated'] else 'not isolated'})"
    say(
        f"test run {run['id']} recorded for {key.upper()}: {run['tests']} tests, "
        f"{run['failures']} failures, {run['errors']} errors, {run['flaky']} flaky "
        f"({verdict}) for {run['commit'][:12]} in {where}"
    )


@gate_app.command("check")
def check(
    change: Annotated[str, typer.Option(help="Change key, e.g. CHG-42.")],
    env: Env,
    commit: Commit,
    artifact: Annotated[str | None, typer.Option()] = None,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Ask the gate; exit 0 if allowed, 1 if denied, 2 on error (fails closed)."""
    body = {"change": change, "environment": env, "commit": commit, "artifact": artifact}
    decision = perform(
        as_,
        lambda r: r.call("POST", "/api/v1/gate", json=body),
        lambda ctx: views.decision(gate.check(ctx, change, env, commit, artifact, "cli")),
    )
    if json_out:
        emit_json(decision)
    else:
        verdict = "ALLOWED" if decision["allowed"] else "DENIED"
        say(
            f"{verdict}: {decision['change']} {decision['commit'][:12]} to "
            f"{decision['environment']} (decision {decision['decision_id']})"
        )
        for reason in decision["reasons"]:
            say(f"  {'ok ' if reason['ok'] else 'NO '} {reason['control']}: {reason['message']}")
        for due in decision["obligations"]:
            say(f"  due: {due}")
    raise typer.Exit(0 if decision["allowed"] else 1)


def _iac(
    iac_file: Path | None, iac_path: str | None, iac_sha256: str | None
) -> tuple[str | None, str | None]:
    if iac_file is None:
        return iac_path, iac_sha256
    try:
        return iac_path or str(iac_file), hashlib.sha256(iac_file.read_bytes()).hexdigest()
    except OSError as exc:
        raise BadInput(f"cannot read {iac_file}: {exc.strerror}") from None


def _report_deployment(d: dict[str, Any], json_out: bool) -> None:
    if json_out:
        emit_json(d)
    else:
        say(
            f"deployment {d['id']} of {d['change']} ({d['commit'][:12]}) to "
            f"{d['environment']}: {d['status']}; change is {d['change_status']}"
        )


@deploy_app.command("start")
def start(
    change: Annotated[str, typer.Option()],
    env: Env,
    commit: Commit,
    run_url: Annotated[str, typer.Option(help="The pipeline run's URL.")],
    decision: Annotated[int | None, typer.Option(help="Gate decision id.")] = None,
    artifact: Annotated[str | None, typer.Option()] = None,
    iac_path: Annotated[str | None, typer.Option(help="IaC template path.")] = None,
    iac_sha256: Annotated[str | None, typer.Option()] = None,
    iac_file: Annotated[Path | None, typer.Option(help="IaC template to hash.")] = None,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Record that a deployment started (production: name the allowing gate decision)."""
    path, digest = _iac(iac_file, iac_path, iac_sha256)
    body = {
        "change": change,
        "environment": env,
        "commit": commit,
        "run_url": run_url,
        "artifact": artifact,
        "iac_path": path,
        "iac_sha256": digest,
        "decision_id": decision,
    }
    d = perform(
        as_,
        lambda r: r.call("POST", "/api/v1/deployments", json=body),
        lambda ctx: views.deployment(
            deployments.start(ctx, change, env, commit, run_url, artifact, path, digest, decision)
        ),
    )
    _report_deployment(d, json_out)


@deploy_app.command("finish")
def finish(deployment: int, as_: As = None, json_out: Json = False) -> None:
    """The deployment succeeded; in production the change becomes implemented."""
    d = perform(
        as_,
        lambda r: r.call("POST", f"/api/v1/deployments/{deployment}/finish"),
        lambda ctx: views.deployment(deployments.finish(ctx, deployment)),
    )
    _report_deployment(d, json_out)


@deploy_app.command("fail")
def fail(
    deployment: int,
    reason: Annotated[str, typer.Option()] = "",
    as_: As = None,
    json_out: Json = False,
) -> None:
    """The deployment failed."""
    d = perform(
        as_,
        lambda r: r.call("POST", f"/api/v1/deployments/{deployment}/fail", json={"reason": reason}),
        lambda ctx: views.deployment(deployments.fail(ctx, deployment, reason)),
    )
    _report_deployment(d, json_out)


@deploy_app.command("rollback")
def rollback(
    deployment: int,
    to: Annotated[str, typer.Option(help="Known-good commit.")],
    run_url: Annotated[str, typer.Option()] = "",
    reason: Annotated[str, typer.Option()] = "",
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Record a rollback of a deployment to a known-good commit (the change's rollback plan)."""
    body = {"to_commit": to, "run_url": run_url, "reason": reason}
    d = perform(
        as_,
        lambda r: r.call("POST", f"/api/v1/deployments/{deployment}/rollback", json=body),
        lambda ctx: views.deployment(deployments.rollback(ctx, deployment, to, run_url, reason)),
    )
    _report_deployment(d, json_out)
