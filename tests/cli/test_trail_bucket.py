"""`trail ingest --bucket`: a trail's S3 bucket read incrementally through boto3 on moto's server.

Files are the real samples at their real keys (single-account and organisation layouts) and
files generated from their records (new eventIDs, a production change among them). The kill -9
test runs the ingest as a real subprocess and kills it with SIGKILL while it is half-way through
a file (a loopback proxy stalls that file's body), then runs it again: every event is stored
exactly once.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.cli.s3_stall import StallingProxy
from tests.conftest import Result
from tests.fixtures import fixture
from tests.moto_peer import moto_server, use_aws
from tests.trail_logs import SNITCH, generated, operators, writes

Cli = Callable[..., Result]
OPS = ("--as", "ops@example.com")
BUCKET = "org-trail"


def real_files() -> dict[str, bytes]:
    """The two real log files, at the keys CloudTrail delivered them under."""
    root = fixture(*SNITCH)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.json.gz"))}


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with moto_server(reset=True) as url:
        use_aws(monkeypatch, url)
        yield url


def s3() -> Any:
    import boto3

    return boto3.client("s3")


@pytest.fixture
def ops(cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    return operators(cli, monkeypatch, tmp_path)


def ingest(ops: Cli) -> dict[str, Any]:
    got = ops("trail", "ingest", "--bucket", BUCKET, "--json", *OPS)
    assert got.code == 0, got.err
    out: dict[str, Any] = json.loads(got.out)
    return out


def test_the_bucket_is_read_incrementally_per_account_and_region(moto: str, ops: Cli) -> None:
    client = s3()
    client.create_bucket(Bucket=BUCKET)
    for key, body in real_files().items():
        client.put_object(Bucket=BUCKET, Key=key, Body=body)
    # A digest beside the logs is not a log file of the trail and is never listed.
    client.put_object(
        Bucket=BUCKET,
        Key="AWSLogs/333333333333/CloudTrail-Digest/us-east-1/2025/03/06/digest.json.gz",
        Body=b"not read",
    )
    first = ingest(ops)
    # AWS services acting and reads: counted, none kept.
    assert (first["files"], first["new"], first["services"], first["reads"]) == (2, 0, 18, 3)
    assert ingest(ops)["files"] == 0  # nothing new since
    key, body, ids = generated(1, 30)
    client.put_object(Bucket=BUCKET, Key=key, Body=body)
    third = ingest(ops)
    # 30 records: the sample's 20 (17 AWS services acting, 3 reads), the console write, then
    # the sample's first 9 again (2 reads, 7 services). Only the write is kept.
    counts = ("files", "new", "changes", "services", "reads")
    assert tuple(third[k] for k in counts) == (1, 1, 1, 24, 5)
    # The write names 123456789012 (production) though its file sits under 222222222222.
    [write] = [i for n, i in enumerate(ids) if n % 21 == 20]
    shown = json.loads(ops("trail", "show", write, "--json", "--as", "ivy@example.com").out)
    assert (shown["environment"], shown["kind"], shown["account"]) == (
        "production",
        "change",
        "123456789012",
    )
    assert third["uncovered"] == [write]


def test_a_malformed_object_is_reported_by_key_and_the_rest_kept(moto: str, ops: Cli) -> None:
    client = s3()
    client.create_bucket(Bucket=BUCKET)
    key, body, _ = generated(1, 5)
    text_ = gzip.decompress(body)
    broken = gzip.compress(text_[: len(text_) // 2])
    client.put_object(Bucket=BUCKET, Key=key, Body=broken)
    key2, body2, ids2 = generated(2, 4)
    client.put_object(Bucket=BUCKET, Key=key2, Body=body2)
    got = ops("trail", "ingest", "--bucket", BUCKET, "--json", *OPS)
    assert got.code == 1
    out = json.loads(got.out)
    [problem] = out["malformed"]
    assert problem.startswith(f"s3://{BUCKET}/{key}: record ")
    assert got.err.strip().splitlines()[-1] == (
        "error: 1 malformed file or record; the rest was kept"
    )
    counted = sum(out[k] for k in ("changes", "attempts", "reads", "data", "services"))
    assert out["files"] == 2 and counted >= len(ids2)


def count(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        total = conn.execute(text("SELECT count(*), count(DISTINCT event_id) FROM trail_events"))
        found = total.one()
    engine.dispose()
    return int(found[0]), int(found[1])


INGEST = (sys.executable, "-m", "changegate", "trail", "ingest")


def test_kill_9_mid_file_then_rerun_loses_and_doubles_nothing(
    moto: str, ops: Cli, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = s3()
    client.create_bucket(Bucket=BUCKET)
    sizes = [40, 60, 50, 1300, 70]  # the fourth file spans two INSERT batches of 1,000
    ids: list[str] = []
    for index, size in enumerate(sizes, start=1):
        key, body, made = generated(index, size, writes())  # every record a change: all kept
        client.put_object(Bucket=BUCKET, Key=key, Body=body)
        ids += made
    stalled = generated(4, 1300, writes())[0]
    with StallingProxy(moto, stall_on=4, stall_after=0) as proxy:
        proxy.stall_after = (
            len(client.get_object(Bucket=BUCKET, Key=stalled)["Body"].read()) * 3 // 4
        )
        env = os.environ | {
            "AWS_ENDPOINT_URL": proxy.url,
            "CHANGEGATE_DATABASE_URL": db_url,
            "PYTHONUNBUFFERED": "1",
        }
        child = subprocess.Popen(
            [*INGEST, "--bucket", BUCKET, "--batch", "2", *OPS],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            assert proxy.stalled.wait(120), "the ingest never reached the fourth file"
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.wait(60)
        assert child.returncode == -signal.SIGKILL
    # Two files a transaction: the first two committed; the third and the fourth, killed
    # mid-way, left nothing of their transaction.
    assert count(db_url) == (100, 100)
    again = ingest(ops)
    assert (again["files"], again["new"], again["seen"]) == (3, 1420, 0)
    assert count(db_url) == (len(ids), len(set(ids))) == (1520, 1520)
    assert ingest(ops)["files"] == 0


def children(pid: int) -> set[int]:
    """The processes whose parent is `pid` (Linux /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_kill_9_with_workers_leaves_no_worker_and_the_rerun_stores_each_event_once(
    moto: str, ops: Cli, db_url: str
) -> None:
    client = s3()
    client.create_bucket(Bucket=BUCKET)
    ids: list[str] = []
    for index in range(1, 61):  # three tasks of 20 files: the workers start
        key, body, made = generated(index, 10, writes())
        client.put_object(Bucket=BUCKET, Key=key, Body=body)
        ids += made
    with StallingProxy(moto, stall_on=45, stall_after=100) as proxy:
        env = os.environ | {
            "AWS_ENDPOINT_URL": proxy.url,
            "CHANGEGATE_DATABASE_URL": db_url,
            "PYTHONUNBUFFERED": "1",
        }
        child = subprocess.Popen(
            [*INGEST, "--bucket", BUCKET, "--batch", "5", "--workers", "2", *OPS],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert proxy.stalled.wait(120), "no worker reached the 45th file"
            workers = children(child.pid)
            assert len(workers) >= 2  # the workers (and multiprocessing's resource tracker)
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.wait(60)
        deadline = time.monotonic() + 10
        while any(running(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [w for w in workers if running(w)], "workers outlived the ingest"
    stored, distinct = count(db_url)
    assert stored == distinct < len(ids)  # whole groups only, none twice
    again = ingest(ops)
    assert (again["new"], again["seen"]) == (len(ids) - stored, 0)
    assert count(db_url) == (len(ids), len(ids)) == (600, 600)
