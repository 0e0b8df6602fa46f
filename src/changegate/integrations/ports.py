"""Ports: the Protocols services call, and the values and the one error that cross them.

Services depend on this module only, never on an adapter, so an integration can be left out of
a deployment (or replaced by a fake in tests) without touching the code that uses it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from changegate.domain.comparison import TypeRules
from changegate.domain.configuration import ObservedItem


class IntegrationError(Exception):
    """An outside system failed us: an HTTP error status, a refused connection, a timeout, or a
    response we cannot read. The message names the endpoint and the status and never carries a
    credential, because it ends up in logs and in the comment a pipeline shows its users."""

    def __init__(
        self, endpoint: str, status: int | None, detail: str, protocol: str = "HTTP"
    ) -> None:
        # `status` is the peer's reply code in `protocol` (an SMTP 550 is not an HTTP 550);
        # None means no reply at all, which a caller may treat as "the peer is down".
        where = f"{protocol} {status}" if status is not None else "no response"
        super().__init__(f"{endpoint}: {where}: {detail}")
        self.endpoint = endpoint
        self.status = status


@dataclass(frozen=True)
class PeerReview:
    """Code review GitHub reported: an approving `pull_request_review`, or a merged
    `pull_request` (`kind` "approved" or "merged"); `actor` reviewed it, or merged it."""

    kind: str
    repository: str
    pull_number: int
    title: str
    head_ref: str
    author: str  # the pull request's author (GitHub login)
    actor: str
    commit_sha: str  # the head the review approved, or the merge commit
    at: datetime
    url: str


@dataclass(frozen=True)
class ProtectionRuleRequest:
    """A GitHub `deployment_protection_rule` webhook, reduced to what the gate and the answer need.

    `callback_path` is the review endpoint relative to the configured API root (never a host
    taken from the payload). `sha` and `ref` may be None on old or unusual deliveries: the gate
    should then reject with a reason rather than leave the job waiting (GitHub fails it only
    after 30 days).
    """

    action: str
    environment: str
    event: str
    callback_url: str
    callback_path: str
    installation_id: int
    repository: str
    run_id: int
    sender: str
    sha: str | None = None
    ref: str | None = None
    deployment_id: int | None = None
    deployment_description: str | None = None
    deployment_payload: Mapping[str, object] = field(default_factory=dict)
    head_commit_message: str | None = None
    pull_requests: tuple[int, ...] = ()


class DeploymentReviewer(Protocol):
    """Answers a protection-rule request: approve or reject the waiting deployment, with a reason.

    Raises IntegrationError when the answer could not be delivered. The caller decides whether
    to retry: GitHub does not ask again on its own, and an unanswered job waits for 30 days.
    """

    def review(self, request: ProtectionRuleRequest, approved: bool, comment: str) -> None: ...


@dataclass(frozen=True)
class OutgoingMessage:
    """One notification to deliver. `outbox_id` and `event_key` identify it for good: a message
    sent twice (a worker died after sending, before recording it) carries the same identity,
    so a receiver can drop the copy."""

    outbox_id: int
    event_key: str
    recipient: str
    subject: str
    body: str
    created_at: datetime


class Notifier(Protocol):
    """Delivers a notification on one channel (email, Slack). Returns once the peer accepted it;
    raises IntegrationError otherwise, and the outbox tries again later."""

    def send(self, message: OutgoingMessage) -> None: ...


@runtime_checkable
class BatchNotifier(Notifier, Protocol):
    """A channel whose peer takes many messages a call and answers for each (CloudTrail Lake's
    PutAuditEvents): the worker hands it up to `batch` at once."""

    batch: int

    def send_many(self, messages: Sequence[OutgoingMessage]) -> Mapping[int, str]:
        """The messages the peer refused, as outbox_id -> error; the others were accepted.
        Raises IntegrationError when no part of the batch was accepted (the peer is down, or
        refused the call as a whole)."""
        ...


class CheckpointStore(Protocol):
    """Where signed ledger checkpoints are kept out of the database's reach (S3 Object Lock):
    each object written once and locked until `retain_until`. Raises IntegrationError."""

    location: str  # e.g. s3://bucket/prefix, for messages

    def check(self) -> None:
        """Raise IntegrationError unless the store exists and locks what it keeps."""
        ...

    def put(self, at: datetime, seq: int, body: bytes, retain_until: datetime) -> str:
        """Store one checkpoint taken at `at`; returns its key."""
        ...

    def objects(self) -> Iterator[tuple[str, bytes]]:
        """Every checkpoint stored, (key, body), oldest first."""
        ...


class Vocabulary(Protocol):
    """Observed configuration in CloudFormation's vocabulary, and how each type compares.

    `translate` gives an AWS Config item's properties as a template would declare them, or None
    when its type has no translation (then nothing it declares can be verified). `rules` says
    how a type compares: for observations already in the CloudFormation vocabulary
    (`cloudformation=True`: CloudFormation drift, Cloud Control) every property is observable.
    `read_only` names the properties AWS sets, which a baseline adopted from observation leaves
    out.
    """

    def translate(self, item: ObservedItem) -> dict[str, object] | None: ...

    def rules(self, resource_type: str, cloudformation: bool = False) -> TypeRules: ...

    def read_only(self, resource_type: str) -> frozenset[str]: ...


@dataclass(frozen=True)
class DriveFile:
    """A Google Drive file as files.get describes it. Checksums are hex and None for Google
    Docs Editors files (Drive keeps none for them); `version` counts every change to the file;
    `drive_id` is the shared drive holding it (None: someone's My Drive)."""

    id: str
    name: str
    mime_type: str
    version: int
    modified_time: datetime
    drive_id: str | None
    link: str
    md5: str | None = None
    sha256: str | None = None


class DriveNotFound(Exception):
    """Drive says no such file (or none this account may see): a caller's bad input."""


class Drive(Protocol):
    """Google Drive v3 in one shared drive, as a service account sees it (docs/workspace.md).
    Every call raises IntegrationError when Drive fails or cannot be reached."""

    def folder(self, parent: str, name: str, properties: Mapping[str, str]) -> str:
        """The id of the folder `name` under `parent` tagged `properties`; made if missing."""

    def find(self, parent: str, properties: Mapping[str, str]) -> DriveFile | None:
        """A file in `parent` tagged with all of `properties` (the newest), or None."""

    def upload(
        self, parent: str, name: str, mime_type: str, content: bytes, properties: Mapping[str, str]
    ) -> DriveFile:
        """Create a file in `parent` tagged `properties` (Drive's appProperties)."""

    def get(self, file_id: str) -> DriveFile:
        """A file's metadata; DriveNotFound if there is none this account may see."""

    def export_pdf(self, file_id: str) -> bytes:
        """A Google Doc or Sheet rendered as PDF by Drive (at most 10 MB)."""
