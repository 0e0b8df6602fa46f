"""The composition root: settings -> engine, policy, clock, signer; transactions with retry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from changegate import policy as policy_file
from changegate.config import Settings
from changegate.config_aws import CloudTrailSettings
from changegate.db import schema
from changegate.db.engine import build_engine, session_factory
from changegate.domain.errors import BadInput, Conflict
from changegate.domain.evidence import TestReport
from changegate.domain.lake_events import CLOUDTRAIL
from changegate.domain.notifications import EMAIL, SLACK
from changegate.integrations.linear_ports import LinearApi
from changegate.integrations.ports import (
    CheckpointStore,
    DeploymentReviewer,
    Drive,
    Notifier,
    Vocabulary,
)
from changegate.policy import Policy
from changegate.services import policy_history
from changegate.services.context import SYSTEM, Context
from changegate.services.linear_outbound import LINEAR

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from changegate.services.views.status import StatusOut

# Adapters and their clients (httpx, cryptography, the JUnit parser) are imported where they
# are built: a command that does not use them does not pay for importing them.

T = TypeVar("T")
RETRIES = 8
# PostgreSQL: serialization_failure, deadlock_detected. Both mean "run it again".
RETRYABLE_SQLSTATES = {"40001", "40P01"}


@dataclass
class App:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    readers: sessionmaker[Session]
    policy: Policy
    signer: Ed25519PrivateKey | None
    reviewer: DeploymentReviewer | None = None
    channels: tuple[str, ...] = ()
    # Set once a transaction has committed with this policy in force (see `transaction`).
    policy_in_force: bool = field(default=False, init=False)

    def now(self) -> datetime:
        return self.settings.clock_override or datetime.now(UTC)

    def vocabulary(self) -> Vocabulary:
        return vocabulary()

    @contextmanager
    def transaction(
        self, actor: str = SYSTEM, at: datetime | None = None, simulated: bool = False
    ) -> Iterator[Context]:
        """One unit of work: commits when the block ends, rolls back if it raises."""
        now = at or self.now()
        fake = simulated or self.settings.clock_override is not None
        noted = policy_history.InForce(str(self.settings.policy_path or "built-in defaults"))
        with self.sessions() as session, session.begin():
            ctx = Context(
                session,
                self.policy,
                now,
                actor,
                fake,
                self.channels,
                public_url=self.settings.web.public_url,
                before_record=None if self.policy_in_force else noted.put,
            )
            yield ctx
        self.policy_in_force = self.policy_in_force or noted.done

    def read(self, fn: Callable[[Context], T]) -> T:
        """Run a query in a read-only transaction (rolled back, never blocks SQLite writers)."""
        with self.readers() as session:
            try:
                return fn(
                    Context(
                        session,
                        self.policy,
                        self.now(),
                        SYSTEM,
                        self.settings.clock_override is not None,
                    )
                )
            finally:
                session.rollback()

    def run(
        self,
        fn: Callable[[Context], T],
        actor: str = SYSTEM,
        at: datetime | None = None,
        simulated: bool = False,
    ) -> T:
        """Run a use case in its own transaction, again if a concurrent writer won the race."""
        for attempt in range(RETRIES):
            try:
                with self.transaction(actor, at, simulated) as ctx:
                    return fn(ctx)
            except Conflict:
                if attempt == RETRIES - 1:
                    raise
            except StaleDataError:
                # An autoflush lost the compare-and-set before the repository could name it.
                if attempt == RETRIES - 1:
                    raise Conflict("a concurrent writer changed the record first; retry") from None
            except DBAPIError as exc:
                if attempt == RETRIES - 1 or _sqlstate(exc) not in RETRYABLE_SQLSTATES:
                    raise
        raise AssertionError("unreachable")


@cache
def vocabulary() -> Vocabulary:
    """AWS Config items in CloudFormation's vocabulary; built on first use (its schemas take a
    second or two to load, which only ingests, scans and imports pay)."""
    from changegate.integrations.vocabulary import ConfigVocabulary  # noqa: PLC0415

    return ConfigVocabulary()


def read_report(data: bytes, source: str) -> TestReport:
    """Parse a JUnit XML report into the evidence the rules understand."""
    from changegate.integrations import junit  # noqa: PLC0415

    return junit.parse(data, source)


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


def load_signer(settings: Settings) -> Ed25519PrivateKey | None:
    path = settings.signing_key_path
    if path is None:
        return None
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: PLC0415
        Ed25519PrivateKey,
    )

    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise BadInput(f"CHANGEGATE_SIGNING_KEY: cannot read {path}: {exc.strerror}") from None
    except ValueError:
        raise BadInput(f"CHANGEGATE_SIGNING_KEY: {path} is not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BadInput(f"CHANGEGATE_SIGNING_KEY: {path} is not an Ed25519 key")
    return key


def build(settings: Settings, require_schema: bool = True) -> App:
    engine = build_engine(settings.database_url)
    if require_schema:
        refuse_missing_file(engine)
        check_schema(engine)
    return App(
        settings,
        engine,
        session_factory(engine),
        session_factory(engine, read_only=True),
        policy_file.load(settings.policy_path),
        load_signer(settings),
        github_reviewer(settings),
        channels(settings),
    )


def channels(settings: Settings) -> tuple[str, ...]:
    """The channels notifications are queued for; the worker delivers them (see notifiers)."""
    return (
        ((EMAIL,) if settings.smtp else ())
        + ((SLACK,) if settings.slack_webhook_url else ())
        + ((CLOUDTRAIL,) if settings.cloudtrail else ())
        + ((LINEAR,) if settings.linear else ())
    )


def notifiers(
    settings: Settings, closing: ExitStack, app: App | None = None
) -> dict[str, Notifier]:
    """One notifier per configured channel, for the worker; `closing` closes their clients.

    Built on demand rather than in `build`: only the worker sends, and every other command
    would pay for an HTTP client (and its TLS context) it never uses. Linear's channel also
    reads and writes changegate (it applies the issues webhooks name), so it needs `app`.
    """
    import httpx  # noqa: PLC0415

    from changegate.integrations.notify import (  # noqa: PLC0415
        SlackNotifier,
        SmtpNotifier,
        SmtpRelay,
    )

    built: dict[str, Notifier] = {}
    if settings.smtp is not None:
        smtp = settings.smtp
        built[EMAIL] = SmtpNotifier(
            SmtpRelay(
                smtp.host, smtp.port, smtp.sender, smtp.username, smtp.password, smtp.starttls
            )
        )
    if settings.slack_webhook_url:
        # No redirects: the webhook URL is a credential and the message must go only there.
        client = closing.enter_context(
            httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0), follow_redirects=False)
        )
        built[SLACK] = SlackNotifier(settings.slack_webhook_url, client)
    if settings.cloudtrail is not None:
        built[CLOUDTRAIL] = cloudtrail_lake(settings.cloudtrail)
    if settings.linear is not None and app is not None:
        built[LINEAR] = linear_channel(app, closing)
    return built


def linear_api(settings: Settings, closing: ExitStack) -> LinearApi:
    """Linear's GraphQL API with the configured credential; `closing` closes its client."""
    import httpx  # noqa: PLC0415

    from changegate.integrations.linear import LinearGraphQL  # noqa: PLC0415

    config = settings.linear
    if config is None:
        raise BadInput(
            "Linear is not configured: set CHANGEGATE_LINEAR_API_KEY (or "
            "CHANGEGATE_LINEAR_OAUTH_TOKEN) and CHANGEGATE_LINEAR_WEBHOOK_SECRET"
        )
    # No redirects: the credential must go only to the configured endpoint.
    client = closing.enter_context(
        httpx.Client(timeout=httpx.Timeout(30.0, connect=5.0), follow_redirects=False)
    )
    return LinearGraphQL(client, config.url, config.authorization)


def linear_channel(app: App, closing: ExitStack) -> Notifier:
    from changegate.services.linear_delivery import LinearChannel  # noqa: PLC0415

    return LinearChannel(linear_api(app.settings, closing), app.run, app.read)


def cloudtrail_lake(config: CloudTrailSettings) -> Notifier:
    import boto3  # type: ignore[import-untyped]  # noqa: PLC0415
    from botocore.config import Config  # type: ignore[import-untyped]  # noqa: PLC0415

    from changegate.integrations.cloudtrail_lake import CloudTrailLake  # noqa: PLC0415

    client = boto3.client(
        "cloudtrail-data",
        region_name=config.region,
        endpoint_url=config.endpoint_url,
        # One try a tick: the outbox retries with backoff and counts the attempts it shows.
        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30),
    )
    return CloudTrailLake(client, config.channel_arn, config.external_id)


def checkpoint_store(bucket: str, prefix: str) -> CheckpointStore:
    """S3 through boto3's standard chain (credentials, region, AWS_ENDPOINT_URL)."""
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    from changegate.integrations.s3_checkpoints import S3Checkpoints  # noqa: PLC0415

    client = boto3.client("s3", config=Config(connect_timeout=5, read_timeout=30))
    return S3Checkpoints(client, bucket, prefix)


def drive(settings: Settings, policy: Policy) -> Drive | None:
    """Google Drive as the service account of CHANGEGATE_GOOGLE_CREDENTIALS, inside the
    policy's shared drive; connected on first use. None when no service account is set."""
    config = settings.google
    if config is None:
        return None
    from changegate.integrations.drive import LazyDrive  # noqa: PLC0415

    lazy = LazyDrive(config.credentials, config.subject, config.drive_url, config.ca_certs)
    return lazy.within(policy.workspace.shared_drive or "")


def github_reviewer(settings: Settings) -> DeploymentReviewer | None:
    config = settings.github
    if config is None:
        return None
    import httpx  # noqa: PLC0415

    from changegate.integrations.github import GitHubApp  # noqa: PLC0415

    try:
        pem = config.private_key_path.read_bytes()
    except OSError as exc:
        raise BadInput(
            f"CHANGEGATE_GITHUB_PRIVATE_KEY: cannot read {config.private_key_path}: {exc.strerror}"
        ) from None
    # No redirects: a token must only ever go to the configured API root.
    client = httpx.Client(
        base_url=config.api_url.rstrip("/") + "/",
        timeout=httpx.Timeout(8.0, connect=3.0),
        follow_redirects=False,
    )
    try:
        return GitHubApp(config.app_id, pem, client, lambda: datetime.now(UTC))
    except ValueError as exc:
        raise BadInput(f"CHANGEGATE_GITHUB_PRIVATE_KEY: {exc}") from None


def refuse_missing_file(engine: Engine) -> None:
    """SQLite creates the file it is asked to open: a command that only reads (or a typo in
    CHANGEGATE_DATABASE_URL) must not leave an empty database behind."""
    name = engine.url.database
    if (
        engine.dialect.name == "sqlite"
        and name
        and name != ":memory:"
        and not (name.startswith("file:") or Path(name).exists())
    ):
        raise BadInput(
            f"no database at {name}; run `changegate init` to create it "
            "(or set CHANGEGATE_DATABASE_URL)"
        )


def check_schema(engine: Engine) -> None:
    try:
        current = schema.is_current(engine)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "unreachable"
        raise BadInput(f"cannot reach the database {safe_url(engine)}: {reason}") from None
    if not current:
        raise BadInput(
            f"the database {safe_url(engine)} is not initialised or is out of date; "
            "run `changegate init`"
        )


def safe_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def init(settings: Settings) -> App:
    app = build(settings, require_schema=False)
    try:
        schema.upgrade(app.engine)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "unreachable"
        raise BadInput(f"cannot reach the database {safe_url(app.engine)}: {reason}") from None
    return app


def status(app: App, actor: str | None) -> StatusOut:
    """What `changegate status` and `GET /api/v1/status` report (the schema must be current)."""
    from changegate import __version__, ledger  # noqa: PLC0415
    from changegate.services.views import status as status_views  # noqa: PLC0415
    from changegate.services.views.status import SchemaOut, StatusOut  # noqa: PLC0415

    revision = schema.revision(app.engine)
    current = revision == schema.HEAD

    def facts(ctx: Context) -> StatusOut:
        # An old schema has none of the tables below: report it, and what can be known.
        adopted, since, people = (
            status_views.installation_facts(ctx) if current else (None, None, {})
        )
        you = status_views.your_inbox(ctx.acting_as(actor)) if actor and current else None
        return StatusOut(
            version=__version__,
            database=safe_url(app.engine),
            database_schema=SchemaOut(revision=revision, head=schema.HEAD, current=current),
            policy_source=str(app.settings.policy_path or "built-in defaults"),
            policy_digest=app.policy.digest(),
            adopted_on=adopted,
            effective_from=since,
            signing_key=ledger.public_key_text(app.signer.public_key()) if app.signer else None,
            people=people,
            you=you,
        )

    return app.read(facts)
