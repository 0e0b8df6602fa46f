"""Evidence benchmark: `evidence export` of the audit benchmark's year, beside its floor.

The year is the audit benchmark's (10,000 changes, 50,000 deployments, 100,000 drifts with
their versions, approvals, test runs, baselines, waivers and reviews, bulk-inserted by
`audit_seed.populate`). Each step runs in a freshly spawned process, so its peak RSS is its
own: the floor (every population's query streamed and written as CSV, nothing else), the
export to a zip, and the offline verify of that zip. The seeded rows were never written through
the services, so the year has no ledger records: verify's populations-against-the-ledger check
fails by design here, and the others must pass. Run from the repository root, e.g.

    .venv/bin/python bench/evidence_bench.py --db both --json
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

import common  # type: ignore[import-not-found]  # bench/ is on sys.path when run as a script
from audit_bench import in_child, seed_child  # type: ignore[import-not-found]
from audit_seed import AUDIT_AT, AUDITOR  # type: ignore[import-not-found]
from changegate.bootstrap import build
from changegate.config import Settings
from changegate.domain.periods import parse
from changegate.services.evidence.export import export
from changegate.services.evidence.formats import cell
from changegate.services.evidence.populations import BATCH, POPULATIONS
from changegate.services.evidence.verify import verify
from common import check, log, rss_mb  # type: ignore[import-not-found]

SCRATCH_DB = "changegate_evidencebench"
EXPECTED_FAILURE = "populations against the ledger"


def keygen(folder: Path) -> Path:
    path = folder / "key.pem"
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(pem)
    return path


def floor_child(url: str, period: str, out: str) -> dict[str, Any]:
    """The same rows, queried and written as CSV with nothing else: what the export cannot
    beat."""
    app = build(Settings(database_url=url, policy_path=common.POLICY))
    span = parse(period)
    started, rows = time.perf_counter(), 0
    with app.readers() as session, Path(out).open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        for population in POPULATIONS:
            stmt = population.query(span.start, span.end).execution_options(yield_per=BATCH)
            for row in session.execute(stmt):
                writer.writerow([cell(v) for v in row])
                rows += 1
    seconds = time.perf_counter() - started
    app.engine.dispose()
    return {"seconds": round(seconds, 2), "rows": rows, "peak_rss_mb": round(rss_mb())}


def export_child(url: str, period: str, key: str, out: str) -> dict[str, Any]:
    app = build(Settings(database_url=url, policy_path=common.POLICY, signing_key_path=Path(key)))
    with app.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    baseline = rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    done = app.run(
        lambda ctx: export(ctx, period, Path(out), app.signer), actor=AUDITOR, at=AUDIT_AT
    )
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    app.engine.dispose()
    log(f"  export: {seconds:.1f} s (CPU {cpu:.1f} s), peak RSS {rss_mb():,.0f} MB")
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "rss_baseline_mb": round(baseline),
        "peak_rss_mb": round(rss_mb()),
        "files": done.files,
        "bytes": Path(out).stat().st_size,
        "rows": sum(done.populations.values()),
        "findings": done.findings,
        "digest": done.audit_digest,
    }


def verify_child(package: str) -> dict[str, Any]:
    started = time.perf_counter()
    checks = verify(Path(package))
    seconds = time.perf_counter() - started
    failed = [c.name for c in checks if not c.ok]
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(rss_mb()), "failed": failed}


def bench(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    sizes = f"{args.changes:,} changes, {args.deployments:,} deployments, {args.drifts:,} drifts"
    log(f"{kind}: {sizes}")
    with common.database(kind, SCRATCH_DB) as url, tempfile.TemporaryDirectory() as tmp:
        seeded = in_child(seed_child, url, args)
        floor = in_child(floor_child, url, args.period, str(Path(tmp) / "floor.csv"))
        log(f"  floor: {floor['seconds']} s for {floor['rows']:,} rows")
        package = str(Path(tmp) / "evidence.zip")
        exported = in_child(export_child, url, args.period, str(keygen(Path(tmp))), package)
        verified = in_child(verify_child, package)
        log(f"  verify: {verified['seconds']} s, failed: {verified['failed']}")
    check(floor["rows"] == exported["rows"], "the export wrote other rows than the floor read")
    check(
        verified["failed"] in ([], [EXPECTED_FAILURE]),
        f"verify failed checks other than the ledger's: {verified['failed']}",
    )
    return {"db": kind, "seed_s": seeded["seconds"], "floor": floor, "export": exported,
            "verify": verified}  # fmt: skip


def table(results: list[dict[str, Any]]) -> str:
    rows = (
        ("population rows", lambda r: f"{r['export']['rows']:,}"),
        ("files in the package", lambda r: f"{r['export']['files']:,}"),
        ("zip size, MB", lambda r: f"{r['export']['bytes'] / 1e6:.1f}"),
        ("floor: query + CSV of the same rows, s", lambda r: str(r["floor"]["seconds"])),
        ("**export, s**", lambda r: f"**{r['export']['seconds']}**"),
        ("export CPU, s", lambda r: str(r["export"]["cpu_seconds"])),
        ("export peak RSS, MB", lambda r: str(r["export"]["peak_rss_mb"])),
        ("verify, s", lambda r: str(r["verify"]["seconds"])),
        ("verify peak RSS, MB", lambda r: str(r["verify"]["peak_rss_mb"])),
    )
    lines = ["| metric | " + " | ".join(r["db"] for r in results) + " |",
             "|---|" + "---:|" * len(results)]  # fmt: skip
    lines += [f"| {name} | " + " | ".join(cell(r) for r in results) + " |" for name, cell in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--deployments", type=int, default=50_000)
    parser.add_argument("--drifts", type=int, default=100_000)
    parser.add_argument("--resources", type=int, default=5_000, help="baseline resources")
    parser.add_argument("--period", default="2026")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of the data")
    parser.add_argument("--chunk", type=int, default=5_000, help="rows per executemany")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    results = [bench(kind, args) for kind in kinds]
    print(json.dumps(results, indent=2) if args.json else table(results))


if __name__ == "__main__":
    main()
