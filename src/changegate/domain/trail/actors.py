"""Who made a CloudTrail call: a person, the pipeline, a workload, or AWS itself (CM-5).

`userIdentity` says how the caller authenticated (CloudTrail user guide, userIdentity element);
the policy says which roles are the pipeline's and which are workloads'. A person is anyone
else, and so is a human running Terraform from a laptop: the user agent proves nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from functools import cache

from changegate.domain.trail.records import Record, identity_of, string, text

SSO_ROLE = "AWSReservedSSO_"  # IAM Identity Center's permission-set roles; session = the person
ASSUMED = re.compile(
    r"^arn:(?P<part>[\w-]+):sts::(?P<account>\d{12}):assumed-role/(?P<role>[^/]+)/"
)
DEFAULT_SESSION_PATTERN = r"^chg-(?P<change>\d+)(?:-|$)"


class ActorKind(StrEnum):
    PERSON = "person"
    PIPELINE = "pipeline"
    WORKLOAD = "workload"  # a role the policy names as a workload's (instance, function)
    WEB_IDENTITY = "web-identity"  # federated by OIDC (e.g. GitHub Actions), not the pipeline's
    SERVICE = "service"  # AWS itself
    UNKNOWN = "unknown"  # no userIdentity.type and no invokedBy, or another account


@dataclass(frozen=True)
class AccountMapping:
    account: str
    environment: str
    regions: frozenset[str] | None = None  # None: every region


@dataclass(frozen=True)
class TrailRules:
    """The policy's `cloudtrail:` section, as plain values (policy.CloudTrailSettings.rules)."""

    accounts: tuple[AccountMapping, ...] = ()
    production: frozenset[str] = frozenset()  # environment names the policy marks production
    pipeline_roles: frozenset[str] = frozenset()  # ARNs, case-folded
    workload_roles: frozenset[str] = frozenset()
    # A regular expression's text (case-insensitive, group `change`): plain data, so the
    # evidence package's codec carries the rules with the audit's facts.
    session_pattern: str = DEFAULT_SESSION_PATTERN
    emergency_window: timedelta = timedelta(hours=4)
    pipeline_tolerance: timedelta = timedelta(minutes=15)
    # AWS principal ARN or name (case-folded) -> changegate email, where the names differ.
    people: Mapping[str, str] = field(default_factory=dict)

    def environment(self, account: str | None, region: str | None) -> str | None:
        """The environment an account (and region) runs: the first mapping that names both,
        else the first that names the account for every region."""
        if account is None:
            return None
        for m in self.accounts:
            if m.account == account and m.regions is not None and region in m.regions:
                return m.environment
        for m in self.accounts:
            if m.account == account and m.regions is None:
                return m.environment
        return None


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    identity: str  # userIdentity.type as recorded, or "(none)"
    # The stable principal a waiver can name: an IAM user's or root's ARN, the role of a
    # session (not the session: every run has a new one), the service principal.
    principal: str
    name: str  # who, in words: user name, the person of an SSO session, the session name
    session: str | None = None
    change: str | None = None  # the change key a pipeline's session names


def actor(record: Record, rules: TrailRules) -> Actor:
    """The caller of `record`, resolved under the policy's pipeline and workload roles."""
    who = identity_of(record)
    identity, invoked, arn = string(who, "type"), string(who, "invokedBy"), string(who, "arn")
    label = identity or "(none)"
    if identity == "AWSService" or (identity is None and invoked):
        return Actor(ActorKind.SERVICE, label, invoked or "(aws)", invoked or "AWS")
    if identity == "Root":
        account = string(who, "accountId") or "?"
        return Actor(ActorKind.PERSON, label, arn or f"arn:aws:iam::{account}:root", "root")
    if identity in ("AssumedRole", "FederatedUser"):
        return _session(who, rules, label, arn)
    if identity == "WebIdentityUser":
        return _web_identity(record, who, rules, label)
    if identity in ("IAMUser", "SAMLUser", "IdentityCenterUser"):
        name = string(who, "userName") or arn or "?"
        principal = arn or string(who, "principalId") or name
        return _by_role(Actor(ActorKind.PERSON, label, principal, name), rules, None)
    principal = arn or string(who, "principalId") or "(unknown)"
    return Actor(ActorKind.UNKNOWN, label, principal, principal)


def _session(who: Record, rules: TrailRules, label: str, arn: str | None) -> Actor:
    issuer = text(who, "sessionContext", "sessionIssuer", "arn")
    session = arn.rsplit("/", 1)[-1] if arn and "/" in arn else None
    if issuer is None and arn:
        m = ASSUMED.match(arn)
        if m:
            issuer = f"arn:{m['part']}:iam::{m['account']}:role/{m['role']}"
    role_name = text(who, "sessionContext", "sessionIssuer", "userName")
    principal = issuer or arn or "(unknown)"
    name = session or principal
    found = Actor(ActorKind.PERSON, label, principal, name, session)
    if role_name and role_name.startswith(SSO_ROLE):
        return found  # the session name is the person's sign-in name
    return _by_role(found, rules, session)


def _web_identity(record: Record, who: Record, rules: TrailRules, label: str) -> Actor:
    # AssumeRoleWithWebIdentity itself: the role it asks for is in the request.
    role = text(record, "requestParameters", "roleArn")
    session = text(record, "requestParameters", "roleSessionName")
    subject = string(who, "userName") or "?"
    principal = role or string(who, "principalId") or subject
    found = Actor(ActorKind.WEB_IDENTITY, label, principal, subject, session)
    return _by_role(found, rules, session)


def _by_role(found: Actor, rules: TrailRules, session: str | None) -> Actor:
    key = found.principal.casefold()
    if key in rules.pipeline_roles:
        change = change_named(session, rules) if session else None
        return Actor(
            ActorKind.PIPELINE, found.identity, found.principal, found.name, session, change
        )
    if key in rules.workload_roles:
        return Actor(ActorKind.WORKLOAD, found.identity, found.principal, found.name, session)
    return found


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def change_named(session: str, rules: TrailRules) -> str | None:
    """The change key a role-session-name names (`chg-42-run-9001` -> CHG-42), or None."""
    m = _compiled(rules.session_pattern).search(session)
    if not m:
        return None
    value = m.group("change")
    return f"CHG-{int(value)}" if value.isdigit() else value.upper()
