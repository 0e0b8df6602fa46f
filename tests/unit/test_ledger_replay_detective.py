"""The detective half's replay from ledger payloads alone: what records written before issue 12
still prove (and leave out), and what the fuller payloads add. Pure: no database."""

from __future__ import annotations

import hashlib
from typing import Any

from changegate.services.ledger_replay_detective import Detective, apply

AT = "2026-11-02T13:00:00.000000+00:00"
LATER = "2026-11-02T15:00:00.000000+00:00"


def replayed(*records: tuple[str, str, str, str, dict[str, Any]]) -> Detective:
    out = Detective()
    for record in records:
        apply(out, *record)
    return out


OPENED_BEFORE = {
    "drift": 1,
    "event": "opened",
    "resource_type": "AWS::S3::Bucket",
    "resource_id": "logs-prod",
    "differences": [{"path": "/A", "expected": 1.5, "actual": 2}],
    "authorised_by": None,
    "due_at": "2026-11-04T13:00:00+00:00",
}
ROW_BEFORE = {
    "resource_type": "AWS::S3::Bucket",
    "resource_id": "logs-prod",
    "status": "open",
    "differences": '[{"actual":2,"expected":1.5,"path":"/A"}]',
    "authorised_by": "None",
    "detected_at": AT,
    "due_at": "2026-11-04T13:00:00.000000+00:00",
    "closed_at": "None",
    "remediation_seconds": "None",
}


def test_a_drift_scanned_before_issue_12_proves_what_it_says_and_no_more() -> None:
    remediated = {
        "drift": 1,
        "event": "remediated",
        "observation_id": 9,
        "remediation_seconds": 5400,
    }
    out = replayed(
        (AT, "sam@example.com", "drift.scanned", "drift", {"events": [OPENED_BEFORE]}),
        (LATER, "sam@example.com", "drift.scanned", "drift", {"events": [remediated]}),
    )
    # No baseline resource, observation or reopen count: those fields are not compared.
    assert out.drifts == {
        1: ROW_BEFORE
        | {
            "status": "remediated",
            "remediation_seconds": "5400.0",
            "closed_at": "2026-11-02T14:30:00.000000+00:00",  # detected + 1.5 hours
        }
    }


def test_a_drift_scanned_since_carries_its_keys_and_close_time() -> None:
    opened = OPENED_BEFORE | {"baseline_resource_id": 4, "observation_id": 7, "reopened": 2}
    closed = {
        "drift": 1,
        "event": "remediated",
        "remediation_seconds": 60.25,
        "closed_at": "2026-11-02T13:01:00.250000+00:00",
    }
    out = replayed(
        (AT, "sam@example.com", "drift.scanned", "drift", {"events": [opened, closed]}),
        (LATER, "sec@example.com", "drift.rebaselined", "drift:1", {"baseline": "logs"}),
    )
    assert out.drifts[1] == ROW_BEFORE | {
        "baseline_resource_id": "4",
        "observation_id": "7",
        "reopened": "2",
        "status": "rebaselined",
        "remediation_seconds": "60.25",
        "closed_at": LATER,
    }


def test_an_audit_before_issue_12_proves_only_which_run_raised_a_finding() -> None:
    out = replayed(
        (AT, "ivy@example.com", "audit.run", "audit:3", {"raised": ["FND-1", "FND-2"]}),
        (LATER, "ivy@example.com", "finding.dismissed", "FND-2", {"reason": "known"}),
    )
    assert out.findings == {
        "FND-1": {"first_run_id": "3", "first_detected_at": AT},
        "FND-2": {
            "first_run_id": "3",
            "first_detected_at": AT,
            "status": "dismissed",
            "decided_by": "ivy@example.com",
            "decided_at": LATER,
            "dismissal_reason": "known",
        },
    }


def test_an_audit_since_states_each_new_finding_and_each_move() -> None:
    new = {
        "key": "FND-1",
        "control": "CM-4",
        "rule": "CM-4.untested",
        "subject": "deployment:4",
        "occurred_at": "2026-11-01T10:00:00+00:00",
        "status": "suppressed",
        "waiver": "WVR-1",
        "reported": False,
        "sha256": "ab" * 32,
    }
    moved = {"key": "FND-1", "status": "open", "waiver": None, "reported": True}
    out = replayed(
        (AT, "system", "audit.run", "audit:1", {"raised": ["FND-1"], "findings": [new]}),
        (LATER, "system", "audit.run", "audit:2", {"raised": [], "findings": [moved]}),
    )
    assert out.findings == {
        "FND-1": {
            "first_run_id": "1",
            "first_detected_at": AT,
            "control": "CM-4",
            "rule": "CM-4.untested",
            "subject": "deployment:4",
            "status": "open",
            "sha256": "ab" * 32,
            "waiver_key": "None",
            "occurred_at": "2026-11-01T10:00:00.000000+00:00",
            "reported_at": LATER,
        }
    }


def test_a_baseline_before_issue_12_proves_its_resource_count_not_their_content() -> None:
    imported = {"version": 1, "source_ref": "s.yaml", "sha256": "c" * 64, "resources": 3}
    out = replayed(
        (AT, "sam@example.com", "baseline.imported", "baseline:logs", imported),
        (LATER, "sec@example.com", "baseline.approved", "baseline:logs", {"version": 1}),
    )
    assert out.baseline_resources == {"logs v1": {"count": "3"}}
    assert out.baselines["logs v1"] == {
        "status": "approved",
        "source_ref": "s.yaml",
        "source_sha256": "c" * 64,
        "author": "sam@example.com",
        "created_at": AT,
        "approver": "sec@example.com",
        "approved_at": LATER,
        "change_key": "None",
    }


def test_any_record_that_signs_a_review_is_a_review() -> None:
    out = replayed(
        (
            AT,
            "ivy@example.com",
            "review.policy_annual",
            "year:2026",
            {"review_id": 1, "sha256": "d" * 64},
        ),
        (
            AT,
            "ann@example.com",
            "change.pir_recorded",
            "CHG-7",
            {"review_id": 2, "summary": "fine"},
        ),
        (AT, "ivy@example.com", "waiver.something", "WVR-1", {"review_id": 3, "sha256": "e" * 64}),
        (AT, "ivy@example.com", "waiver.reviewed", "WVR-1", {"outcome": "close"}),
    )
    fine = hashlib.sha256(b"fine").hexdigest()
    assert out.reviews == {
        1: {"author": "ivy@example.com", "recorded_at": AT, "sha256": "d" * 64, "change": "None"}
        | {"kind": "policy_annual"},
        2: {"author": "ann@example.com", "recorded_at": AT, "sha256": fine, "change": "CHG-7"}
        | {"kind": "pir"},
        # An action that does not name the kind: the kind is not compared.
        3: {"author": "ivy@example.com", "recorded_at": AT, "sha256": "e" * 64, "change": "None"},
    }
