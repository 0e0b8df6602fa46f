"""`changegate ledger verify|export|checkpoint|keygen`."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from changegate import bootstrap, ledger
from changegate.cli import runtime, transport
from changegate.cli.formats import plural
from changegate.cli.options import As, Json, group, read_input
from changegate.cli.output import emit_json, say
from changegate.db.models import Checkpoint
from changegate.domain.documents import loads_json
from changegate.domain.errors import BadInput
from changegate.services import checkpoints, state_checks
from changegate.services.context import Context
from changegate.services.views import ledger as views
from changegate.services.views.ledger import CheckpointOut, VerificationOut

app = group("The tamper-evident ledger.")


def _anchors(paths: list[Path]) -> list[Checkpoint]:
    found = []
    for path in paths:
        try:
            document = loads_json(read_input(path, "checkpoint", 64 * 1024), str(path))
            found.append(ledger.checkpoint_from_json(document))
        except (ValueError, KeyError, TypeError):
            raise BadInput(f"{path} is not a checkpoint written by `ledger checkpoint`") from None
    return found


@app.command("verify")
def verify(
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(
            metavar="FILE",
            help="A checkpoint file exported earlier; the chain must still contain it.",
        ),
    ] = None,
    state: Annotated[
        bool,
        typer.Option(
            "--state",
            help="Also compare the live changes, approvals, gate decisions, deployments, "
            "waivers, drifts, findings, baselines and signed reviews with what the ledger "
            "implies.",
        ),
    ] = False,
    record: Annotated[
        bool,
        typer.Option(
            "--record",
            help="With --state: if everything matches, record the check in the ledger "
            "(ledger.state_verified), which the audit looks for; needs --as (ISO or admin).",
        ),
    ] = False,
    checkpoints_from: Annotated[
        str | None,
        typer.Option(
            metavar="s3://BUCKET/PREFIX",
            help="Also check the chain against every checkpoint the worker stored there "
            "(CHANGEGATE_CHECKPOINT_BUCKET); each that does not match is named by its key.",
        ),
    ] = None,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Walk the chain; exit 1 naming the first record edited, deleted, inserted or reordered
    (and, with --state, every live row that differs from the ledger)."""
    anchors = _anchors(checkpoint or [])
    if checkpoints_from is not None:
        _verify_stored(checkpoints_from, state, anchors, bool(record or as_), json_out)
    if record:
        _check_record(state, anchors)
        report = transport.write(
            "ledger verify --state --record",
            as_,
            VerificationOut,
            state_checks.record,
            lambda r: r.call("POST", "/api/v1/ledger/state-verifications"),
        )
    elif as_:
        raise BadInput("--as is for --record: verifying alone changes nothing")
    else:
        report = _verified(state, anchors)
    if json_out:
        emit_json(report)
    else:
        _say(report)
    raise typer.Exit(0 if report.ok else 1)


def _verified(state: bool, anchors: list[Checkpoint]) -> VerificationOut:
    """A read: in-process (trusting only the configured signing key), or the API's GET."""
    if anchors:
        transport.local_only("ledger verify --checkpoint")

    def local(ctx: Context) -> VerificationOut:
        trusted = signer.public_key() if signer else None
        return views.verified(ctx.session, state, anchors, trusted)

    signer = None
    if transport.remote_settings() is None:
        with runtime.app() as cg:
            signer = cg.signer
    return transport.read(
        "ledger verify",
        None,
        VerificationOut,
        local,
        lambda r: r.call(
            "GET", "/api/v1/ledger/verify", params={"state": "true"} if state else None
        ),
    )


def _verify_stored(
    url: str, state: bool, anchors: list[Checkpoint], recording: bool, json_out: bool
) -> None:
    transport.local_only("ledger verify --checkpoints-from")
    if recording:
        raise BadInput("--record and --checkpoints-from are separate runs: verify first")
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    if not url.startswith("s3://") or not bucket:
        raise BadInput(f"--checkpoints-from: expected s3://BUCKET/PREFIX, not {url[:200]!r}")
    store = bootstrap.checkpoint_store(bucket, prefix)
    objects = list(store.objects())
    if not objects:
        raise BadInput(f"no checkpoints under {store.location}")
    with runtime.app() as cg:
        trusted = cg.signer.public_key() if cg.signer else None
        result = cg.read(
            lambda ctx: checkpoints.check(
                ctx.session,
                views.verified(ctx.session, state, anchors, trusted),
                store.location,
                objects,
                trusted,
            )
        )
    if json_out:
        emit_json(result)
    else:
        _say(result.verification)
        for problem in result.problems:
            say(f"checkpoint {problem.key} does NOT match: {problem.detail}")
        if not result.problems:
            say(f"{plural(result.checked, 'checkpoint')} in {result.location} matched")
    raise typer.Exit(0 if result.ok else 1)


def _say(report: VerificationOut) -> None:
    problem = report.problem
    if problem is None:
        say(
            f"ledger ok: {plural(report.count, 'record')}, head {report.head_hash[:16]} at seq "
            f"{report.head_seq}, {plural(report.checkpoints, 'checkpoint')} matched"
        )
    else:
        say(f"ledger TAMPERED: {problem.kind} at seq {problem.seq}: {problem.detail}")
    if report.state is not None:
        _say_state(report.state)
    if report.recorded is not None:
        say(
            f"recorded: {state_checks.STATE_VERIFIED} (head seq {report.head_seq} checked)"
            if report.recorded
            else "not recorded: the check did not pass"
        )


def _check_record(state: bool, anchors: list[Checkpoint]) -> None:
    if not state:
        raise BadInput("--record records a passing state check: add --state")
    if anchors:
        raise BadInput("--record and --checkpoint are separate runs: verify the checkpoint first")


def _say_state(state: views.StateOut) -> None:
    tables = ", ".join(state.checked)
    if not state.mismatches:
        say(f"live state matches the ledger ({tables})")
        return
    say(f"live state DIFFERS from the ledger ({tables}): {plural(len(state.mismatches), 'row')}")
    for m in state.mismatches:
        say(f"  {m.table} {m.key} {m.field}: ledger {m.ledger}; live {m.live}")


@app.command("export")
def export(
    out: Annotated[
        Path | None, typer.Option(metavar="FILE", help="File to write; - or none for stdout.")
    ] = None,
) -> None:
    """Write every record as JSON Lines."""
    transport.local_only("ledger export")
    with runtime.app() as cg:
        if out is None or str(out) == "-":
            cg.read(lambda ctx: ledger.export(ctx.session, sys.stdout))
            return
        with out.open("w") as handle:
            count = cg.read(lambda ctx: ledger.export(ctx.session, handle))
    say(f"exported {plural(count, 'record')} to {out}")


@app.command("checkpoint")
def checkpoint(
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE", help="Also write the checkpoint here, to keep outside the database."
        ),
    ] = None,
    json_out: Json = False,
) -> None:
    """Record the head hash and count, signed when CHANGEGATE_SIGNING_KEY is set."""
    transport.local_only("ledger checkpoint")

    def use_case(ctx: Context) -> CheckpointOut:
        cp = ledger.checkpoint(ctx.session, ctx.now, cg.signer)
        data = views.checkpoint(cp)
        ctx.record("ledger.checkpoint", "ledger", data.model_dump(mode="json"))
        return data

    with runtime.app() as cg:
        data = cg.run(use_case, actor=runtime.LOCAL_ADMIN)
    if out is not None:
        out.write_text(json.dumps(data.model_dump(mode="json"), indent=2) + "\n")
    if json_out:
        emit_json(data)
    else:
        signed = "signed" if data.signature else "unsigned (set CHANGEGATE_SIGNING_KEY to sign)"
        say(
            f"checkpoint at seq {data.seq}: {data.head_hash[:16]}, {signed}"
            + (f"; written to {out}" if out else "")
        )


@app.command("keygen")
def keygen(
    out: Annotated[
        Path, typer.Option(metavar="FILE", help="Where to write the private key (PEM, mode 0600).")
    ],
) -> None:
    """Create an Ed25519 signing key for checkpoints."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: PLC0415
        Ed25519PrivateKey,
    )

    if out.exists():
        raise BadInput(f"{out} already exists; refusing to overwrite a key")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise BadInput(f"cannot write {out}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    say(f"wrote {out}; public key {ledger.public_key_text(key.public_key())}")
