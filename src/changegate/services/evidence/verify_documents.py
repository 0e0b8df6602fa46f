"""The documents the package carries as they were: the policy documents in force, held to the
ledger (see policy_part.py for the layout), and the test reports as uploaded.

Every policy document and test report hashes to the digest it is named after; every test run
that names a report file names one the package holds, with the run's SHA-256; every
`policy.in_force` line in `policy/ledger.jsonl` re-hashes, and is the chain's own line where
the chain covers its seq; the intervals are those lines, in order, and include every
`policy.in_force` record the chain holds for the period; and each gate decision cites the
digest in force when it was taken.
"""

from __future__ import annotations

import hashlib
import json
import re
from bisect import bisect_right
from collections.abc import Mapping
from typing import Any

from changegate.services.evidence.formats import (
    POLICY_DOCUMENT,
    POLICY_IN_FORCE,
    POLICY_IN_FORCE_ACTION,
    POLICY_LEDGER,
    population_file,
)
from changegate.services.evidence.reader import PackageReader
from changegate.services.evidence.verify_ledger import Chain, record_hash

DOCUMENTS = "policy/documents/"
REPORT = re.compile(r"changes/[^/]+/test_reports/[0-9a-f]{64}\.xml")
RUNS = re.compile(r"changes/[^/]+/test_runs\.json")


def policy(package: PackageReader, manifest: Mapping[str, Any], chain: Chain) -> list[str]:
    body = package.json(POLICY_IN_FORCE)
    problems = _documents(package, body)
    lines = [json.loads(line) for _, line in package.lines(POLICY_LEDGER)]
    problems += _lines(lines, chain)
    problems += _intervals(body["intervals"], lines, chain, manifest["period"])
    problems += _decisions(package, body["intervals"])
    return problems


def test_reports(package: PackageReader) -> list[str]:
    reports = sorted(n for n in package.names if REPORT.fullmatch(n))
    problems = named_by_hash(package, reports)
    for name in sorted(n for n in package.names if RUNS.fullmatch(n)):
        for run in package.json(name):
            file = run.get("report_file")
            if file is None:
                continue
            if file not in package.names:
                problems.append(f"{name}: test run {run['id']} names {file}, not in the package")
            elif not file.endswith(f"/{run['report_sha256']}.xml"):
                problems.append(f"{name}: test run {run['id']} names another report, {file}")
    return problems


def named_by_hash(package: PackageReader, names: list[str]) -> list[str]:
    """Each file's SHA-256 must be the name's stem (`.../<sha256>.<ext>`)."""
    problems = []
    for name in names:
        digest = hashlib.sha256(package.read(name)).hexdigest()
        if name.rsplit("/", 1)[-1].split(".", 1)[0] != digest:
            problems.append(f"{name}: its SHA-256 is {digest}, not the digest it is named after")
    return problems


def _documents(package: PackageReader, body: Mapping[str, Any]) -> list[str]:
    files = sorted(n for n in package.names if n.startswith(DOCUMENTS))
    problems = named_by_hash(package, files)
    current = hashlib.sha256(package.read(POLICY_DOCUMENT)).hexdigest()
    if current != body["current"]:
        problems.append(f"{POLICY_DOCUMENT}: its SHA-256 is not {POLICY_IN_FORCE}'s current")
    named = [i["document"] for i in body["intervals"]] + [
        d["document"] for d in body["gate_decisions"]
    ]
    problems += [
        f"{POLICY_IN_FORCE}: names {n}, not in the package" for n in named if n and n not in files
    ]
    return problems


def _lines(lines: list[dict[str, Any]], chain: Chain) -> list[str]:
    problems = []
    for record in lines:
        seq = record.get("seq")
        if record.get("action") != POLICY_IN_FORCE_ACTION or record_hash(record) != record.get(
            "hash"
        ):
            problems.append(
                f"{POLICY_LEDGER}: seq {seq} is not a {POLICY_IN_FORCE_ACTION} record as hashed"
            )
        elif seq in chain.hashes and chain.hashes[seq] != record["hash"]:
            problems.append(f"{POLICY_LEDGER}: seq {seq} is not the chain's record of that seq")
    return problems


def _intervals(
    intervals: list[dict[str, Any]],
    lines: list[dict[str, Any]],
    chain: Chain,
    period: Mapping[str, str],
) -> list[str]:
    stated = [(i["seq"], i["from"], i["digest"]) for i in intervals]
    recorded = [(r["seq"], r["at"], r["payload"]["digest"]) for r in lines]
    problems = []
    if stated != recorded:
        problems.append(f"{POLICY_IN_FORCE}: the intervals are not {POLICY_LEDGER}'s records")
    ends = [i["to"] for i in intervals]
    if ends[:-1] != [i["from"] for i in intervals[1:]] or (ends and ends[-1] is not None):
        problems.append(f"{POLICY_IN_FORCE}: an interval does not end where the next starts")
    during = {s for s, at in chain.policy if period["start"] <= at < period["end"]}
    missing = sorted(during - {s for s, _, _ in stated})
    problems += [
        f"ledger seq {s} put a policy in force; {POLICY_IN_FORCE} omits it" for s in missing
    ]
    return problems


def _decisions(package: PackageReader, intervals: list[dict[str, Any]]) -> list[str]:
    starts = [i["from"] for i in intervals]
    problems = []
    for row in package.rows(population_file("gate_decisions")):
        at = row["decided_at"]
        k = bisect_right(starts, at) - 1
        if k >= 0 and intervals[k]["digest"] != row["policy_digest"]:
            problems.append(
                f"gate decision {row['id']} at {at} cites policy {row['policy_digest'][:16]}, "
                f"not {intervals[k]['digest'][:16]} in force then"
            )
    return problems
