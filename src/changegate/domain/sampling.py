"""Audit samples an auditor can re-draw by hand: the selection and the size, both reproducible.

Selection ("sha256-rank/1"): every population row is ranked by the SHA-256 of
`<seed>` + `"\\n"` + `<row key>` (UTF-8, hex digest compared as text) and the `size` lowest ranks
are the sample, in rank order. It needs no random-number generator, so any language (or
`printf '%s\\n%s' SEED KEY | sha256sum`) draws the same sample; it does not depend on the order
of the rows, and one more row in the population moves at most one item of the sample.

Size (`--size auto`): the practitioners' attribute-sampling table of the SOC 2 research note
(§2.3), by how often the control operated in the period, with the zero-deviation binomial basis
n = ceil(ln(beta) / ln(1 - TDR)) stated beside each tier so the choice can be defended. A population
smaller than its tier is tested in full.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from changegate.domain.errors import BadInput

ALGORITHM = "sha256-rank/1"
SEED_MAX = 200


class Frequency(StrEnum):
    ANNUAL = "annual"
    QUARTERLY = "quarterly"
    MONTHLY = "monthly"
    WEEKLY = "weekly"
    DAILY = "daily"
    RECURRING = "recurring"  # many times a day, or event-driven (deployments, changes)


class Risk(StrEnum):
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


# Occurrences per year up to which a control counts as that frequency (research note §2.3).
_PER_YEAR: tuple[tuple[float, Frequency], ...] = (
    (1, Frequency.ANNUAL),
    (4, Frequency.QUARTERLY),
    (12, Frequency.MONTHLY),
    (52, Frequency.WEEKLY),
    (366, Frequency.DAILY),
)

# Sample sizes by frequency and risk: the ranges of the note's practitioner table, low risk
# taking the bottom of the range and high risk the top; the recurring tiers are its 25 / 40 / 60.
TABLE: dict[Frequency, dict[Risk, int]] = {
    Frequency.ANNUAL: {Risk.LOW: 1, Risk.MODERATE: 1, Risk.HIGH: 1},
    Frequency.QUARTERLY: {Risk.LOW: 2, Risk.MODERATE: 2, Risk.HIGH: 2},
    Frequency.MONTHLY: {Risk.LOW: 2, Risk.MODERATE: 3, Risk.HIGH: 5},
    Frequency.WEEKLY: {Risk.LOW: 5, Risk.MODERATE: 10, Risk.HIGH: 15},
    Frequency.DAILY: {Risk.LOW: 20, Risk.MODERATE: 25, Risk.HIGH: 40},
    Frequency.RECURRING: {Risk.LOW: 25, Risk.MODERATE: 40, Risk.HIGH: 60},
}

# The zero-deviation attribute-sampling equivalent of each recurring tier (note §2.3).
BASIS: dict[int, str] = {
    25: "about 90% confidence at a 9% tolerable deviation rate, no deviation allowed",
    40: "about 95% confidence at a 7% tolerable deviation rate, no deviation allowed",
    60: "about 95% confidence at a 5% tolerable deviation rate, no deviation allowed",
}


@dataclass(frozen=True)
class SizeChoice:
    size: int
    frequency: Frequency
    risk: Risk
    basis: str


def zero_deviation_size(confidence: float, tolerable_rate: float) -> int:
    """n = ceil(ln(1 - confidence) / ln(1 - TDR)): the smallest sample with no deviation that
    supports `confidence` that the deviation rate is below `tolerable_rate` (both in (0, 1))."""
    if not (0 < confidence < 1 and 0 < tolerable_rate < 1):
        raise BadInput("confidence and tolerable deviation rate must lie strictly between 0 and 1")
    return math.ceil(math.log(1 - confidence) / math.log(1 - tolerable_rate))


def frequency_of(occurrences: int, period_days: float) -> Frequency:
    """How often a control operated: `occurrences` in a period of `period_days`, scaled to a
    year (a quarter's 13 CAB meetings are weekly, its 900 deployments recurring)."""
    if period_days <= 0:
        raise BadInput("a period has a positive length")
    per_year = occurrences * 365 / period_days
    for limit, frequency in _PER_YEAR:
        if per_year <= limit:
            return frequency
    return Frequency.RECURRING


def auto_size(population: int, frequency: Frequency, risk: Risk = Risk.MODERATE) -> SizeChoice:
    """The table's size for the frequency and risk, or the whole population if it is smaller."""
    tier = TABLE[frequency][risk]
    size = min(tier, population)
    why = f"{frequency.value} control, {risk.value} risk: {tier} by the practitioners' table"
    if tier in BASIS and frequency is Frequency.RECURRING:
        why += f" ({BASIS[tier]})"
    if size < tier:
        why += f"; the population has only {population}, so all are tested"
    return SizeChoice(size, frequency, risk, why)


def rank(seed: str, key: str) -> str:
    """A row's rank: hex SHA-256 of seed, a newline, and the key."""
    return hashlib.sha256(f"{seed}\n{key}".encode()).hexdigest()


def check_seed(seed: str) -> str:
    if not seed or len(seed) > SEED_MAX or any(c in seed for c in "\n\r\x00"):
        raise BadInput(f"--seed must be 1 to {SEED_MAX} characters on one line")
    return seed


def draw(keys: Iterable[str], size: int, seed: str) -> list[str]:
    """The `size` keys of lowest rank, lowest first; keys must be unique (a population's
    primary key), a repeated key is bad input."""
    check_seed(seed)
    if size < 0:
        raise BadInput("a sample size is zero or more")
    ranked: dict[str, str] = {}
    for key in keys:
        if key in ranked:
            raise BadInput(f"the population repeats the key {key!r}; a sample needs unique keys")
        ranked[key] = rank(seed, key)
    return sorted(ranked, key=lambda k: ranked[k])[:size]
