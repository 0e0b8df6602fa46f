"""Drift: observed configuration against the approved baseline, on declared properties only.

Only properties the baseline declares are compared, so volatile fields (capture times, state
counters) never raise drift. Keys match case-insensitively, because CloudFormation declares
`VersioningConfiguration` where AWS Config reports `versioningConfiguration`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final, TypeGuard

from changegate.domain.calendar import add_clock_hours
from changegate.domain.states import step

# Values CloudFormation resolves at deploy time; a template cannot tell us what they become.
INTRINSICS: Final = frozenset(
    {
        "Ref",
        "Fn::GetAtt",
        "Fn::Sub",
        "Fn::Join",
        "Fn::If",
        "Fn::Select",
        "Fn::Split",
        "Fn::FindInMap",
        "Fn::Base64",
        "Fn::Cidr",
        "Fn::ImportValue",
        "Fn::GetAZs",
        "Fn::Transform",
    }
)
MISSING: Final = "(absent)"


@dataclass(frozen=True)
class Difference:
    path: str
    expected: object
    actual: object


# What JSON decodes to besides dicts: never mappings, so the (slow) ABC check can be skipped.
_PLAIN: Final = frozenset({str, int, float, bool, list, type(None)})


def _is_mapping(value: object) -> TypeGuard[Mapping[str, object]]:
    # Called for every declared and observed value of every resource a scan compares.
    cls = type(value)
    return cls is dict or (cls not in _PLAIN and isinstance(value, Mapping))


def _is_intrinsic(value: object) -> bool:
    return _is_mapping(value) and len(value) == 1 and next(iter(value)) in INTRINSICS


def _folded(observed: Mapping[str, object]) -> dict[str, object]:
    return {name.lower(): value for name, value in observed.items()}


def _same_scalar(expected: object, actual: object) -> bool:
    # Config reports numbers and booleans as strings for some types ("true", "3").
    return expected == actual or str(expected).lower() == str(actual).lower()


def diff(
    declared: Mapping[str, object], observed: Mapping[str, object], prefix: str = ""
) -> list[Difference]:
    out: list[Difference] = []
    folded: dict[str, object] | None = None
    for key, expected in sorted(declared.items()):
        if _is_intrinsic(expected):
            continue
        if key in observed:
            actual = observed[key]
        else:
            folded = _folded(observed) if folded is None else folded
            if key.lower() not in folded:
                out.append(Difference(f"{prefix}/{key}", expected, MISSING))
                continue
            actual = folded[key.lower()]
        # Paths are built only when needed: most declared values match.
        if _is_mapping(expected) and _is_mapping(actual):
            out.extend(diff(expected, actual, f"{prefix}/{key}"))
        elif isinstance(expected, list) and isinstance(actual, list):
            out.extend(_diff_list(expected, actual, f"{prefix}/{key}"))
        elif not _same_scalar(expected, actual):
            out.append(Difference(f"{prefix}/{key}", expected, actual))
    return out


def _diff_list(expected: list[object], actual: list[object], path: str) -> list[Difference]:
    if len(expected) != len(actual):
        return [Difference(path, expected, actual)]
    out: list[Difference] = []
    for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
        if _is_mapping(want) and _is_mapping(got):
            out.extend(diff(want, got, f"{path}/{index}"))
        elif not _is_intrinsic(want) and not _same_scalar(want, got):
            out.append(Difference(f"{path}/{index}", want, got))
    return out


class DriftStatus(StrEnum):
    OPEN = "open"
    REMEDIATED = "remediated"
    REBASELINED = "rebaselined"


class DriftAction(StrEnum):
    MATCH = "match"  # a later observation equals the baseline again
    REBASELINE = "rebaseline"  # the baseline was replaced through an approved change
    REDRIFT = "redrift"  # the resource drifted again after closing


TRANSITIONS: Final[Mapping[tuple[DriftStatus, DriftAction], DriftStatus]] = {
    (DriftStatus.OPEN, DriftAction.MATCH): DriftStatus.REMEDIATED,
    (DriftStatus.OPEN, DriftAction.REBASELINE): DriftStatus.REBASELINED,
    (DriftStatus.REMEDIATED, DriftAction.REDRIFT): DriftStatus.OPEN,
    (DriftStatus.REBASELINED, DriftAction.REDRIFT): DriftStatus.OPEN,
}


def transition(current: DriftStatus, action: DriftAction) -> DriftStatus:
    return step(TRANSITIONS, current, action)


class Verdict(StrEnum):
    """What one scan does with one observed resource."""

    NONE = "none"  # matches the baseline, nothing open
    STILL_OPEN = "still_open"  # differs, and its drift is already open
    SEEN = "seen"  # differs, but this observation was judged already (rebaselined)
    OPEN = "open"  # differs: open a drift, or reopen after a closed one
    CLOSE = "close"  # matches again: its open drift is remediated


def judge(
    differs: bool, last: DriftStatus | None, last_observation: int | None, observation: int
) -> Verdict:
    """`last` and `last_observation`: the resource's newest drift, if it has one."""
    if not differs:
        return Verdict.CLOSE if last is DriftStatus.OPEN else Verdict.NONE
    if last is DriftStatus.OPEN:
        return Verdict.STILL_OPEN
    if last is not None and last_observation == observation:
        return Verdict.SEEN
    return Verdict.OPEN


@dataclass(frozen=True)
class ChangeRef:
    """An approved-and-implemented change, as drift authorisation needs to see it (CFG-2)."""

    key: str
    text: str  # scope, title and IaC paths, lower-cased: where a change names its resources
    window_start: datetime | None
    implemented_at: datetime


def authorising_change(
    names: Sequence[str], observed_at: datetime, changes: Sequence[ChangeRef], slack: timedelta
) -> str | None:
    """The change that names the resource and whose execution explains when it changed."""
    wanted = [n.lower() for n in names if n]
    for change in sorted(changes, key=lambda c: c.implemented_at, reverse=True):
        start = (change.window_start or change.implemented_at) - slack
        explains_time = start <= observed_at <= change.implemented_at + slack
        if explains_time and any(name in change.text for name in wanted):
            return change.key
    return None


def due_at(detected_at: datetime, hours: int) -> datetime:
    """CFG-4: unauthorised drift is remediated within N elapsed clock hours of detection."""
    return add_clock_hours(detected_at, hours)
