"""Drift's life: its state table, what one scan does with one resource, and which executed
change authorises it (CFG-2, CFG-4). The comparison itself is `domain.comparison`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from changegate.domain.calendar import add_clock_hours
from changegate.domain.states import step


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
    return step(TRANSITIONS, current, action, subject="drift")


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
    names: frozenset[str]  # every word of its title, scope, services and IaC paths, lower-cased
    window_start: datetime | None
    implemented_at: datetime


# A word is what lies between spaces, quotes, brackets, commas and semicolons; a sentence's
# full stop or colon after it is not part of it.
_WORD: Final = re.compile(r"[^\s\"'`()\[\]{}<>,;]+")


def words(text: str) -> frozenset[str]:
    """The names a text mentions, for exact matching: `logs-prod-archive` is not `logs-prod`."""
    return frozenset(w.rstrip(".:!?").lower() for w in _WORD.findall(text) if w.rstrip(".:!?"))


def authorising_change(
    names: Sequence[str], observed_at: datetime, changes: Sequence[ChangeRef], slack: timedelta
) -> str | None:
    """The change that names the resource (its id, ARN or logical id, exactly, as a word of the
    change) and whose execution explains when it changed."""
    wanted = {n.lower() for n in names if n}
    for change in sorted(changes, key=lambda c: c.implemented_at, reverse=True):
        start = (change.window_start or change.implemented_at) - slack
        explains_time = start <= observed_at <= change.implemented_at + slack
        if explains_time and wanted & change.names:
            return change.key
    return None


def due_at(detected_at: datetime, hours: int) -> datetime:
    """CFG-4: unauthorised drift is remediated within N elapsed clock hours of detection."""
    return add_clock_hours(detected_at, hours)
