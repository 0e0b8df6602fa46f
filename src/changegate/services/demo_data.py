"""The organisation and the quarter of work the demo replays: people, changes, and their fates.

Plain data, kept apart from the replay logic in `demo.py` so each stays readable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from changegate.domain.approvals import ApprovalRole
from changegate.domain.changes import Risk

CAB, ISO = ApprovalRole.CAB, ApprovalRole.ISO


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    title: str
    roles: tuple[str, ...]


def _p(handle: str, name: str, title: str, *roles: str) -> Person:
    return Person(f"{handle}@casperstudios.example", name, title, roles)


PEOPLE = (
    _p("priya.raman", "Priya Raman", "VP Engineering, CAB chair", "cab"),
    _p("marcus.bell", "Marcus Bell", "SRE lead", "cab"),
    _p("elena.kovacs", "Elena Kovacs", "Platform lead", "cab"),
    _p("daniel.okafor", "Daniel Okafor", "Information Security Officer", "iso"),
    _p("hannah.schmidt", "Hannah Schmidt", "Security engineer", "security_engineer"),
    _p("rosa.delgado", "Rosa Delgado", "People partner (HR)", "hr"),
    _p("tom.whitfield", "Tom Whitfield", "Internal auditor", "auditor"),
    _p("jamie.chen", "Jamie Chen", "Backend engineer", "requester"),
    _p("sofia.martins", "Sofia Martins", "Backend engineer", "requester"),
    _p("liam.oconnor", "Liam O'Connor", "Infrastructure engineer", "requester"),
    _p("aisha.khan", "Aisha Khan", "Data engineer", "requester"),
    _p("noah.fischer", "Noah Fischer", "Full-stack engineer", "requester"),
    _p("ci-deploy", "GitHub Actions deploy pipeline", "CI/CD principal", "pipeline"),
)

# kind -> (scope, impact, rollback plan); {title} and {svc} are filled per change.
KINDS: Mapping[str, tuple[str, str, str]] = {
    "rel": (
        "{title}. Application code only, shipped as a new image by the deploy pipeline.",
        "{svc} pods roll one at a time; no downtime expected. Error rate and p99 are watched "
        "on the {svc} dashboard for 30 minutes.",
        "Redeploy the previous {svc} image tag through the pipeline (about 5 minutes).",
    ),
    "cfg": (
        "{title}. Configuration only, changed in the IaC repository and applied by the pipeline.",
        "Takes effect on the next config reload of {svc}; a mistake shows as "
        "elevated 4xx/5xx within minutes.",
        "Revert the configuration commit and re-apply; the old values are in the change set.",
    ),
    "db": (
        "{title}. Online migration, batched to keep replication lag under 5 seconds.",
        "Extra write load on the {svc} database while it runs; reads unaffected.",
        "Run the down migration from the same release; a snapshot is taken right before.",
    ),
    "infra": (
        "{title}. Infrastructure change through a reviewed CloudFormation change set.",
        "{svc} capacity dips while nodes are replaced one at a time; latency may rise.",
        "Roll the stack back to the previous template version in the same rolling order.",
    ),
    "dep": (
        "{title}. Dependency upgrade; changelog reviewed, regression suite green in staging.",
        "{svc} is redeployed with the new dependency; changelog items checked against our usage.",
        "Redeploy the previous image, which pins the old version.",
    ),
    "fix": (
        "{title}. Minimal code fix, reviewed by a second engineer, shipped by the pipeline.",
        "Stops an ongoing customer-facing incident on {svc}; the fix touches one code path.",
        "Redeploy the previous image; on-call keeps the incident open until verified.",
    ),
}

# Outcome codes. C closed; V rejected, revised (v2), approved, closed; X withdrawn while submitted;
# Y cancelled after approval; P submitted, no decision yet; Q high risk, one CAB approval so far;
# A approved, not yet implemented; I implemented, not yet closed; D draft; R rejected.
# Emergencies: E retro approval and PIR on time; L PIR late; T retro approval late; O neither.
ROWS: tuple[tuple[str, str, str, str, str], ...] = (
    ("Add idempotency keys to billing webhook handler", "billing", "m", "rel", "C"),
    ("Raise api-gateway rate limit for the partner tier", "api-gateway", "l", "cfg", "C"),
    ("Rotate auth service JWT signing keys", "auth", "h", "cfg", "C"),
    ("Upgrade search cluster to OpenSearch 2.15", "search", "h", "infra", "V"),
    ("Backfill invoice line-item currency column", "billing+data-pipeline", "m", "db", "C"),
    ("Enable gzip compression on public API responses", "api-gateway", "l", "cfg", "C"),
    ("Hotfix: auth token refresh loop after SDK release", "auth", "h", "fix", "E"),
    ("Move nightly ETL to the new Airflow cluster", "data-pipeline", "m", "infra", "C"),
    ("Add SAML group mapping for enterprise SSO", "auth", "m", "rel", "C"),
    ("Upgrade Django to 5.0.7 in the web app", "web-app", "m", "dep", "C"),
    ("Partition the events table by month", "data-pipeline", "h", "db", "C"),
    ("Tune search relevance boosts for asset titles", "search", "l", "cfg", "C"),
    ("Introduce a retry budget for api-gateway upstream calls", "api-gateway", "m", "rel", "X"),
    (
        "Send notification emails through the new SES configuration set",
        "notifications",
        "l",
        "cfg",
        "C",
    ),
    ("Add VAT reverse-charge handling for EU invoices", "billing", "h", "rel", "V"),
    ("Hotfix: double charge on retried card payments", "billing", "h", "fix", "L"),
    ("Raise data-pipeline worker autoscaling ceiling", "data-pipeline", "l", "infra", "C"),
    ("Upgrade api-gateway Node.js runtime to 20 LTS", "api-gateway", "m", "dep", "C"),
    ("Add composite index on orders (account_id, created_at)", "billing", "m", "db", "C"),
    ("Enforce MFA for admin console sessions", "auth+web-app", "h", "rel", "C"),
    ("Migrate asset thumbnails to the new S3 bucket", "asset-store", "m", "infra", "C"),
    ("Reindex search with the multilingual analyzer", "search", "m", "db", "C"),
    ("Hotfix: search indexer stuck on malformed UTF-8", "search+data-pipeline", "m", "fix", "E"),
    ("Move database credentials to Secrets Manager", "billing+auth", "h", "cfg", "C"),
    ("Rework the password reset email template", "notifications+auth", "l", "rel", "C"),
    ("Upgrade PostgreSQL 15.6 to 15.8 on the billing primary", "billing", "h", "infra", "C"),
    ("Add p99 latency SLO alerts for api-gateway", "api-gateway", "l", "cfg", "C"),
    ("Deprecate the v1 search endpoint", "search+api-gateway", "m", "rel", "V"),
    ("Add a dead-letter queue for failed pipeline jobs", "data-pipeline", "m", "infra", "C"),
    ("Hotfix: api-gateway TLS chain missing intermediate cert", "api-gateway", "h", "fix", "T"),
    ("Roll out usage-based pricing flag to 10% of accounts", "billing+web-app", "m", "cfg", "C"),
    ("Upgrade Redis to 7.2 for session storage", "auth", "m", "dep", "C"),
    ("Split render-queue workers by GPU class", "render-queue", "m", "infra", "C"),
    ("Add CSV export of invoices to the web app", "web-app+billing", "l", "rel", "C"),
    ("Replace cron-based reports with pipeline DAGs", "data-pipeline", "m", "rel", "Y"),
    ("Tighten the CORS allow-list on the public API", "api-gateway", "m", "cfg", "C"),
    ("Archive asset versions older than 18 months to Glacier", "asset-store", "m", "infra", "C"),
    ("Enable the WAF bot-control managed rule group", "api-gateway", "h", "infra", "C"),
    ("Disable login rate limiting for load-test accounts", "auth", "m", "cfg", "R"),
    (
        "Raise data-pipeline memory limits for the quarter-end rollup",
        "data-pipeline",
        "l",
        "infra",
        "C",
    ),
    ("Upgrade the OpenTelemetry collector to 0.104", "api-gateway+search", "l", "dep", "D"),
    ("Add search-as-you-type suggestions", "search+web-app", "m", "rel", "I"),
    ("Shorten auth session idle timeout to 30 minutes", "auth", "m", "cfg", "I"),
    ("Move billing cron jobs to EventBridge Scheduler", "billing", "m", "infra", "P"),
    ("Migrate notification templates to MJML", "notifications", "l", "rel", "A"),
    ("Upgrade api-gateway Envoy to 1.31", "api-gateway", "h", "dep", "A"),
    ("Hotfix: auth lockout after IdP certificate rollover", "auth", "h", "fix", "O"),
    ("Add Stripe Tax to checkout", "billing", "h", "rel", "Q"),
    ("Resize search data nodes to r7g.2xlarge", "search", "m", "infra", "A"),
    ("Introduce per-tenant encryption keys for asset storage", "asset-store", "h", "infra", "P"),
)
RISKS = {"l": Risk.LOW, "m": Risk.MEDIUM, "h": Risk.HIGH}
# (who rejects, why, field revised, what the revision adds)
REVISIONS = (
    (
        ISO,
        "Rollback does not cover the index snapshot; restore must be tested first.",
        "rollback_plan",
        "Snapshot restore rehearsed in staging (took 22 minutes).",
    ),
    (
        CAB,
        "Window collides with the month-end invoicing run; add a canary stage.",
        "scope",
        "Canary: EU accounts at 5% for one day before the rest.",
    ),
    (
        CAB,
        "Partners were not told; give them notice and a sunset date.",
        "impact",
        "Partners notified 30 days ahead; v1 answers 410 with a link to the v2 docs.",
    ),
)
JUSTIFICATIONS = (
    "SEV-1: 38% of mobile sessions stuck refreshing tokens; users are logged out.",
    "SEV-1: retried card payments are charged twice; finance is refunding by hand.",
    "SEV-2: new assets have not been searchable for 6 hours.",
    "SEV-1: partner SDKs reject our certificate; all partner API calls fail.",
    "SEV-1: every SSO login fails since the IdP rolled its signing certificate.",
)
APPROVE_NOTES = (
    "",
    "",
    "",
    "Rollback plan reviewed.",
    "OK for the planned window.",
    "Keep the dashboard open during rollout.",
)
HIGHLIGHTS = {
    "V": "rejected, revised to version 2, then approved and shipped",
    "Chigh": "high risk: two CAB approvals plus the ISO",
    "L": "emergency whose PIR came after its deadline",
    "T": "emergency whose retroactive approval came after its deadline",
    "O": "emergency with no retroactive approval and no PIR (see `change overdue`)",
    "Q": "high risk, awaiting a second CAB approval and the ISO",
}


def emails(role: str) -> list[str]:
    return [p.email for p in PEOPLE if role in p.roles]
