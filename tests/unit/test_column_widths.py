"""Every text column against the widest value its writers put there (issue 11).

Each bounded column is listed here by hand with the widest value the code can write into it and
where that comes from: a vocabulary (enum members, fixed words), a digest, a key format, a
documented vendor maximum, or another column a derived value is built from. A column that holds
what a person or peer typed is listed as input: longer text is refused as bad input naming the
column before either database sees it (`check_storable`, tested on both databases elsewhere).
A new column fails here until someone decides which it is; a writer that grows past its column
fails here instead of in production on PostgreSQL. The numbers below are the oracle: they are
not read from the code whose widths they check.
"""

from __future__ import annotations

from enum import StrEnum

import pytest

from changegate.db import models as m
from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.cab import ItemKind, MeetingStatus, Outcome
from changegate.domain.changes import ChangeStatus, ChangeType, Risk
from changegate.domain.deployments import DeploymentStatus
from changegate.domain.drift import DriftStatus
from changegate.domain.findings import DisciplinaryKind, FindingStatus, RemediationKind
from changegate.domain.identity import SignInMethod
from changegate.domain.notifications import NotificationStatus
from changegate.domain.trail.actors import ActorKind
from changegate.domain.trail.classify import Kind as TrailKind
from changegate.domain.users import Role
from changegate.domain.waivers import ScopeKind, WaiverStatus

INPUT = None  # what a person or peer typed; over the width it is refused, not cut
EMAIL = 254  # RFC 5321's path limit, which `normalise_email` enforces
KEY = len("CHG-") + len(str(2**31 - 1))  # CHG-, FND-, WVR-, APP- and a 32-bit number
SHA256_HEX = 64
INT64 = len(str(-(2**63)))
# AWS Config API reference: ResourceIdentifier.resourceType <= 256, resourceId <= 768.
AWS_TYPE, AWS_ID, AWS_ARN = 256, 768, 2048  # ARN: IAM API reference
GITHUB_REPOSITORY = 39 + 1 + 100  # owner (39) / name (100), GitHub's documented maxima


def longest(*vocabularies: type[StrEnum] | tuple[str, ...]) -> int:
    return max(len(str(v)) for vocabulary in vocabularies for v in vocabulary)


WIDEST: dict[str, int | None] = {
    "api_tokens.name": INPUT,
    "api_tokens.prefix": 10,  # the secret's first ten characters
    "api_tokens.secret_hash": SHA256_HEX,
    "approvals.role": longest(ApprovalRole),
    "approvals.decision": longest(Decision),
    "audit_runs.period": len("9998-Q4"),
    "audit_runs.actor": EMAIL,
    "audit_runs.digest": SHA256_HEX,
    "baseline_resources.resource_type": AWS_TYPE,
    "baseline_resources.resource_id": AWS_ID,
    "baseline_resources.logical_id": 255,  # CloudFormation: logical ids up to 255 characters
    "baseline_resources.id_source": longest(("physical", "name", "logical")),
    "baselines.name": INPUT,
    "baselines.status": longest(("draft", "approved", "superseded")),
    "baselines.source": longest(("template", "stack", "observed")),
    "baselines.source_ref": INPUT,
    "baselines.source_sha256": SHA256_HEX,
    "baselines.change_key": KEY,
    "cab_agenda_items.kind": longest(ItemKind),
    "cab_agenda_items.version_hash": SHA256_HEX,
    "cab_agenda_items.title": 300,  # the change's title as pinned (changes.title: 300)
    "cab_decisions.role": longest(ApprovalRole),
    "cab_decisions.outcome": longest(Outcome),
    "cab_meetings.title": INPUT,
    "cab_meetings.status": longest(MeetingStatus),
    "cab_meetings.minutes_sha256": SHA256_HEX,
    "change_versions.hash": SHA256_HEX,
    "changes.key": KEY,
    "changes.status": longest(ChangeStatus),
    "changes.version_hash": SHA256_HEX,
    "changes.title": INPUT,
    "changes.risk": longest(Risk),
    "changes.change_type": longest(ChangeType),
    "changes.ticket": INPUT,
    "code_reviews.repository": GITHUB_REPOSITORY,
    "code_reviews.title": INPUT,  # a peer's text
    "code_reviews.head_ref": INPUT,
    "code_reviews.author_login": 39,  # GitHub logins
    "code_reviews.kind": longest(("approved", "merged")),
    "code_reviews.actor_login": 39,
    "code_reviews.commit_sha": SHA256_HEX,  # SHA-1 today, SHA-256 object names tomorrow
    "code_reviews.url": INPUT,
    "code_reviews.delivery_id": SHA256_HEX,  # a longer X-GitHub-Delivery is stored as its hash
    "counters.name": longest(("change", "finding", "waiver")),
    "deployments.environment": INPUT,
    "deployments.kind": longest(("deploy", "rollback")),
    "deployments.commit": SHA256_HEX,
    "deployments.artifact": INPUT,
    "deployments.status": longest(DeploymentStatus),
    "deployments.run_url": INPUT,
    "deployments.iac_path": INPUT,
    "deployments.iac_sha256": SHA256_HEX,
    "disciplinary_actions.action": longest(DisciplinaryKind),
    "drifts.resource_type": AWS_TYPE,
    "drifts.resource_id": AWS_ID,
    "drifts.status": longest(DriftStatus),
    "drifts.authorised_by": KEY,
    "findings.key": KEY,
    # "<rule>|<subject>"; the widest subject names a resource: "resource:<type>:<id>".
    "findings.fingerprint": 60 + 1 + len("resource:") + AWS_TYPE + 1 + AWS_ID,
    "findings.control": longest(("CM-1", "CM-2", "CM-3", "CM-4", "CM-5", "CFG-1", "EXC-1")),
    "findings.rule": 60,  # the rule ids are ours; the audit tests name every one
    "findings.subject": len("resource:") + AWS_TYPE + 1 + AWS_ID,
    "findings.status": longest(FindingStatus),
    "findings.waiver_key": KEY,
    "findings.remediation_kind": longest(RemediationKind),
    "gate_decisions.change_key": INPUT,  # the caller's words, upper-cased (API: 40)
    "gate_decisions.environment": INPUT,  # an unknown one from GitHub is cut to 40 on purpose
    "gate_decisions.commit": SHA256_HEX,
    "gate_decisions.artifact": INPUT,
    "gate_decisions.principal": EMAIL,
    "gate_decisions.policy_digest": SHA256_HEX,
    "evidence_files.sha256": SHA256_HEX,
    "policy_documents.digest": SHA256_HEX,
    "policy_documents.source": 1000,  # the policy file's path, cut to 1000 on purpose
    "gate_decisions.source": longest(("api", "cli", "github")),
    "installation.name": longest(("adopted_on",)),
    "leases.name": longest(("waiver-expiry", "audit")),  # the registered jobs
    "leases.holder": 100,  # --worker-id's limit (a host name is at most 64, then :pid)
    "ledger.actor": EMAIL,
    "ledger.action": len("github.pull_request_") + len("approved"),
    # "user:<email>" is the widest subject changegate makes; a peer's text is cut on purpose.
    "ledger.subject": len("user:") + EMAIL,
    "ledger.prev_hash": SHA256_HEX,
    "ledger.hash": SHA256_HEX,
    "ledger_checkpoints.head_hash": SHA256_HEX,
    "ledger_head.hash": SHA256_HEX,
    "linear_cursors.name": longest(("issues",)),
    "linear_issues.issue_id": 36,  # Linear ids are UUIDs
    "linear_issues.identifier": INPUT,  # TEAM-123, as Linear names it
    "linear_issues.url": INPUT,
    "linear_issues.kind": longest(("change", "waiver")),
    "linear_issues.key": KEY,
    "linear_issues.content_sha256": SHA256_HEX,
    "linear_issues.problem_sha256": SHA256_HEX,
    "notifications.event_key": len("waiver.requested:") + KEY + 1 + INT64,  # with its round
    "notifications.channel": longest(("email", "slack", "inbox")),
    "notifications.recipient": EMAIL,
    "notifications.recipient_role": sum(len(r) + 1 for r in Role),  # every role, comma-joined
    "notifications.subject": 300,  # cut on purpose to this width (`SUBJECT_WIDTH`)
    "notifications.status": longest(NotificationStatus),
    "notifications.claimed_by": 100,  # --worker-id's limit
    "observations.resource_type": AWS_TYPE,
    "observations.resource_id": AWS_ID,
    "observations.arn": AWS_ARN,
    "observations.resource_name": 256,  # AWS Config PutResourceConfig: ResourceName <= 256
    "observations.account_id": 12,
    "observations.region": INPUT,  # as AWS Config reports it
    "observations.status": len("ResourceDeletedNotRecorded"),
    "observations.shape": longest(("config", "cloudformation")),
    "reviews.kind": longest(
        (
            "pir",
            "quarterly_metrics",
            "baseline_verification",
            "waiver_quarterly",
            "policy_annual",
            "config_annual",
        )
    ),
    "test_runs.environment": INPUT,
    "test_runs.commit": SHA256_HEX,
    "test_runs.artifact": INPUT,
    "test_runs.report_sha256": SHA256_HEX,
    "test_runs.report_format": longest(
        ("jest", "surefire", "go-junit-report", "pytest", "generic")
    ),
    "test_runs.doc_url": INPUT,
    "test_runs.verdict": 300,  # one line; the verdict's own tests hold it under this
    "trail_cursors.bucket": 63,  # S3 bucket names are 3 to 63 characters
    "trail_cursors.prefix": 1024,  # an S3 key (the prefix is part of one) is at most 1,024 bytes
    "trail_cursors.account": 12,  # an AWS account id
    "trail_cursors.region": len("ap-southeast-7") + 18,  # longest region name with headroom
    "trail_cursors.last_key": 1024,
    "trail_events.event_id": 64,  # a GUID (36); a longer eventID is refused as malformed
    "trail_events.event_source": 128,  # refused past this as a malformed record
    "trail_events.event_name": 128,  # as eventSource
    "trail_events.account": 12,
    "trail_events.region": len("ap-southeast-7") + 18,
    "trail_events.environment": 40,  # as the other environment columns; policy names are short
    "trail_events.kind": longest(TrailKind),
    "trail_events.actor_kind": longest(ActorKind),
    "trail_events.principal": AWS_ARN,
    "trail_events.actor_name": AWS_ARN,  # a user, session or OIDC subject name, else an ARN
    "trail_events.change_key": 40,  # as gate_decisions.change_key
    "trail_events.error_code": 256,  # CloudTrail Lake's documented errorCode maximum
    "trail_events.source": 1024,  # an S3 key, a file path cut to 1,024, or "api"
    "user_roles.role": longest(Role),
    "login_codes.code_hash": SHA256_HEX,
    "login_codes.challenge": SHA256_HEX,
    "web_sessions.secret_hash": SHA256_HEX,
    "web_sessions.method": longest(SignInMethod),
    "web_sessions.csrf_token": 43,  # secrets.token_urlsafe(32)
    "users.email": EMAIL,
    "users.name": INPUT,
    "users.github_login": 39,
    "waiver_approvals.role": longest(ApprovalRole),
    "waiver_approvals.decision": longest(Decision),
    "waivers.key": KEY,
    "waivers.status": longest(WaiverStatus),
    "waivers.title": INPUT,
    "waivers.scope_kind": longest(ScopeKind),
    "waivers.scope_value": AWS_ID,  # a resource scope names a resource id
    "webhook_deliveries.source": longest(("github", "linear")),
    "webhook_deliveries.delivery_id": SHA256_HEX,
    "webhook_deliveries.event": len("deployment_protection_rule"),
    "webhook_deliveries.status": longest(("new",)),
    # Drive answers these; it documents no maxima, so they are the peer's input (refused past
    # the width as bad input, nothing written).
    "workspace_files.role": longest(("report", "summary", "doc")),
    "workspace_files.file_id": INPUT,
    "workspace_files.name": INPUT,
    "workspace_files.mime_type": 127 + 1 + 127,  # RFC 6838: type and subtype <= 127 each
    "workspace_files.drive_id": INPUT,
    "workspace_files.link": INPUT,
    "workspace_files.md5": 32,  # hex MD5
    "workspace_files.sha256": SHA256_HEX,
    "workspace_files.content_sha256": SHA256_HEX,
}


def widths() -> dict[str, int]:
    return {
        f"{table.name}.{column.name}": column.type.length
        for table in m.everything().metadata.tables.values()
        for column in table.columns
        if getattr(column.type, "length", None) is not None
    }


def test_every_bounded_column_is_classified() -> None:
    found = widths()
    assert found, "no bounded columns found: the walk itself is broken"
    assert sorted(set(found) - set(WIDEST)) == [], "classify the new columns above"
    assert sorted(set(WIDEST) - set(found)) == [], "these columns no longer exist"


@pytest.mark.parametrize("column", sorted(k for k, v in WIDEST.items() if v is not None))
def test_the_column_holds_the_widest_value_its_writers_make(column: str) -> None:
    assert WIDEST[column] is not None
    assert WIDEST[column] <= widths()[column], f"{column}: a writer makes {WIDEST[column]}"


def test_the_walk_has_columns_to_check() -> None:
    assert len([v for v in WIDEST.values() if v is not None]) > 80
