"""Samples an auditor can re-draw by hand: hash ranking, and the sample-size table."""

from __future__ import annotations

import hashlib

import pytest

from changegate.domain.errors import BadInput
from changegate.domain.sampling import (
    Frequency,
    Risk,
    auto_size,
    draw,
    frequency_of,
    rank,
    zero_deviation_size,
)

# The research note's binomial table (soc2_evidence.md §2.3), written out by hand.
NOTE_TABLE = [
    (0.95, 0.05, 59),
    (0.95, 0.07, 42),
    (0.95, 0.10, 29),
    (0.90, 0.05, 45),
    (0.90, 0.10, 22),
]


@pytest.mark.parametrize(("confidence", "tdr", "n"), NOTE_TABLE)
def test_zero_deviation_sizes_match_the_research_note(
    confidence: float, tdr: float, n: int
) -> None:
    assert zero_deviation_size(confidence, tdr) == n


def test_the_note_table_is_not_empty() -> None:
    assert NOTE_TABLE


def test_rank_is_sha256_of_seed_newline_key() -> None:
    # Computed outside Python: `printf 'audit-2026\nCHG-1' | sha256sum`
    assert rank("audit-2026", "CHG-1") == (
        "0171c7fb53b7927bc3aa79356b8394799fe60d9838656181b57743deb118841a"
    )


def test_draw_takes_the_lowest_ranks_in_rank_order() -> None:
    keys = [f"CHG-{i}" for i in range(1, 11)]
    by_rank = sorted(keys, key=lambda k: hashlib.sha256(f"s1\n{k}".encode()).hexdigest())
    assert draw(keys, 3, "s1") == by_rank[:3]
    assert draw(reversed(keys), 3, "s1") == by_rank[:3]  # the rows' order does not matter
    assert draw(keys, 3, "s2") != draw(keys, 3, "s1")
    assert draw(keys, 50, "s1") == by_rank


def test_one_more_row_moves_at_most_one_item() -> None:
    keys = [f"deployment:{i}" for i in range(200)]
    before = draw(keys, 25, "seed")
    after = draw([*keys, "deployment:999"], 25, "seed")
    assert len(set(before) - set(after)) <= 1


@pytest.mark.parametrize(
    ("seed", "message"),
    [("", "--seed"), ("a\nb", "--seed"), ("x" * 201, "--seed")],
)
def test_bad_seeds_are_bad_input(seed: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        draw(["a"], 1, seed)


def test_a_repeated_key_is_bad_input() -> None:
    with pytest.raises(BadInput, match="repeats the key 'CHG-1'"):
        draw(["CHG-1", "CHG-2", "CHG-1"], 1, "s")


@pytest.mark.parametrize(
    ("occurrences", "days", "frequency"),
    [
        (1, 365, Frequency.ANNUAL),
        (1, 92, Frequency.QUARTERLY),
        (3, 92, Frequency.MONTHLY),
        (13, 92, Frequency.WEEKLY),
        (60, 92, Frequency.DAILY),
        (900, 92, Frequency.RECURRING),
    ],
)
def test_frequency_is_scaled_to_a_year(occurrences: int, days: int, frequency: Frequency) -> None:
    assert frequency_of(occurrences, days) is frequency


@pytest.mark.parametrize(
    ("population", "frequency", "risk", "size"),
    [
        (900, Frequency.RECURRING, Risk.LOW, 25),
        (900, Frequency.RECURRING, Risk.MODERATE, 40),
        (900, Frequency.RECURRING, Risk.HIGH, 60),
        (60, Frequency.DAILY, Risk.MODERATE, 25),
        (13, Frequency.WEEKLY, Risk.HIGH, 13),
        (4, Frequency.QUARTERLY, Risk.MODERATE, 2),
        (1, Frequency.ANNUAL, Risk.HIGH, 1),
        (0, Frequency.RECURRING, Risk.MODERATE, 0),
    ],
)
def test_auto_size_follows_the_table(
    population: int, frequency: Frequency, risk: Risk, size: int
) -> None:
    assert auto_size(population, frequency, risk).size == size


def test_auto_size_says_why() -> None:
    assert "95% confidence" in auto_size(900, Frequency.RECURRING, Risk.MODERATE).basis
    assert "all are tested" in auto_size(13, Frequency.WEEKLY, Risk.HIGH).basis
