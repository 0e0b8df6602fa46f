"""Drift benchmark: ingest and scan N resources against an approved baseline.

Everything goes through the real services (`users.add_user`, `baselines.import_baseline`,
`baselines.approve`, `drift.ingest`, `drift.scan`) in `App.run` transactions. Each database runs
in a fresh spawned process, and each scan in a fresh interpreter of its own (as `changegate drift
scan` runs), so a scan's peak RSS is the scan's, not the seeding's. Run from the repository root,
e.g.

    .venv/bin/python bench/drift_bench.py --db both --resources 100000 --json
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import dataclasses
import io
import json
import multiprocessing
import os
import pstats
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url

import common  # type: ignore[import-not-found]  # bench/ is on sys.path when run as a script
from changegate.bootstrap import App, build, init, vocabulary
from changegate.config import Settings
from changegate.db.configs import Configs
from changegate.db.models import LedgerRecord
from changegate.domain.configuration import DeclaredResource, ObservedItem
from changegate.integrations.awsconfig import normalise_item
from changegate.services import baselines, drift, users
from common import log, rss_mb  # type: ignore[import-not-found]

SCRATCH_DB = "changegate_driftbench"
AUTHOR, APPROVER = "sam.sec@example.com", "lee.sec@example.com"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACCOUNT, REGION = "123456789012", "eu-west-1"
TYPES = ("AWS::S3::Bucket", "AWS::EC2::SecurityGroup", "AWS::IAM::Role")
VOCABULARY = vocabulary()


def own_peak_rss_mb() -> float:
    """This process's peak RSS since it started its program. ru_maxrss also counts the peak
    of the process it was forked from, which for a scan is the seeding's (about 1 GB)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return rss_mb()


SAMPLES = (
    Path(__file__).resolve().parents[1] / "tests/fixtures/aws-config/aws-config-rdk-example_ci"
)
# One real configuration item per type, as AWS Config recorded it (see tests/fixtures/SOURCES.md).
REAL = {
    kind: json.loads((SAMPLES / f"{kind.replace('::', '_')}.json").read_text()) for kind in TYPES
}


def ident(i: int) -> tuple[str, str]:
    kind = TYPES[i % 3]
    if kind == "AWS::S3::Bucket":
        return kind, f"casper-data-{i:06d}"
    if kind == "AWS::EC2::SecurityGroup":
        return kind, f"sg-{i:017x}"
    return kind, f"svc-role-{i:06d}"


def raw_item(i: int, at: datetime, drifted: bool) -> dict[str, Any]:
    """A real AWS Config item of the type, given resource i's identity (and, if drifted, one
    change an engineer made by hand): the shape users' Config delivers, not the template's."""
    kind, rid = ident(i)
    item = copy.deepcopy(REAL[kind])
    config = item["configuration"]
    item |= {"resourceId": rid, "configurationItemCaptureTime": at.isoformat()}
    for key in ("accountId", "awsAccountId"):
        if key in item:
            item[key] = ACCOUNT
    item["awsRegion"] = REGION
    if kind == "AWS::S3::Bucket":
        item |= {"resourceName": rid, "ARN": f"arn:aws:s3:::{rid}"}
        config["name"] = rid
        status = "Suspended" if drifted else "Enabled"
        item["supplementaryConfiguration"]["BucketVersioningConfiguration"] = {
            "status": status,
            "isMfaDeleteEnabled": None,
        }
        item["tags"] = {"team": ("payments", "search", "platform", "data")[i % 4]}
    elif kind == "AWS::EC2::SecurityGroup":
        item["arn"] = f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{rid}"
        config |= {"groupId": rid, "groupName": f"svc-{i}", "description": f"service {i}"}
        cidr = "0.0.0.0/0" if drifted else "10.0.0.0/8"
        config["ipPermissions"][0]["ipRanges"] = [cidr]
    else:
        # AWS Config identifies a role by its role id; the template names it by its name.
        item |= {
            "resourceId": f"AROA{i:016d}",
            "resourceName": rid,
            "arn": f"arn:aws:iam::{ACCOUNT}:role/service/{rid}",
        }
        config |= {"roleName": rid, "roleId": f"AROA{i:016d}", "path": "/service/"}
        if drifted:
            config["attachedManagedPolicies"] = [
                *config["attachedManagedPolicies"],
                {
                    "policyName": "AdministratorAccess",
                    "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess",
                },
            ]
    return item


def observed(i: int, at: datetime, drifted: bool) -> ObservedItem:
    """What AWS Config reports, read as `config ingest` reads it."""
    return normalise_item(raw_item(i, at, drifted), "bench", f"item {i}")


# What a template typically declares of each type (the rest is AWS's defaults).
DECLARED = {
    "AWS::S3::Bucket": (
        "BucketName",
        "VersioningConfiguration",
        "Tags",
        "PublicAccessBlockConfiguration",
    ),
    "AWS::EC2::SecurityGroup": ("GroupName", "GroupDescription", "VpcId", "SecurityGroupIngress"),
    "AWS::IAM::Role": ("RoleName", "Path", "AssumeRolePolicyDocument", "ManagedPolicyArns"),
}


def declared(i: int) -> DeclaredResource:
    """What the template declares: the properties a template usually sets, as the resource
    should be, in CloudFormation's names (values taken from the translated real item, so the
    undrifted ones match), plus a Fn::Sub the scan binds per observation."""
    seen = observed(i, T0, drifted=False)
    found = VOCABULARY.translate(seen)
    assert found is not None, seen.resource_type
    props = {k: found[k] for k in DECLARED[seen.resource_type] if k in found}
    if seen.resource_type == "AWS::IAM::Role":
        props["Description"] = {"Fn::Sub": "service role in ${AWS::Region}"}
    name = seen.resource_name or seen.resource_id
    return DeclaredResource(f"R{i:06d}", seen.resource_type, props, physical_name=name)


class Meter:
    """Wall time, SQL statements and cumulative peak RSS of each step."""

    def __init__(self, app: App) -> None:
        self.steps: dict[str, dict[str, Any]] = {}
        self.queries = 0
        event.listen(app.engine, "before_cursor_execute", self._count)

    def _count(self, *_args: Any) -> None:
        self.queries += 1

    def step(self, name: str, fn: Callable[[], Any], items: int) -> Any:
        """Run a step in this process; its peak RSS is this process's so far."""
        before, started = self.queries, time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - started
        self.record(name, seconds, items, self.queries - before, round(rss_mb()))
        return result

    def record(
        self, name: str, seconds: float, items: int, sql: int, rss: int, **extra: Any
    ) -> None:
        self.steps[name] = {
            "seconds": round(seconds, 2),
            "items": items,
            "per_s": round(items / seconds),
            "sql": sql,
            "peak_rss_mb": rss,
            "load1": round(os.getloadavg()[0], 2),
        } | extra
        log(
            f"  {name}: {seconds:.2f} s, {items / seconds:,.0f}/s, {sql:,} SQL, "
            f"peak RSS {rss:,} MB, load {os.getloadavg()[0]:.1f}"
            + "".join(f", {k} {v}" for k, v in extra.items())
        )

    def scan(
        self, name: str, url: str, at: datetime, full: bool, items: int, profile: Path | None = None
    ) -> dict[str, Any]:
        """One `drift.scan` in a fresh interpreter (see `scan_child`)."""
        command = [sys.executable, __file__, "--scan-url", url, "--scan-at", at.isoformat()]
        command += ["--scan-full"] if full else []
        command += ["--profile", str(profile)] if profile else []
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            raise RuntimeError(f"{name} failed:\n{done.stderr}")
        out: dict[str, Any] = json.loads(done.stdout)
        self.record(
            name,
            out["seconds"],
            items,
            out["sql"],
            out["peak_rss_mb"],
            rss_before_mb=out["rss_before_mb"],
            compared=out["compared"],
        )
        return dict(out["result"])

    def floor(self, name: str, url: str, items: int) -> None:
        """The read-only floor (see `floor_child`) in a fresh interpreter."""
        command = [sys.executable, __file__, "--floor-url", url]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            raise RuntimeError(f"{name} failed:\n{done.stderr}")
        out = json.loads(done.stdout)
        assert out["rows"] == items, out
        self.record(name, out["seconds"], items, 1, out["peak_rss_mb"])


def floor_child(url: str) -> None:
    """The scan's floor: stream the rows a full scan reads (every approved resource joined
    with its newest observation and drift, JSON decoded) and compare nothing."""
    app = build(Settings(database_url=url, policy_path=common.POLICY))
    started = time.perf_counter()
    with app.sessions() as session:
        rows = sum(1 for _ in Configs(session).scan_targets())
    seconds = time.perf_counter() - started
    app.engine.dispose()
    print(json.dumps({"seconds": seconds, "rows": rows, "peak_rss_mb": round(own_peak_rss_mb())}))


def scan_child(url: str, at: datetime, full: bool, profile: Path | None) -> None:
    """Time one scan in this process; print its figures as JSON. The peak RSS is this whole
    process's: interpreter, imports and connection (`rss_before_mb`) plus the scan."""
    app = build(Settings(database_url=url, policy_path=common.POLICY))
    queries = [0]
    event.listen(
        app.engine, "before_cursor_execute", lambda *_: queries.__setitem__(0, queries[0] + 1)
    )

    def scan() -> drift.ScanResult:
        return app.run(lambda c: drift.scan(c, vocabulary(), full=full), actor=AUTHOR, at=at)

    before, started = own_peak_rss_mb(), time.perf_counter()
    prof = cProfile.Profile() if profile else None
    result = prof.runcall(scan) if prof else scan()
    seconds, sql = time.perf_counter() - started, queries[0]
    if prof and profile:
        out = io.StringIO()
        for key in ("cumulative", "tottime"):
            pstats.Stats(prof, stream=out).sort_stats(key).print_stats(30)
        profile.write_text(out.getvalue())
        log(f"  profile written to {profile}")
    newest = (
        select(LedgerRecord.payload)
        .where(LedgerRecord.action == "drift.scanned")
        .order_by(LedgerRecord.seq.desc())
        .limit(1)
    )
    with app.sessions() as session:
        coverage = json.loads(session.execute(newest).scalar_one())["coverage"]
    app.engine.dispose()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "sql": sql,
                "rss_before_mb": round(before),
                "peak_rss_mb": round(own_peak_rss_mb()),
                "compared": coverage["compared"],
                "result": dataclasses.asdict(result),
            }
        )
    )


def ingest_all(app: App, indices: list[int], at: datetime, drifted: set[int], batch: int) -> int:
    added = 0
    for start in range(0, len(indices), batch):
        items = [observed(i, at, i in drifted) for i in indices[start : start + batch]]
        added += app.run(
            lambda c, it=items: drift.ingest(c, it, "aws-config", VOCABULARY),  # type: ignore[misc]
            actor=AUTHOR,
            at=at,
        ).added
    return added


def run_db(url: str, args: argparse.Namespace) -> dict[str, Any]:
    n = args.resources
    every = max(1, round(1 / args.drift_fraction))
    drifted = set(range(0, n, every))
    fixed = set(sorted(drifted)[::2])
    app = init(Settings(database_url=url, policy_path=common.POLICY))
    meter = Meter(app)
    for email, name in ((AUTHOR, "Sam Sec"), (APPROVER, "Lee Sec")):
        app.run(
            lambda c, e=email, nm=name: users.add_user(c, e, nm, ["security_engineer"]),
            at=T0 - timedelta(days=1),
        )
    resources = [declared(i) for i in range(n)]
    meter.step(
        "import_baseline",
        lambda: app.run(
            lambda c: baselines.import_baseline(
                c, "production", resources, "infra/production.yaml", "0" * 64, VOCABULARY
            ),
            actor=AUTHOR,
            at=T0 - timedelta(hours=2),
        ),
        n,
    )
    meter.step(
        "approve",
        lambda: app.run(
            lambda c: baselines.approve(c, "production", None, None),
            actor=APPROVER,
            at=T0 - timedelta(hours=1),
        ),
        n,
    )
    added = meter.step(
        "ingest", lambda: ingest_all(app, list(range(n)), T0, drifted, args.batch), n
    )
    assert added == n, added
    scan_at, fix_at = T0 + timedelta(hours=1), T0 + timedelta(hours=2)

    def profile(name: str) -> Path | None:
        return args.profile.with_suffix(f".{name}.txt") if args.profile else None

    meter.floor("floor_read", url, n)
    first = meter.scan("scan_first", url, scan_at, False, n, profile("first"))
    steady = meter.scan(
        "scan_steady", url, scan_at + timedelta(minutes=10), False, n, profile("steady")
    )
    meter.step(
        "ingest_fixes",
        lambda: ingest_all(app, sorted(fixed), fix_at, set(), args.batch),
        len(fixed),
    )
    closing = meter.scan(
        "scan_closing", url, fix_at + timedelta(minutes=10), False, n, profile("closing")
    )
    full = meter.scan("scan_full", url, fix_at + timedelta(minutes=20), True, n)
    meter.floor("floor_read_again", url, n)
    counts = {
        "first": {"checked": first["checked"], "opened": len(first["opened"])},
        "steady": {"opened": len(steady["opened"]), "still_open": steady["still_open"]},
        "closing": {"closed": len(closing["closed"]), "still_open": closing["still_open"]},
        "full": {
            "opened": len(full["opened"]),
            "closed": len(full["closed"]),
            "still_open": full["still_open"],
        },
    }
    log(f"  outcomes: {counts}")
    assert len(first["opened"]) == len(drifted) and first["checked"] == n
    assert not steady["opened"] and steady["still_open"] == len(drifted)
    assert len(closing["closed"]) == len(fixed)
    assert closing["still_open"] == full["still_open"] == len(drifted) - len(fixed)
    assert not (full["opened"] or full["reopened"] or full["closed"])
    with app.engine.connect() as conn:
        version = conn.execute(
            text("SELECT sqlite_version()" if url.startswith("sqlite") else "SHOW server_version")
        ).scalar_one()
    app.engine.dispose()
    return {
        "url": make_url(url).render_as_string(hide_password=True),
        "version": version,
        "resources": n,
        "drifted": len(drifted),
        "fixed": len(fixed),
        "outcomes": counts,
        "steps": meter.steps,
    }


def child(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    log(f"{kind}: {args.resources:,} resources, drift fraction {args.drift_fraction}")
    with common.database(kind, SCRATCH_DB) as url:
        return {"db": kind} | run_db(url, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--resources", type=int, default=100_000)
    parser.add_argument("--drift-fraction", type=float, default=0.05)
    parser.add_argument("--batch", type=int, default=10_000, help="items per ingest call")
    parser.add_argument(
        "--profile", type=Path, help="cProfile the scans, stats to FILE.<db>.<scan>.txt"
    )
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument("--scan-url", help=argparse.SUPPRESS)  # internal: one scan, see Meter
    parser.add_argument("--scan-at", type=datetime.fromisoformat, help=argparse.SUPPRESS)
    parser.add_argument("--scan-full", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--floor-url", help=argparse.SUPPRESS)  # internal: the floor
    args = parser.parse_args()
    if args.floor_url:
        floor_child(args.floor_url)
        return
    if args.scan_url:
        scan_child(args.scan_url, args.scan_at, args.scan_full, args.profile)
        return
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    spawn = multiprocessing.get_context("spawn")
    results, base = [], args.profile
    for kind in kinds:
        args.profile = base.with_suffix(f".{kind}.txt") if base else None
        with spawn.Pool(1) as pool:
            results.append(pool.apply(child, (kind, args)))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for r in results:
        print(f"\n{r['db']} {r['version']}: {r['resources']:,} resources, {r['drifted']:,} drifted")
        print("| step | wall s | items/s | SQL statements | peak RSS MB | compared |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, s in r["steps"].items():
            rss = (
                f"{s['peak_rss_mb']} (process {s['rss_before_mb']} before)"
                if "rss_before_mb" in s
                else f"{s['peak_rss_mb']} (cumulative)"
            )
            print(
                f"| {name} | {s['seconds']} | {s['per_s']:,} | {s['sql']:,} | {rss} "
                f"| {s.get('compared', '')} |"
            )


if __name__ == "__main__":
    main()
