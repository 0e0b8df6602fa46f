"""Who a signed-in person is: the identity provider's claims judged against the deployment's
rules (allowed domains, the optional claim -> role mapping). Pure: the ID token is already
verified (signature, issuer, audience, expiry, nonce) by the OIDC adapter when this runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.errors import Unauthenticated
from changegate.domain.users import Role


class SignInMethod(StrEnum):
    OIDC = "oidc"
    DEMO = "demo"


class Principal(StrEnum):
    """How the actor of a use case was authenticated (DESIGN.md section 2, Identity)."""

    TOKEN = "token"  # an API token, over HTTP
    SESSION = "session"  # a web session from the identity provider
    DEMO = "demo"  # a web session from the demo sign-in: picked from a list, proves nothing
    LOCAL = "local"  # in-process `--as`: whoever can reach the database; not authenticated

    @property
    def authenticated(self) -> bool:
        return self in (Principal.TOKEN, Principal.SESSION)


@dataclass(frozen=True)
class Claims:
    """The verified ID token's claims that matter here (OpenID Connect Core 1.0 section 2,
    5.1; `hd` is Google's hosted-domain claim)."""

    subject: str
    email: str | None
    email_verified: bool | None
    hosted_domain: str | None = None
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class IdentityRules:
    allowed_domains: tuple[str, ...] = ()
    # A claim value (a group) -> the changegate role it grants; empty: no mapping.
    role_map: Mapping[str, Role] = field(default_factory=dict)


def admit(claims: Claims, rules: IdentityRules) -> str:
    """The email the person signs in as (lower-cased). Raises Unauthenticated, naming why,
    for an ID token without a verified email or from a domain not allowed.

    With allowed domains, the email's domain must be one of them and, when the provider says
    which hosted domain the account belongs to (Google's `hd`), so must that: a personal
    Gmail account with a company address as a secondary email has no `hd`."""
    if not claims.email:
        raise Unauthenticated("the identity provider sent no email address for this account")
    if claims.email_verified is False:
        raise Unauthenticated(f"the identity provider has not verified {claims.email}")
    email = claims.email.strip().lower()
    domain = email.rpartition("@")[2]
    allowed = {d.lower() for d in rules.allowed_domains}
    if allowed and domain not in allowed:
        raise Unauthenticated(f"{email}: the domain {domain} may not sign in here")
    hosted = (claims.hosted_domain or "").lower()
    if allowed and hosted and hosted not in allowed:
        raise Unauthenticated(f"{email}: the hosted domain {hosted} may not sign in here")
    return email


def granted_roles(claims: Claims, rules: IdentityRules) -> frozenset[str] | None:
    """The roles the provider's groups grant, when a mapping is configured (None: no mapping,
    the user's changegate roles stand as they are)."""
    if not rules.role_map:
        return None
    return frozenset(rules.role_map[g].value for g in claims.groups if g in rules.role_map)


def effective_roles(held: frozenset[str], granted: frozenset[str] | None) -> frozenset[str]:
    """A session acts with the roles the user holds in changegate, narrowed to those the
    provider grants: the directory can take a role away (someone left the CAB group) but
    never grant one an administrator has not."""
    return held if granted is None else held & granted


# The ledger actions that are decisions (DESIGN.md section 2, Identity): approvals and
# rejections of changes, waivers and baselines, CAB decisions, signed reviews, the ISO's
# decisions on findings and HR's disciplinary actions. Each must be an authenticated
# principal's, or be marked otherwise.
DECISIONS: frozenset[str] = frozenset(
    {
        "waiver.approved",
        "waiver.rejected",
        "waiver.reviewed",
        "waiver.quarterly_reviewed",
        "cab.item_decided",
        "finding.confirmed",
        "finding.dismissed",
        "finding.disciplinary_action",
        "review.quarterly_metrics",
        "review.policy_annual",
        "review.config_annual",
        "baseline.approved",
        "baseline.verified",
    }
)
# The key a ledger payload carries when its decision was not authenticated (`false`).
AUTHENTICATED = "authenticated"


# A change's decision is recorded as change.<decision>_by_<role>.
CHANGE_DECISIONS: frozenset[str] = frozenset(
    f"change.{d.value}_by_{r.value}" for d in Decision for r in ApprovalRole
)


def is_decision(action: str) -> bool:
    return action in DECISIONS or action in CHANGE_DECISIONS
