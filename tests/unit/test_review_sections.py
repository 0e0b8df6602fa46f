"""A signed review's report laid out as tables: every shape a report holds prints, none raises
(a mapping of counts once answered 500 on GET /api/v1/reviews/{id}/report.html)."""

from __future__ import annotations

from changegate.services.review_documents import Cell, sections


def test_a_mapping_of_counts_is_a_two_column_table() -> None:
    [gate] = sections({"quarter": "2026-Q3", "gate": {"allowed": 12, "denied": 3}})
    assert gate.title == "gate"
    assert gate.columns == ("", "")
    assert gate.rows == ((Cell("allowed"), Cell("12")), (Cell("denied"), Cell("3")))


def test_a_mapping_of_like_mappings_is_one_row_each() -> None:
    [by_env] = sections({"by_env": {"prod": {"ok": 2, "late": 1}, "staging": {"ok": 5, "late": 0}}})
    assert by_env.columns == ("", "ok", "late")
    assert by_env.rows == (
        (Cell("prod"), Cell("2"), Cell("1")),
        (Cell("staging"), Cell("5"), Cell("0")),
    )


def test_a_mapping_mixing_counts_and_mappings_still_prints() -> None:
    [mixed] = sections({"emergencies": {"implemented": 4, "detail": {"on_time": 3}}})
    assert [row[0].text for row in mixed.rows] == ["implemented", "detail"]
