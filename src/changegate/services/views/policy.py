"""Read model of the policy in force, with the installation's adoption date beside it."""

from __future__ import annotations

from datetime import date
from typing import Any

from changegate.policy import Policy
from changegate.services import installation
from changegate.services.context import Context
from changegate.services.views.common import Out


class PolicyOut(Out):
    """`policy` is the effective document (defaults merged with the file); `digest` its
    SHA-256; `effective_from` the first day audited (the policy's key, else `adopted_on`)."""

    source: str
    digest: str
    adopted_on: date | None
    effective_from: date | None
    policy: dict[str, Any]


def policy_of(policy: Policy, source: str, adopted: date | None) -> PolicyOut:
    return PolicyOut(
        source=source,
        digest=policy.digest(),
        adopted_on=adopted,
        effective_from=policy.audits.effective_from or adopted,
        policy=policy.model_dump(mode="json"),
    )


def show(ctx: Context, source: str) -> PolicyOut:
    return policy_of(ctx.policy, source, installation.adopted_on(ctx))
