"""Text cut to a column's width: the last character an ellipsis when anything was cut."""

from __future__ import annotations

from changegate.domain.wording import clip


def test_text_up_to_the_width_is_unchanged_and_longer_is_cut_with_an_ellipsis() -> None:
    assert clip("abcde", 5) == "abcde"
    assert clip("abcdef", 5) == "abcd…"
    assert clip("", 1) == ""
