"""Values as people read them: instants and deadlines (one wording with the domain's), durations."""

from __future__ import annotations

from changegate.domain.wording import deadline, when

__all__ = ["deadline", "duration", "plural", "when"]

MINUTE, HOUR, DAY = 60, 3600, 86400


def duration(seconds: float | None) -> str | None:
    """`45 s`, `12 min`, `3 h 20 min`, `2 d 4 h`."""
    if seconds is None:
        return None
    total = round(seconds)
    if total < MINUTE:
        return f"{total} s"
    if total < HOUR:
        return f"{total // MINUTE} min"
    if total < DAY:
        hours, rest = divmod(total, HOUR)
        return f"{hours} h" + (f" {rest // MINUTE} min" if rest >= MINUTE else "")
    days, rest = divmod(total, DAY)
    return f"{days} d" + (f" {rest // HOUR} h" if rest >= HOUR else "")


def plural(count: int, word: str, words: str | None = None) -> str:
    """`1 finding`, `2 findings`, `0 findings`; irregular plurals as `words`."""
    return f"{count} {word if count == 1 else (words or word + 's')}"
