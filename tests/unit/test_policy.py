"""The policy file: defaults that match the Change Management Policy, and validation messages."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from changegate import policy
from changegate.domain.approvals import Quorum
from changegate.domain.changes import Risk
from changegate.domain.errors import BadInput
from changegate.domain.users import Role


@pytest.fixture(scope="module")
def default() -> policy.Policy:
    return policy.load(None)


def bad(document: dict[str, Any]) -> str:
    with pytest.raises(BadInput) as caught:
        policy.from_document(document, "my.yaml")
    return caught.value.message


def control(**overrides: Any) -> dict[str, Any]:
    base = {
        "id": "CM-1",
        "clause": "c",
        "summary": "s",
        "cited": [],
        "tsc": ["CC8.1"],
        "preventive": None,
        "detective": None,
    }
    return {**base, **overrides}


# --- defaults match the policy document -----------------------------------------------------------


def test_default_identity(default: policy.Policy) -> None:
    assert default.organisation == "Casper Studios"
    assert default.document == "Change Management Policy"
    assert default.timezone == "UTC"


def test_default_environments(default: policy.Policy) -> None:
    assert [(e.name, e.isolated, e.production) for e in default.environments] == [
        ("development", False, False),
        ("staging", True, False),
        ("production", False, True),
    ]


PROD_LISTED, PROD_MAPPED, PROD_REGIONAL, STAGING = (f"{n}" * 12 for n in "1234")


def test_production_accounts_are_the_same_whichever_section_names_them(
    default: policy.Policy,
) -> None:
    """CFG-1's production accounts: listed by a production environment, or mapped to one by
    `cloudtrail.accounts` for every region; a mapping limited to regions makes the account
    production only there, so CFG-1 (which holds a whole account) does not take it."""
    doc = default.model_dump(mode="json")
    production = next(e for e in doc["environments"] if e["production"])
    production["aws_accounts"] = [PROD_LISTED]
    doc["cloudtrail"]["accounts"] = [
        {"account": PROD_MAPPED, "environment": production["name"]},
        {"account": PROD_REGIONAL, "environment": production["name"], "regions": ["eu-west-1"]},
        {"account": STAGING, "environment": "staging"},
    ]
    assert policy.from_document(doc, "p.yaml").production_accounts() == {
        PROD_LISTED,
        PROD_MAPPED,
    }
    assert default.production_accounts() == frozenset()


def test_environment_lookup(default: policy.Policy) -> None:
    assert default.environment("staging").isolated is True
    with pytest.raises(BadInput) as caught:
        default.environment("qa")
    assert caught.value.message == (
        "unknown environment 'qa'; the policy defines development, staging, production"
    )


def test_default_approvals(default: policy.Policy) -> None:
    assert default.approvals.cab_quorum == {Risk.LOW: 1, Risk.MEDIUM: 1, Risk.HIGH: 2}
    assert default.approvals.iso_required is True
    assert [default.quorum(r) for r in Risk] == [Quorum(1, True), Quorum(1, True), Quorum(2, True)]


def test_default_deadlines(default: policy.Policy) -> None:
    # CM-3 "within five business days"; CFG-4 "within 48 hours"; VIO-1 "within three business days"
    assert default.emergency.retro_approval_business_days == 5
    assert default.emergency.pir_business_days == 5
    assert default.emergency.reminder_business_days == 1
    assert default.drift.remediation_hours == 48
    assert default.violations.remediation_business_days == 3


def test_default_changes_and_holidays(default: policy.Policy) -> None:
    assert default.changes.require_ticket is True
    assert default.holidays.country == "US"
    assert default.holidays.subdivision is None
    assert default.holidays.closures == []


def test_default_roles_are_every_role(default: policy.Policy) -> None:
    assert set(default.roles) == set(Role)
    assert all(text.strip() for text in default.roles.values())


# id -> (cited in the policy text, tsc mapping in the default policy file)
CONTROLS: dict[str, tuple[list[str], list[str]]] = {
    "CM-1": (["CC6.1"], ["CC8.1"]),
    "CM-2": (["CC6.1"], ["CC8.1", "CC5.1"]),
    "CM-3": (["CC6.1"], ["CC8.1"]),
    "CM-4": (["CC6.3"], ["CC8.1"]),
    "CM-5": (["CC6.3"], ["CC8.1", "CC6.8"]),
    "CM-6": ([], ["CC8.1", "CC4.1", "CC4.2"]),
    "CFG-1": (["CC7.1"], ["CC7.1", "CC8.1"]),
    "CFG-2": (["CC7.1"], ["CC8.1"]),
    "CFG-3": (["CC7.1"], ["CC7.1", "CC8.1"]),
    "CFG-4": (["CC7.1"], ["CC7.1", "CC8.1"]),
    "CFG-5": (["CC7.1"], ["CC8.1", "CC7.1", "CC4.1"]),
    "EXC-1": ([], ["CC3.2", "CC8.1"]),
    "VIO-1": ([], ["CC8.1", "CC4.2", "CC1.5"]),
    # Not a clause of its own: how CM-2's approvals are proven (DESIGN.md section 2, Identity).
    "AUTH-1": (["CC6.1"], ["CC8.1", "CC6.1"]),
}


def test_all_14_controls_in_order(default: policy.Policy) -> None:
    assert [c.id for c in default.controls] == list(CONTROLS)
    assert len(default.controls) == 14


@pytest.mark.parametrize(
    ("control_id", "cited", "tsc"), [(k, *v) for k, v in CONTROLS.items()], ids=list(CONTROLS)
)
def test_control_mappings(
    default: policy.Policy, control_id: str, cited: list[str], tsc: list[str]
) -> None:
    found = next(c for c in default.controls if c.id == control_id)
    assert found.cited == cited
    assert found.tsc == tsc
    assert found.clause.strip()
    assert found.summary.strip()
    assert found.preventive or found.detective  # every control is enforced or detected somewhere


@pytest.mark.parametrize("control_id", ["CM-1", "CM-2", "CM-3", "CM-4", "CM-5"])
def test_change_management_controls_map_to_cc81(default: policy.Policy, control_id: str) -> None:
    found = next(c for c in default.controls if c.id == control_id)
    assert "CC8.1" in found.tsc


def test_cm6_quarterly_review_maps_to_monitoring_too(default: policy.Policy) -> None:
    # The ISO's quarterly metrics review is also a monitoring activity (CC4.1), soc2_evidence 1.4.
    found = next(c for c in default.controls if c.id == "CM-6")
    assert "CC4.1" in found.tsc
    assert found.preventive is None


# --- validation names the offending key ---------------------------------------------------------

BAD_DOCUMENTS: list[tuple[str, dict[str, Any], str]] = [
    ("unknown-top-key", {"bogus": 1}, "my.yaml: bogus: unknown key"),
    ("unknown-nested-key", {"holidays": {"cuntry": "US"}}, "my.yaml: holidays.cuntry: unknown key"),
    (
        "unknown-env-key",
        {"environments": [{"name": "dev", "isloated": True}]},
        "my.yaml: environments.0.isloated: unknown key",
    ),
    (
        "quorum-0",
        {"approvals": {"cab_quorum": {"high": 0}}},
        "my.yaml: approvals.cab_quorum.high: Input should be greater than or equal to 1",
    ),
    (
        "quorum-not-a-number",
        {"approvals": {"cab_quorum": {"low": "one"}}},
        "my.yaml: approvals.cab_quorum.low: "
        "Input should be a valid integer, unable to parse string as an integer",
    ),
    (
        "unknown-risk",
        {"approvals": {"cab_quorum": {"critical": 3}}},
        "my.yaml: approvals.cab_quorum.critical.[key]: Input should be 'low', 'medium' or 'high'",
    ),
    (
        "two-problems",
        {"approvals": {"cab_quorum": {"low": 0, "high": 0}}},
        "my.yaml: approvals.cab_quorum.low: Input should be greater than or equal to 1 "
        "(and 1 more problem)",
    ),
    (
        "three-problems",
        {"approvals": {"cab_quorum": {"low": 0, "medium": 0, "high": 0}}},
        "my.yaml: approvals.cab_quorum.low: Input should be greater than or equal to 1 "
        "(and 2 more problems)",
    ),
    ("bad-timezone", {"timezone": "Mars/Base"}, "my.yaml: timezone: unknown time zone 'Mars/Base'"),
    ("empty-timezone", {"timezone": ""}, "my.yaml: timezone: unknown time zone ''"),
    (
        "unknown-country",
        {"holidays": {"country": "XX"}},
        "my.yaml: holidays: the holidays package has no country 'XX'",
    ),
    (
        "duplicate-environment",
        {"environments": [{"name": "prod"}, {"name": "prod"}]},
        "my.yaml: (top level): environments: duplicate prod",
    ),
    (
        "bad-environment-name",
        {"environments": [{"name": "Prod"}]},
        "my.yaml: environments.0.name: String should match pattern '^[a-z][a-z0-9_-]*$'",
    ),
    (
        "no-environments",
        {"environments": []},
        "my.yaml: environments: List should have at least 1 item after validation, not 0",
    ),
    (
        "bad-control-id",
        {"controls": [control(id="cm1")]},
        "my.yaml: controls.0.id: String should match pattern '^[A-Z]+-\\d+$'",
    ),
    (
        "duplicate-control",
        {"controls": [control(), control()]},
        "my.yaml: (top level): controls: duplicate CM-1",
    ),
    (
        "control-without-tsc",
        {"controls": [control(tsc=[])]},
        "my.yaml: controls.0.tsc: List should have at least 1 item after validation, not 0",
    ),
    (
        "no-controls",
        {"controls": []},
        "my.yaml: controls: List should have at least 1 item after validation, not 0",
    ),
    (
        "pir-days-0",
        {"emergency": {"pir_business_days": 0}},
        "my.yaml: emergency.pir_business_days: Input should be greater than or equal to 1",
    ),
    (
        "reminder-after-the-deadline",
        {"emergency": {"reminder_business_days": -1}},
        "my.yaml: emergency.reminder_business_days: Input should be greater than or equal to 0",
    ),
    (
        "drift-hours-word",
        {"drift": {"remediation_hours": "soon"}},
        "my.yaml: drift.remediation_hours: "
        "Input should be a valid integer, unable to parse string as an integer",
    ),
    (
        "unknown-role",
        {"roles": {"wizard": "casts spells"}},
        "my.yaml: roles.wizard.[key]: Input should be 'requester', 'cab', 'iso', "
        "'security_engineer', 'hr', 'auditor', 'admin' or 'pipeline'",
    ),
]


@pytest.mark.parametrize(
    ("document", "message"),
    [(d, m) for _, d, m in BAD_DOCUMENTS],
    ids=[name for name, _, _ in BAD_DOCUMENTS],
)
def test_bad_documents_name_the_key(document: dict[str, Any], message: str) -> None:
    assert bad(document) == message


@pytest.mark.parametrize("closure", ["christmas", "2026-13-01", "not-a-date"])
def test_bad_closure_date_names_the_entry(closure: str) -> None:
    # pydantic's own explanation of why the date is bad varies by input; the key does not
    message = bad({"holidays": {"closures": ["2026-12-24", closure]}})
    assert message.startswith("my.yaml: holidays.closures.1: Input should be a valid date")


def test_missing_risk_in_quorum_names_the_risk() -> None:
    # from_document merges mappings with the defaults, so a document can never drop a risk;
    # the rule is checked on the merged document.
    document = policy.default_document()
    del document["approvals"]["cab_quorum"]["high"]
    with pytest.raises(ValidationError) as caught:
        policy.Policy.model_validate(document)
    assert policy.explain(caught.value, "my.yaml") == (
        "my.yaml: approvals.cab_quorum: needs a quorum for every risk; missing high"
    )


def test_a_partial_quorum_keeps_the_other_risks_from_the_defaults() -> None:
    result = policy.from_document({"approvals": {"cab_quorum": {"low": 2}}}, "my.yaml")
    assert result.approvals.cab_quorum == {Risk.LOW: 2, Risk.MEDIUM: 1, Risk.HIGH: 2}


def test_unknown_subdivision_is_named_where_the_calendar_is_built() -> None:
    # Loading checks only the country (every command loads the policy); the subdivision is
    # checked by `policy check` and wherever a calendar is built.
    loaded = policy.from_document({"holidays": {"subdivision": "ZZ"}}, "my.yaml")
    with pytest.raises(BadInput, match=r"holidays: .* no subdivision .ZZ. of .US."):
        loaded.holidays.known_calendar()
    with pytest.raises(BadInput, match="no subdivision 'ZZ'"):
        loaded.calendar(datetime(2026, 11, 30, tzinfo=UTC))


def test_valid_overrides_apply() -> None:
    result = policy.from_document(
        {
            "timezone": "America/New_York",
            "holidays": {"subdivision": "NY", "closures": [date(2026, 12, 24), "2026-12-31"]},
            "changes": {"require_ticket": False},
            "emergency": {"pir_business_days": 3},
        },
        "my.yaml",
    )
    assert result.timezone == "America/New_York"
    assert result.holidays.country == "US"  # merged from the defaults
    assert result.holidays.subdivision == "NY"
    assert result.holidays.closures == [date(2026, 12, 24), date(2026, 12, 31)]
    assert result.changes.require_ticket is False
    assert result.emergency.pir_business_days == 3
    assert result.emergency.retro_approval_business_days == 5  # merged from the defaults


def test_lists_replace_rather_than_merge() -> None:
    result = policy.from_document({"environments": [{"name": "prod", "production": True}]}, "x")
    assert [e.name for e in result.environments] == ["prod"]


def test_merge_does_not_modify_its_inputs() -> None:
    base = policy.default_document()
    snapshot = copy.deepcopy(base)
    policy.merge(base, {"approvals": {"cab_quorum": {"low": 3}}})
    assert base == snapshot


def test_country_null_gives_a_weekends_only_calendar() -> None:
    result = policy.from_document({"holidays": {"country": None}}, "x")
    assert result.holidays.country is None


# --- load ---------------------------------------------------------------------------------------


def test_load_none_is_the_built_in_policy(default: policy.Policy) -> None:
    assert policy.load(None) == default
    assert policy.from_document({}, "anything") == default


def test_load_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(BadInput) as caught:
        policy.load(path)
    assert caught.value.message == (f"cannot read policy file {path}: No such file or directory")


def test_load_a_directory(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="cannot read policy file"):
        policy.load(tmp_path)


def test_load_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("timezone: UTC\ndrift:\n  remediation_hours: [48\n")
    with pytest.raises(BadInput) as caught:
        policy.load(path)
    assert caught.value.message.startswith(f"{path}: line ")
    assert caught.value.message.endswith(" is not valid YAML")
    line = int(caught.value.message.removeprefix(f"{path}: line ").split()[0])
    assert line >= 3


@pytest.mark.parametrize(
    "text",
    ["- timezone: UTC\n- drift: 1\n", "just a string\n", "42\n"],
    ids=["list", "string", "number"],
)
def test_load_a_document_that_is_not_a_mapping(tmp_path: Path, text: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    with pytest.raises(BadInput) as caught:
        policy.load(path)
    assert caught.value.message == f"{path}: the policy must be a mapping of keys"


def test_load_an_empty_file_gives_the_defaults(tmp_path: Path, default: policy.Policy) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("# nothing overridden\n")
    assert policy.load(path) == default


def test_load_validation_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("approvals:\n  cab_quorum:\n    high: 0\n")
    with pytest.raises(BadInput) as caught:
        policy.load(path)
    assert caught.value.message == (
        f"{path}: approvals.cab_quorum.high: Input should be greater than or equal to 1"
    )


def test_load_reads_yaml_dates(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("holidays:\n  closures: [2026-12-24, 2026-12-31]\n")
    assert policy.load(path).holidays.closures == [date(2026, 12, 24), date(2026, 12, 31)]


# --- digest -------------------------------------------------------------------------------------


def test_digest_is_a_sha256_hex(default: policy.Policy) -> None:
    digest = default.digest()
    assert len(digest) == 64
    assert int(digest, 16) >= 0


def test_digest_is_stable_across_loads(tmp_path: Path) -> None:
    one = tmp_path / "one.yaml"
    two = tmp_path / "two.yaml"
    one.write_text("timezone: Europe/Berlin\ndrift:\n  remediation_hours: 24\n")
    two.write_text("drift: {remediation_hours: 24}\ntimezone: Europe/Berlin\n")  # order differs
    assert policy.load(one).digest() == policy.load(one).digest()
    assert policy.load(one).digest() == policy.load(two).digest()
    assert policy.load(None).digest() == policy.load(None).digest()


@pytest.mark.parametrize(
    "change",
    [
        {"timezone": "Europe/Berlin"},
        {"drift": {"remediation_hours": 49}},
        {"approvals": {"cab_quorum": {"high": 3}}},
        {"approvals": {"iso_required": False}},
        {"holidays": {"closures": ["2026-12-24"]}},
        {"organisation": "Casper Studios Ltd"},
    ],
    ids=["timezone", "drift", "quorum", "iso", "closures", "organisation"],
)
def test_digest_changes_when_a_value_changes(
    default: policy.Policy, change: dict[str, Any]
) -> None:
    assert policy.from_document(change, "x").digest() != default.digest()


def test_setting_a_default_explicitly_keeps_the_digest(default: policy.Policy) -> None:
    same = policy.from_document({"drift": {"remediation_hours": 48}, "timezone": "UTC"}, "x")
    assert same.digest() == default.digest()


@pytest.mark.parametrize("levels", [150, 2_000])
def test_a_policy_nested_too_deeply_is_named_as_such(tmp_path: Path, levels: int) -> None:
    # 150: past our limit; 2,000: past libyaml's own, which stops first.
    path = tmp_path / "deep.yaml"
    path.write_text("gate: " + "[" * levels + "]" * levels + "\n")
    with pytest.raises(BadInput, match=r"deep.yaml: nested too deeply \(over 100 levels\)$"):
        policy.load(path)


def test_a_policy_file_is_read_only_up_to_its_limit() -> None:
    with pytest.raises(BadInput, match="a policy file is at most 1,048,576 bytes"):
        policy.load(Path("/dev/zero"))


def test_the_built_in_gate_policy_per_environment(default: policy.Policy) -> None:
    wanted = {"development": (False, False), "staging": (False, False), "production": (True, True)}
    assert {e.name: (e.approval, e.tests) for e in default.environments} == wanted
    window = default.gate.window
    assert (window.early_minutes, window.late_minutes, window.without_window) == (30, 60, "allow")
