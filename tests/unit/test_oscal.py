"""The OSCAL assessment-results document validates against compliance-trestle's OSCAL models."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from trestle.oscal.assessment_results import AssessmentResults

from changegate.integrations.oscal import Assessment, EvidenceFile, FindingIn, assessment_results

START = datetime(2026, 7, 1, tzinfo=UTC)
END = datetime(2026, 10, 1, tzinfo=UTC)
POLICY = EvidenceFile("policy/policy-1a2b.yaml", "ab" * 32, "application/yaml", "policy in force")
DEPLOYS = EvidenceFile(
    "populations/deployments.csv", "cd" * 32, "text/csv", "population: deployments, 3 rows"
)


def _assessment(findings: tuple[FindingIn, ...]) -> Assessment:
    return Assessment(
        title="Casper Studios change management, 2026-Q3",
        period="2026-Q3",
        start=START,
        end=END,
        generated_at=datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
        plan=POLICY,
        controls=("CM-2", "CFG-4"),
        findings=findings,
        files=(DEPLOYS, POLICY),
    )


FINDING = FindingIn(
    control="CM-2",
    rule="CM-2.deployed-before-approval",
    subject="deployment:45",
    summary="deployment 45 of CHG-3 started before the ISO approved version 2",
    occurred_at=datetime(2026, 8, 3, 9, 30, tzinfo=UTC),
    waiver="WVR-1",
    evidence=("populations/deployments.csv",),
)


def test_the_document_validates_with_trestle() -> None:
    doc = assessment_results(_assessment((FINDING,)))
    model = AssessmentResults.model_validate(doc["assessment-results"])
    back = json.loads(model.oscal_serialize_json())
    result = back["assessment-results"]["results"][0]
    assert [f["target"]["status"]["state"] for f in result["findings"]] == [
        "not-satisfied",
        "satisfied",
    ]
    assert result["findings"][0]["target"]["target-id"] == "cm-2_obj"
    assert result["findings"][1]["title"] == "CFG-4 satisfied"
    assert "WVR-1" in result["findings"][0]["remarks"]
    assert doc["assessment-results"]["results"][0]["start"] == "2026-07-01T00:00:00Z"
    assert result["start"] == "2026-07-01T00:00:00+00:00"  # trestle writes the offset


def test_evidence_is_pinned_by_sha256_and_every_reference_resolves() -> None:
    doc = assessment_results(_assessment((FINDING,)))["assessment-results"]
    resources = {r["uuid"]: r for r in doc["back-matter"]["resources"]}
    assert sorted(r["rlinks"][0]["href"] for r in resources.values()) == [
        "policy/policy-1a2b.yaml",
        "populations/deployments.csv",
    ]
    deploys = next(r for r in resources.values() if r["title"] == "populations/deployments.csv")
    assert deploys["rlinks"][0]["hashes"] == [{"algorithm": "SHA-256", "value": "cd" * 32}]
    assert doc["import-ap"]["href"].removeprefix("#") in resources
    result = doc["results"][0]
    observations = {o["uuid"] for o in result["observations"]}
    for o in result["observations"]:
        assert o["relevant-evidence"][0]["href"].removeprefix("#") in resources
    related = result["findings"][0]["related-observations"]
    assert related and all(r["observation-uuid"] in observations for r in related)


def test_the_same_inputs_give_the_same_bytes() -> None:
    one = json.dumps(assessment_results(_assessment((FINDING,))), sort_keys=True)
    two = json.dumps(assessment_results(_assessment((FINDING,))), sort_keys=True)
    other = json.dumps(assessment_results(_assessment(())), sort_keys=True)
    assert one == two
    assert one != other


def test_a_clean_period_is_satisfied_for_every_control() -> None:
    doc = assessment_results(_assessment(()))
    AssessmentResults.model_validate(doc["assessment-results"])
    states = [
        f["target"]["status"]["state"] for f in doc["assessment-results"]["results"][0]["findings"]
    ]
    assert states == ["satisfied", "satisfied"]
