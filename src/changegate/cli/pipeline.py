"""CI-facing commands: `test record`, `gate check`, `deploy ...`; in-process or over HTTP.

With CHANGEGATE_URL and CHANGEGATE_TOKEN set they call the server; otherwise they act on the
configured database as the `--as` user (a pipeline principal).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any

import typer

from changegate import bootstrap
from changegate.bootstrap import read_report
from changegate.cli import transport
from changegate.cli.options import DEFAULT, As, Json, Limit, Offset, group, read_input
from changegate.cli.output import Column, emit_json, footer, say, table
from changegate.config import Settings
from changegate.services import deployments, gate, testruns
from changegate.services.views import pipeline as views
from changegate.services.views.common import Page
from changegate.services.views.pipeline import DeploymentOut, GateDecisionOut, TestRunOut

test_app = group("Regression-test evidence (CM-4).")
gate_app = group("The deployment gate.")
deploy_app = group("Deployments.")

Commit = Annotated[str, typer.Option(metavar="SHA", help="The commit SHA.")]
Env = Annotated[str, typer.Option("--env", metavar="ENV", help="Target environment.")]
Key = Annotated[str, typer.Argument(metavar="CHANGE", help="A change key, e.g. CHG-42.")]
Change = Annotated[str, typer.Option(metavar="CHANGE", help="A change key, e.g. CHG-42.")]
Digest = Annotated[str | None, typer.Option(metavar="DIGEST", help="Artifact digest.")]
DeploymentId = Annotated[int, typer.Argument(metavar="DEPLOYMENT", min=1, max=2**31 - 1)]


@test_app.command("record")
def record(
    key: Key,
    env: Env,
    commit: Commit,
    junit: Annotated[Path, typer.Option(metavar="FILE", help="JUnit XML report.")],
    artifact: Digest = None,
    doc: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="Where the results are written up; with a shared drive in the policy, a Google "
            "Doc or Sheet there, verified and frozen as PDF.",
        ),
    ] = None,
    upload: Annotated[
        bool | None,
        typer.Option(
            "--upload/--no-upload",
            help="File the report and a summary in the policy's shared drive "
            "(default: the policy's workspace.upload).",
        ),
    ] = None,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Record a regression-test report for a commit of a change (CM-4)."""
    data = read_input(junit)
    settings = Settings.from_env()

    def remote(r: Any) -> Any:
        form = {"environment": env, "commit": commit, "artifact": artifact, "doc_url": doc}
        form |= {"upload": str(upload).lower()} if upload is not None else {}
        return r.call(
            "POST",
            f"/api/v1/changes/{key}/test-runs",
            data={k: v for k, v in form.items() if v is not None},
            files={"junit": (junit.name, data, "application/xml")},
        )

    run = transport.write(
        "test record",
        as_,
        TestRunOut,
        lambda ctx: views.recorded(
            ctx,
            testruns.record(
                ctx,
                key,
                env,
                commit,
                read_report(data, junit.name),
                artifact,
                doc,
                data,
                file_in_drive=upload,
                drive=bootstrap.drive(settings, ctx.policy),
            ),
        ),
        remote,
    )
    if json_out:
        emit_json(run)
        return
    verdict = "passing" if run.ok else "NOT passing"
    where = f"{run.environment} ({'isolated' if run.isolated else 'not isolated'})"
    say(
        f"test run {run.id} recorded for {run.change} ({run.commit[:12]} in {where}): "
        f"{verdict}: {run.verdict}\n  {categories(run)}"
    )
    if run.workspace:
        say(f"  Google Workspace: {run.workspace}")


def categories(run: TestRunOut) -> str:
    """Every category, zeros too: `3 passed, 0 failed, 0 errored, 1 skipped, 2 not run`."""
    shown = [
        f"{run.passed} passed",
        f"{run.failures} failed",
        f"{run.errors} errored",
        f"{run.skipped} skipped",
        f"{run.not_run} not run",
    ]
    shown += [f"{run.warnings} with warnings"] if run.warnings else []
    shown += [f"{run.flaky} flaky (passed on rerun)"] if run.flaky else []
    shown += [f"{run.suite_errors} declared by suites only"] if run.suite_errors else []
    return ", ".join(shown)


@test_app.command("list")
def list_runs(
    key: Key, limit: Limit = DEFAULT, offset: Offset = 0, as_: As = None, json_out: Json = False
) -> None:
    """A change's recorded test runs in the order recorded, each with its verdict and why."""
    page = transport.read(
        "test list",
        as_,
        Page[TestRunOut],
        lambda ctx: views.test_runs(ctx, key, limit, offset),
        lambda r: r.call(
            "GET", f"/api/v1/changes/{key}/test-runs", params={"limit": limit, "offset": offset}
        ),
    )
    if json_out:
        emit_json(page)
        return
    table(
        f"Test runs of {key.upper()} ({page.total})",
        ["run", "env", "commit", "verdict", Column("why", wrap=True), Column("tests", wrap=True)],
        [
            [
                r.id,
                r.environment + ("" if r.isolated else " (not isolated)"),
                r.commit[:12],
                "passing" if r.ok else "NOT passing",
                r.verdict,
                categories(r),
            ]
            for r in page.items
        ],
        empty=f"no test runs recorded for {key.upper()}",
    )
    footer(len(page.items), page.total, offset)


@gate_app.command("check")
def check(
    change: Change,
    env: Env,
    commit: Commit,
    artifact: Digest = None,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Ask the gate; exit 0 if allowed, 1 if denied, 2 on error (fails closed)."""
    body = {"change": change, "environment": env, "commit": commit, "artifact": artifact}
    decision = transport.write(
        "gate check",
        as_,
        GateDecisionOut,
        lambda ctx: views.decision(gate.check(ctx, change, env, commit, artifact, "cli")),
        lambda r: r.call("POST", "/api/v1/gate", json=body),
    )
    _show_decision(decision, json_out)
    raise typer.Exit(0 if decision.allowed else 1)


@gate_app.command("show")
def show(
    decision_id: Annotated[int, typer.Argument(metavar="DECISION", min=1, max=2**31 - 1)],
    as_: As = None,
    json_out: Json = False,
) -> None:
    """A recorded gate decision (from the pipeline, the CLI or GitHub), with its reasons."""
    decision = transport.read(
        "gate show",
        as_,
        GateDecisionOut,
        lambda ctx: views.show_decision(ctx, decision_id),
        lambda r: r.call("GET", f"/api/v1/gate/decisions/{decision_id}"),
    )
    _show_decision(decision, json_out)


def _show_decision(decision: GateDecisionOut, json_out: bool) -> None:
    if json_out:
        emit_json(decision)
        return
    verdict = "ALLOWED" if decision.allowed else "DENIED"
    say(
        f"{verdict}: {decision.change} {decision.commit[:12]} to "
        f"{decision.environment} (decision {decision.decision_id})"
    )
    for reason in decision.reasons:
        say(f"  {'ok ' if reason.ok else 'NO '} {reason.control}: {reason.message}")
    for due in decision.obligations:
        say(f"  due: {due}")


def _iac(
    iac_file: Path | None, iac_path: str | None, iac_sha256: str | None
) -> tuple[str | None, str | None]:
    if iac_file is None:
        return iac_path, iac_sha256
    return iac_path or str(iac_file), hashlib.sha256(read_input(iac_file)).hexdigest()


def _report(d: DeploymentOut, json_out: bool) -> None:
    if json_out:
        emit_json(d)
    else:
        say(
            f"deployment {d.id} of {d.change} ({d.commit[:12]}) to {d.environment}: "
            f"{d.status}; change is {d.change_status}"
        )


@deploy_app.command("start")
def start(
    change: Change,
    env: Env,
    commit: Commit,
    run_url: Annotated[str, typer.Option(metavar="URL", help="The pipeline run's URL.")],
    decision: Annotated[
        int | None,
        typer.Option(metavar="ID", min=1, max=2**31 - 1, help="The gate decision that allowed it."),
    ] = None,
    artifact: Digest = None,
    iac_path: Annotated[str | None, typer.Option(metavar="PATH", help="IaC template path.")] = None,
    iac_sha256: Annotated[str | None, typer.Option(metavar="SHA256")] = None,
    iac_file: Annotated[
        Path | None, typer.Option(metavar="FILE", help="IaC template to hash.")
    ] = None,
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
    d = transport.write(
        "deploy start",
        as_,
        DeploymentOut,
        lambda ctx: views.deployment(
            deployments.start(ctx, change, env, commit, run_url, artifact, path, digest, decision)
        ),
        lambda r: r.call("POST", "/api/v1/deployments", json=body),
    )
    _report(d, json_out)


@deploy_app.command("finish")
def finish(deployment: DeploymentId, as_: As = None, json_out: Json = False) -> None:
    """The deployment succeeded; in production the change becomes implemented."""
    d = transport.write(
        "deploy finish",
        as_,
        DeploymentOut,
        lambda ctx: views.deployment(deployments.finish(ctx, deployment)),
        lambda r: r.call("POST", f"/api/v1/deployments/{deployment}/finish"),
    )
    _report(d, json_out)


@deploy_app.command("fail")
def fail(
    deployment: DeploymentId,
    reason: Annotated[str, typer.Option()] = "",
    as_: As = None,
    json_out: Json = False,
) -> None:
    """The deployment failed."""
    d = transport.write(
        "deploy fail",
        as_,
        DeploymentOut,
        lambda ctx: views.deployment(deployments.fail(ctx, deployment, reason)),
        lambda r: r.call("POST", f"/api/v1/deployments/{deployment}/fail", json={"reason": reason}),
    )
    _report(d, json_out)


@deploy_app.command("rollback")
def rollback(
    deployment: DeploymentId,
    to: Annotated[str, typer.Option(metavar="SHA", help="Known-good commit.")],
    run_url: Annotated[str, typer.Option(metavar="URL")] = "",
    reason: Annotated[str, typer.Option()] = "",
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Record a rollback of a deployment to a known-good commit (the change's rollback plan)."""
    body = {"to_commit": to, "run_url": run_url, "reason": reason}
    d = transport.write(
        "deploy rollback",
        as_,
        DeploymentOut,
        lambda ctx: views.deployment(deployments.rollback(ctx, deployment, to, run_url, reason)),
        lambda r: r.call("POST", f"/api/v1/deployments/{deployment}/rollback", json=body),
    )
    _report(d, json_out)
