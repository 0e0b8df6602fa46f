"""People: the one stored form of an email address, and role names."""

from __future__ import annotations

import pytest

from changegate.domain.errors import BadInput
from changegate.domain.users import EMAIL_MAX, Role, normalise_email, parse_roles

AT_EXAMPLE = "@example.com"  # 12 characters


def test_an_email_is_trimmed_and_lower_cased() -> None:
    assert normalise_email("  Alice@Example.COM\n") == "alice@example.com"


def test_an_email_of_the_maximum_length_is_kept_and_one_longer_refused() -> None:
    assert EMAIL_MAX == 254
    longest = "a" * 242 + AT_EXAMPLE
    assert normalise_email(longest) == longest
    with pytest.raises(BadInput) as info:
        normalise_email("a" + longest)
    assert info.value.message == "not an email address: '" + "a" * 77 + "...'"


NOT_EMAILS = ["alice", "alice@example", "@example.com", "alice@", "al ice@example.com", "a@b@c.d"]


def test_the_list_of_non_emails_is_not_empty() -> None:
    assert len(NOT_EMAILS) == 6


@pytest.mark.parametrize("text", NOT_EMAILS)
def test_not_an_email_is_refused_naming_it(text: str) -> None:
    with pytest.raises(BadInput) as info:
        normalise_email(text)
    assert info.value.message == f"not an email address: '{text}'"


def test_a_long_non_email_is_shown_whole_up_to_80_characters() -> None:
    with pytest.raises(BadInput) as whole:
        normalise_email("x" * 80)
    with pytest.raises(BadInput) as cut:
        normalise_email("x" * 81)
    assert whole.value.message == "not an email address: '" + "x" * 80 + "'"
    assert cut.value.message == "not an email address: '" + "x" * 77 + "...'"


def test_roles_are_trimmed_lower_cased_deduplicated_and_sorted() -> None:
    assert parse_roles([" ISO ", "cab", "CAB", "auditor"]) == [Role.AUDITOR, Role.CAB, Role.ISO]


def test_no_role_is_bad_input() -> None:
    with pytest.raises(BadInput) as info:
        parse_roles([])
    assert info.value.message == "give at least one --role"


def test_an_unknown_role_lists_the_roles() -> None:
    with pytest.raises(BadInput) as info:
        parse_roles(["cab", "boss"])
    assert info.value.message == (
        "unknown role 'boss'; roles are requester, cab, iso, security_engineer, hr, auditor, "
        "admin, pipeline"
    )
