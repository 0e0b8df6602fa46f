"""`evidence verify`: check a package offline, with no database and no settings.

The checks, in order: the manifest's signature (by the key the ledger checkpoint carries, and
`--trusted-key` when given); every file's SHA-256 and size, nothing missing, nothing extra; the
IPE records against their CSV files; the ledger chain from its signed checkpoint; the
populations against the ledger's records of the period, both ways; the audit facts against the
populations; and the audit re-performed from the facts alone, to the manifest's digest.

A package that cannot be read at all (not a directory or zip, no manifest, a manifest that is
not JSON) raises BadInput; every other problem is a failed check naming its file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from changegate.domain.audit.facts import AuditFacts
from changegate.domain.errors import BadInput
from changegate.services.evidence import signing, verify_audit, verify_documents, verify_ledger
from changegate.services.evidence.formats import CHECKPOINT, FORMAT, IPE, MANIFEST
from changegate.services.evidence.reader import CHUNK, PackageReader, Unreadable


@dataclass(frozen=True)
class Check:
    name: str
    problems: tuple[str, ...]
    note: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _State:
    package: PackageReader
    manifest: dict[str, Any]
    trusted_key: str | None
    chain: verify_ledger.Chain | None = None
    facts: tuple[dict[str, Any], AuditFacts] | None = None  # decoded once, read twice

    def audit_facts(self) -> tuple[dict[str, Any], AuditFacts]:
        if self.facts is None:
            self.facts = verify_audit.facts_of(self.package)
        return self.facts


def verify(path: Path, trusted_key: str | None = None) -> list[Check]:
    """Every check's outcome, in order. Raises BadInput for an unreadable package."""
    package = PackageReader(path)
    try:
        state = _State(package, _manifest(package), trusted_key)
        return [_run(name, step, state) for name, step in STEPS]
    finally:
        package.close()


def _manifest(package: PackageReader) -> dict[str, Any]:
    if MANIFEST not in package.names:
        raise BadInput(f"{package.path}: no {MANIFEST}: not an evidence package")
    try:
        manifest = package.json(MANIFEST)
    except Unreadable as exc:
        raise BadInput(str(exc)) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BadInput(f"{MANIFEST}: not a {FORMAT} manifest")
    return manifest


def _run(name: str, step: Callable[[_State], tuple[list[str], str]], state: _State) -> Check:
    try:
        problems, note = step(state)
    except Unreadable as exc:
        problems, note = [str(exc)], ""
    except (KeyError, TypeError, ValueError) as exc:
        problems, note = [f"{MANIFEST} or a file it lists lacks what {name} needs: {exc}"], ""
    return Check(name, tuple(problems), note)


def _signature(state: _State) -> tuple[list[str], str]:
    manifest, problems = state.manifest, []
    key = str(manifest.get(signing.PUBLIC_KEY) or "")
    signature = str(manifest.get(signing.SIGNATURE) or "")
    if not signing.valid(signing.signed_bytes(manifest), signature, key):
        problems.append(f"{MANIFEST}: the signature does not verify with its public key")
    try:
        ledger_key = state.package.json(CHECKPOINT).get("public_key")
    except (Unreadable, AttributeError):
        ledger_key = None
    if key != ledger_key:
        problems.append(f"{MANIFEST}: signed by a key other than {CHECKPOINT}'s")
    if state.trusted_key is not None and key != state.trusted_key:
        problems.append(f"{MANIFEST}: signed by {key}, not by the trusted key")
    return problems, f"Ed25519 key {key}"


def _files(state: _State) -> tuple[list[str], str]:
    listed = {str(f["path"]): f for f in state.manifest["files"]}
    present = state.package.names - {MANIFEST}
    problems = [f"{p}: listed in the manifest but missing" for p in sorted(set(listed) - present)]
    problems += [f"{p}: not listed in the manifest" for p in sorted(present - set(listed))]
    for name in sorted(set(listed) & present):
        digest, size = _sha256(state.package, name)
        if (digest, size) != (listed[name]["sha256"], listed[name]["size"]):
            problems.append(f"{name}: SHA-256 or size differs from the manifest's")
    return problems, f"{len(listed)} files"


def _sha256(package: PackageReader, name: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with package.open(name) as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _ipe(state: _State) -> tuple[list[str], str]:
    records: Mapping[str, Any] = state.package.json(IPE)["populations"]
    listed = {str(f["path"]): f for f in state.manifest["files"]}
    problems = []
    for name, record in records.items():
        path = str(record["file"])
        rows = sum(1 for _ in state.package.rows(path))
        if record["sha256"] != listed.get(path, {}).get("sha256"):
            problems.append(f"{path}: the IPE record's SHA-256 is not the file's")
        if rows != record["rows"] or rows != state.manifest["populations"].get(name):
            problems.append(f"{path}: {rows} rows, the IPE record or manifest says otherwise")
    return problems, f"{len(records)} populations"


def _chain(state: _State) -> tuple[list[str], str]:
    state.chain = verify_ledger.chain(state.package, state.manifest)
    ledger = state.manifest["ledger"]
    return state.chain.problems, f"seq {ledger['first_seq']} to {ledger['last_seq']}"


def _ledger_populations(state: _State) -> tuple[list[str], str]:
    if state.chain is None or not state.chain.walked:
        return ["the ledger chain is broken: the populations cannot be held to it"], ""
    problems = verify_ledger.against_populations(state.package, state.manifest, state.chain)
    return problems, ", ".join(sorted([*verify_ledger.COLUMNS, "changes", "findings"]))


def _policy(state: _State) -> tuple[list[str], str]:
    if state.chain is None or not state.chain.walked:
        return ["the ledger chain is broken: the policy's history cannot be held to it"], ""
    problems = verify_documents.policy(state.package, state.manifest, state.chain)
    return problems, "documents, their ledger records and the gate decisions citing them"


def _test_reports(state: _State) -> tuple[list[str], str]:
    return verify_documents.test_reports(state.package), "each named by its SHA-256"


def _facts(state: _State) -> tuple[list[str], str]:
    _, facts = state.audit_facts()
    return verify_audit.against_populations(state.package, facts), "ids and instants"


def _reperform(state: _State) -> tuple[list[str], str]:
    document, _ = state.audit_facts()
    digest, problems = verify_audit.reperformed(state.package, document, state.manifest)
    return problems, f"digest {digest}"


STEPS: tuple[tuple[str, Callable[[_State], tuple[list[str], str]]], ...] = (
    ("manifest signature", _signature),
    ("file hashes", _files),
    ("IPE records", _ipe),
    ("ledger chain", _chain),
    ("populations against the ledger", _ledger_populations),
    ("policy in force", _policy),
    ("test reports as uploaded", _test_reports),
    ("audit facts against the populations", _facts),
    ("audit re-performed", _reperform),
)
