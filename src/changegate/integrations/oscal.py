"""A period's audit as an OSCAL assessment-results document (NIST OSCAL 1.1, JSON).

Shape, from the OSCAL assessment-results model reference
(https://pages.nist.gov/OSCAL-Reference/models/v1.1.2/assessment-results/json-reference/):
one `result` for the period; one `observation` per evidence file, whose `relevant-evidence`
points at a back-matter `resource` carrying the file's path and SHA-256 (`rlinks[].hashes`); one
`finding` per audit finding (`not-satisfied`, with the evidence observations of its population)
and one `satisfied` finding per reviewed control that had none. SOC 2 has no official OSCAL
catalog, so control ids are changegate's own (`cm-2`, `cfg-4`); `import-ap` points at the policy
document in the package, which is the plan these controls were assessed against.

Every UUID is a UUIDv5 of the document's seed and the item's name, so the same period exported
from the same data gives the same bytes, which the package's manifest can then pin.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

OSCAL_VERSION = "1.1.2"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://changegate.dev/oscal/assessment-results")


@dataclass(frozen=True)
class EvidenceFile:
    path: str  # relative to the package root, "/"-separated
    sha256: str
    media_type: str
    description: str


@dataclass(frozen=True)
class FindingIn:
    control: str  # "CM-2"
    rule: str  # "CM-2.deployed-before-approval"
    subject: str
    summary: str
    occurred_at: datetime
    waiver: str | None
    evidence: tuple[str, ...]  # paths of the EvidenceFiles it rests on


@dataclass(frozen=True)
class Assessment:
    title: str
    period: str
    start: datetime
    end: datetime  # the end of what was assessed: min(as_of, period end)
    generated_at: datetime
    plan: EvidenceFile  # the policy document the controls come from
    controls: tuple[str, ...]
    findings: tuple[FindingIn, ...]
    files: tuple[EvidenceFile, ...]


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def control_id(control: str) -> str:
    """OSCAL's control-id is a token; catalogs write ids in lower case ("cm-2")."""
    return control.lower()


class _Ids:
    def __init__(self, seed: str) -> None:
        self.seed = seed

    def __call__(self, *names: str) -> str:
        return str(uuid.uuid5(_NAMESPACE, "\n".join((self.seed, *names))))


def _resource(ids: _Ids, f: EvidenceFile) -> dict[str, Any]:
    return {
        "uuid": ids("resource", f.path),
        "title": f.path,
        "description": f.description,
        "rlinks": [
            {
                "href": f.path,
                "media-type": f.media_type,
                "hashes": [{"algorithm": "SHA-256", "value": f.sha256}],
            }
        ],
    }


def _observation(ids: _Ids, f: EvidenceFile, collected: datetime) -> dict[str, Any]:
    return {
        "uuid": ids("observation", f.path),
        "title": f.path,
        "description": f.description,
        "methods": ["EXAMINE"],
        "types": ["control-objective"],
        "relevant-evidence": [
            {
                "href": f"#{ids('resource', f.path)}",
                "description": f"{f.path} (SHA-256 {f.sha256})",
            }
        ],
        "collected": _stamp(collected),
    }


def _finding(ids: _Ids, f: FindingIn) -> dict[str, Any]:
    state = {"state": "not-satisfied"}
    remarks = f"Subject {f.subject}; occurred {_stamp(f.occurred_at)}."
    if f.waiver:
        remarks += f" Covered by waiver {f.waiver}: suppressed, not dropped."
    out: dict[str, Any] = {
        "uuid": ids("finding", f.rule, f.subject),
        "title": f"{f.rule} {f.subject}",
        "description": f.summary,
        "target": {
            "type": "objective-id",
            "target-id": f"{control_id(f.control)}_obj",
            "status": state,
        },
        "remarks": remarks,
    }
    related = [{"observation-uuid": ids("observation", p)} for p in f.evidence]
    if related:
        out["related-observations"] = related
    return out


def _satisfied(ids: _Ids, control: str) -> dict[str, Any]:
    return {
        "uuid": ids("satisfied", control),
        "title": f"{control} satisfied",
        "description": f"The audit re-performed {control} over the period and found no deviation.",
        "target": {
            "type": "objective-id",
            "target-id": f"{control_id(control)}_obj",
            "status": {"state": "satisfied"},
        },
    }


def assessment_results(a: Assessment) -> dict[str, Any]:
    """The document as JSON-ready values: `{"assessment-results": {...}}` with OSCAL's
    hyphenated keys; timestamps in UTC with a `Z`."""
    ids = _Ids(f"{a.period}\n{_stamp(a.end)}\n{a.plan.sha256}")
    failed = {f.control for f in a.findings}
    findings = [_finding(ids, f) for f in a.findings] + [
        _satisfied(ids, c) for c in a.controls if c not in failed
    ]
    result: dict[str, Any] = {
        "uuid": ids("result"),
        "title": f"changegate audit of {a.period}",
        "description": (
            f"Every detective rule re-performed over {a.period} as of {_stamp(a.end)}; "
            "the evidence files are in this package, pinned by SHA-256."
        ),
        "start": _stamp(a.start),
        "end": _stamp(a.end),
        "reviewed-controls": {
            "control-selections": [
                {"include-controls": [{"control-id": control_id(c)} for c in a.controls]}
            ]
        },
        "observations": [_observation(ids, f, a.generated_at) for f in a.files],
        "findings": findings,
    }
    return {
        "assessment-results": {
            "uuid": ids("document"),
            "metadata": {
                "title": a.title,
                "last-modified": _stamp(a.generated_at),
                "version": a.period,
                "oscal-version": OSCAL_VERSION,
            },
            "import-ap": {"href": f"#{ids('resource', a.plan.path)}"},
            "results": [result],
            "back-matter": {"resources": [_resource(ids, f) for f in _unique((a.plan, *a.files))]},
        }
    }


def _unique(files: Sequence[EvidenceFile]) -> list[EvidenceFile]:
    seen: Mapping[str, EvidenceFile] = {f.path: f for f in reversed(files)}
    return sorted(seen.values(), key=lambda f: f.path)
