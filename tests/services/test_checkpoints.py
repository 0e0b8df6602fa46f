"""Signed ledger checkpoints in S3 under Object Lock, against moto's server over real HTTP.

The worker's job writes them; `ledger verify --checkpoints-from` checks the chain against each.
boto3 reaches moto through the standard AWS environment (AWS_ENDPOINT_URL), as in production
it reaches S3. The lock is read with HeadObject (x-amz-object-lock-mode and -retain-until-date):
moto 5's server answers GetObjectRetention with a 500. Both databases.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from changegate import bootstrap, ledger
from changegate.bootstrap import App
from changegate.cli.runner import run_leased
from changegate.integrations.ports import CheckpointStore
from changegate.services import checkpoints
from changegate.services.context import Context
from tests.builders import T0
from tests.conftest import Result
from tests.moto_peer import moto_server, use_aws
from tests.services.test_ledger import _rewrite_whole_table

BUCKET, PREFIX = "audit-anchors", "changegate/checkpoints"
RETENTION, EVERY = timedelta(days=400), timedelta(hours=1)
KEY_LAYOUT = re.compile(r"changegate/checkpoints/\d{4}/\d\d/\d\d/\d{8}T\d{6}Z-seq\d+\.json")


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def s3(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A bucket created with Object Lock, for one test."""
    use_aws(monkeypatch, moto_url)
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    yield client
    # Compliance mode refuses every delete, by design: moto's reset empties the server instead.
    httpx.post(f"{moto_url}/moto-api/reset").raise_for_status()


@pytest.fixture
def signer() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _events(app: App, count: int, start: datetime = T0) -> None:
    def work(ctx: Context) -> None:
        for i in range(count):
            ctx.record("test.event", f"CHG-{i}", {"i": i})

    app.run(work, actor="tester", at=start)


def store() -> CheckpointStore:
    return bootstrap.checkpoint_store(BUCKET, PREFIX)


def anchor_at(app: App, signer: Ed25519PrivateKey, at: datetime) -> bool:
    job = checkpoints.job(store(), signer, RETENTION, EVERY)
    return run_leased(app, job, "w1", lambda: at)


def test_the_job_stores_a_signed_checkpoint_locked_in_compliance_mode(
    app: App, s3: Any, signer: Ed25519PrivateKey
) -> None:
    _events(app, 3)
    assert anchor_at(app, signer, T0 + timedelta(minutes=5))
    assert not anchor_at(app, signer, T0 + timedelta(minutes=30)), "hourly, not every tick"
    _events(app, 2, T0 + timedelta(minutes=40))
    assert anchor_at(app, signer, T0 + timedelta(minutes=66))

    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX)["Contents"]]
    assert len(keys) == 2 and all(KEY_LAYOUT.fullmatch(k) for k in keys) and keys == sorted(keys)
    first = s3.get_object(Bucket=BUCKET, Key=keys[0])
    body = json.loads(first["Body"].read())
    assert set(body) == {"seq", "head_hash", "count", "at", "signature", "public_key"}
    assert ledger.signature_ok(ledger.checkpoint_from_json(body), signer.public_key())
    head = s3.head_object(Bucket=BUCKET, Key=keys[0])
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] == T0 + timedelta(minutes=5) + RETENTION
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.delete_object(Bucket=BUCKET, Key=keys[0], VersionId=first["VersionId"])
    assert s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read()  # still there
    recorded = app.read(
        lambda ctx: (
            ctx.session.execute(
                text("SELECT payload FROM ledger WHERE action = 'ledger.checkpoint' ORDER BY seq")
            )
            .scalars()
            .all()
        )
    )
    assert [json.loads(p)["key"] for p in recorded] == keys


@pytest.fixture
def keyed(
    cli: Any, signer: Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """CHANGEGATE_SIGNING_KEY names `signer`, as on the worker's and the verifier's host
    (after the `cli` fixture, which clears it)."""
    monkeypatch.setenv("CHANGEGATE_SIGNING_KEY", _key_file(tmp_path, signer))


def _key_file(tmp_path: Path, signer: Ed25519PrivateKey) -> str:
    path = tmp_path / "ledger-key.pem"
    path.write_bytes(
        signer.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(path)


@pytest.mark.usefixtures("keyed")
def test_verify_names_each_stored_checkpoint_a_rewrite_no_longer_matches(
    app: App, s3: Any, signer: Ed25519PrivateKey, cli: Any
) -> None:
    _events(app, 4)
    anchor_at(app, signer, T0 + timedelta(minutes=5))
    _events(app, 2, T0 + timedelta(minutes=10))
    anchor_at(app, signer, T0 + timedelta(minutes=70))
    url = f"s3://{BUCKET}/{PREFIX}"

    clean: Result = cli("ledger", "verify", "--checkpoints-from", url)
    with app.engine.begin() as conn:  # the attacker also removes the database's own copies
        conn.execute(text("DELETE FROM ledger_checkpoints"))
    _rewrite_whole_table(app)
    plain: Result = cli("ledger", "verify")
    caught: Result = cli("ledger", "verify", "--checkpoints-from", url)

    assert clean.code == 0 and f"2 checkpoints in {url} matched" in clean.out, clean.err
    assert plain.code == 0, "a consistent rewrite passes the chain walk alone"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX)["Contents"]]
    assert caught.code == 1
    for key in keys:
        assert re.search(
            rf"checkpoint {re.escape(key)} does NOT match: seq \d+ differs", caught.out
        )


@pytest.mark.usefixtures("keyed")
def test_an_unsigned_or_foreign_object_is_named_by_its_key(
    app: App, s3: Any, signer: Ed25519PrivateKey, cli: Any
) -> None:
    _events(app, 2)
    anchor_at(app, signer, T0 + timedelta(minutes=5))
    [signed] = s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX)["Contents"]
    body = json.loads(s3.get_object(Bucket=BUCKET, Key=signed["Key"])["Body"].read())
    unsigned = {**body, "signature": None, "public_key": None}
    other = Ed25519PrivateKey.generate()
    cp = ledger.checkpoint_from_json(body)
    forged = {
        **body,
        "signature": base64.b64encode(
            other.sign(ledger.checkpoint_message(cp.seq, cp.head_hash, cp.count, cp.at))
        ).decode(),
        "public_key": ledger.public_key_text(other.public_key()),
    }
    lock = {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": T0 + RETENTION}
    put = partial(s3.put_object, Bucket=BUCKET, ChecksumAlgorithm="SHA256", **lock)
    put(Key=f"{PREFIX}/2026/11/02/20261102T091000Z-seq9.json", Body=json.dumps(unsigned))
    put(Key=f"{PREFIX}/2026/11/02/20261102T092000Z-seq9.json", Body=json.dumps(forged))
    put(Key=f"{PREFIX}/2026/11/02/notes.txt", Body=b"not json")

    result: Result = cli("ledger", "verify", "--checkpoints-from", f"s3://{BUCKET}/{PREFIX}/")
    assert result.code == 1 and result.out.startswith("ledger ok:"), "the chain itself is fine"
    assert f"{signed['Key']} does NOT match" not in result.out
    seq = body["seq"]
    assert f"091000Z-seq9.json does NOT match: the checkpoint at seq {seq} is not signed" in (
        result.out
    )
    assert f"092000Z-seq9.json does NOT match: the checkpoint at seq {seq} has a bad signature" in (
        result.out
    )
    assert "notes.txt does NOT match: not a checkpoint written by changegate" in result.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--checkpoints-from", "s3://no-such-bucket/x"], "NoSuchBucket"),
        (["--checkpoints-from", f"s3://{BUCKET}/empty"], "no checkpoints under"),
        (["--checkpoints-from", "https://example.com/x"], "expected s3://BUCKET/PREFIX"),
    ],
)
def test_verify_refuses_what_it_cannot_check_in_one_line(
    s3: Any, cli: Any, args: list[str], message: str
) -> None:
    result: Result = cli("ledger", "verify", *args)
    assert result.code == 2 and message in result.err, result
    assert len(result.err.strip().splitlines()) == 1


def test_the_worker_will_not_start_without_a_locked_bucket(
    s3: Any, cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, signer: Ed25519PrivateKey
) -> None:
    monkeypatch.setenv("CHANGEGATE_CHECKPOINT_BUCKET", "no-such-bucket")
    unsigned: Result = cli("worker", "--once")
    monkeypatch.setenv("CHANGEGATE_SIGNING_KEY", _key_file(tmp_path, signer))
    missing: Result = cli("worker", "--once")
    s3.create_bucket(Bucket="plain-bucket")
    monkeypatch.setenv("CHANGEGATE_CHECKPOINT_BUCKET", "plain-bucket")
    unlocked: Result = cli("worker", "--once")

    for result, message in (
        (unsigned, "needs CHANGEGATE_SIGNING_KEY"),
        (missing, "NoSuchBucket"),
        (unlocked, "Object Lock"),
    ):
        assert result.code == 2 and message in result.err, result
        assert len(result.err.strip().splitlines()) == 1, result.err


@pytest.mark.usefixtures("keyed")
def test_the_worker_anchors_on_its_first_tick(
    app: App, s3: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHANGEGATE_CHECKPOINT_BUCKET", BUCKET)
    monkeypatch.setenv("CHANGEGATE_CHECKPOINT_RETENTION_DAYS", "7")
    _events(app, 2)
    result: Result = cli("worker", "--once")
    assert result.code == 0, result.err
    [item] = s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX)["Contents"]
    head = s3.head_object(Bucket=BUCKET, Key=item["Key"])
    assert head["ObjectLockMode"] == "COMPLIANCE"
    until = head["ObjectLockRetainUntilDate"] - datetime.now(UTC)
    assert timedelta(days=6) < until <= timedelta(days=7)
