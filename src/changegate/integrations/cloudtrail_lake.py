"""CloudTrail Lake: change and waiver events as custom audit events, through `PutAuditEvents`.

What this relies on, and where it is documented:

- `cloudtrail-data` `PutAuditEvents` (REST-JSON, SigV4 signing name `cloudtrail-data`):
  `POST /PutAuditEvents?channelArn=ARN[&externalId=X]` with `{"auditEvents": [{"id",
  "eventData", "eventDataChecksum"}]}`; 1 to 100 events and at most 1 MB a request. The answer
  lists `successful` (`id`, CloudTrail's `eventID`) and `failed` (`id`, `errorCode`,
  `errorMessage`: FieldTooLong, InvalidChecksum, InvalidData, Throttling, InternalFailure...);
  a request refused as a whole is an error status (ChannelNotFound, InvalidChannelARN,
  ChannelInsufficientPermission, DuplicatedAuditEventId). `id` is 1 to 128 of `[-_A-Za-z0-9]`;
  `eventDataChecksum` is base64 SHA-256 of the eventData string.
  https://docs.aws.amazon.com/awscloudtraildata/latest/APIReference/API_PutAuditEvents.html
- `eventData` is a JSON *string* in the CloudTrail Lake integrations event schema: required
  version, userIdentity {type, principalId}, eventSource, eventName, eventTime
  (`yyyy-MM-DDTHH:mm:ss`, UTC), UID, recipientAccountId (the channel owner's account);
  optional userIdentity.details, userAgent, requestParameters and responseElements (100 kB
  each), errorCode, errorMessage, sourceIPAddress, additionalEventData (28 kB).
  https://docs.aws.amazon.com/awscloudtrail/latest/userguide/query-integration-event-schema.html

The `id` is derived from the ledger record (`changegate-<seq>-<hash>`), so a copy sent again
after a worker died mid-send, or after a partial failure, names the same event. The ledger hash
is in additionalEventData: anyone can find the record in `ledger export` and re-hash it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from changegate.integrations.aws_errors import AWS_ERRORS, integration_error, text
from changegate.integrations.ports import IntegrationError, OutgoingMessage

BATCH: Final = 100
REQUEST_BYTES: Final = 1_000_000  # "up to 1 MB" per request; a margin for the JSON around events
_ENVELOPE: Final = 200  # `{"id":..., "eventData":..., "eventDataChecksum":...}` around one event
PARAMETERS_BYTES: Final = 100 * 1024
VERSION: Final = "1.0"
EVENT_SOURCE: Final = "changegate"
USER_AGENT: Final = "changegate"


def channel_account(channel_arn: str) -> str:
    """The account that owns a channel: `arn:aws:cloudtrail:REGION:ACCOUNT:channel/ID`."""
    return channel_arn.split(":")[4]


def channel_region(channel_arn: str) -> str:
    return channel_arn.split(":")[3]


def event_id(record: Mapping[str, Any]) -> str:
    return f"changegate-{record['seq']}-{record['hash']}"


def event_data(record: Mapping[str, Any], account: str) -> dict[str, Any]:
    """The audit event for one ledger record (as services/lake_events.py queues it)."""
    payload = json.loads(record["payload"])
    person = "@" in record["actor"]
    identity: dict[str, Any] = {
        "type": "ChangegateUser" if person else "ChangegateService",
        "principalId": record["actor"],
    }
    if payload.get("authenticated") is False:
        # A decision made through `--as` where the policy allows it (AUTH-1): say so here too.
        identity["details"] = {"authenticated": False}
    parameters: dict[str, Any] = {"subject": record["subject"], **payload}
    if len(record["payload"].encode()) > PARAMETERS_BYTES - 1024:
        digest = hashlib.sha256(record["payload"].encode()).hexdigest()
        parameters = {"subject": record["subject"], "payloadOmitted": True, "payloadSha256": digest}
    return {
        "version": VERSION,
        "userIdentity": identity,
        "userAgent": USER_AGENT,
        "eventSource": EVENT_SOURCE,
        "eventName": record["event_name"],
        "eventTime": record["at"][:19],
        "UID": event_id(record),
        "requestParameters": parameters,
        "recipientAccountId": account,
        "additionalEventData": {
            "ledgerSeq": record["seq"],
            "ledgerHash": record["hash"],
            "ledgerPrevHash": record["prev"],
            "ledgerAction": record["action"],
            "ledgerAt": record["at"],
            "clockOverride": record["clock_override"],
        },
    }


def audit_event(message: OutgoingMessage, account: str) -> dict[str, str]:
    record = json.loads(message.body)
    data = json.dumps(event_data(record, account), separators=(",", ":"), ensure_ascii=False)
    checksum = base64.b64encode(hashlib.sha256(data.encode()).digest()).decode()
    return {"id": event_id(record), "eventData": data, "eventDataChecksum": checksum}


def batches(
    events: Sequence[tuple[int, dict[str, str]]],
) -> Iterator[list[tuple[int, dict[str, str]]]]:
    """At most BATCH events and REQUEST_BYTES a request, in order."""
    batch: list[tuple[int, dict[str, str]]] = []
    size = 0
    for outbox_id, event in events:
        weight = len(event["eventData"].encode()) + _ENVELOPE
        if batch and (len(batch) == BATCH or size + weight > REQUEST_BYTES):
            yield batch
            batch, size = [], 0
        batch.append((outbox_id, event))
        size += weight
    if batch:
        yield batch


class CloudTrailLake:
    """Sends queued change and waiver events to one CloudTrail Lake channel.

    `client` is a boto3 `cloudtrail-data` client (its endpoint, region and credentials are the
    caller's); botocore's own retries should be off, since the outbox retries with backoff.
    """

    batch = BATCH

    def __init__(self, client: Any, channel_arn: str, external_id: str | None = None) -> None:
        self._client = client
        self.channel_arn = channel_arn
        self.external_id = external_id
        self.account = channel_account(channel_arn)
        self.endpoint = f"CloudTrail Lake channel {channel_arn}"

    def send(self, message: OutgoingMessage) -> None:
        refused = self.send_many([message])
        if refused:
            raise IntegrationError(self.endpoint, 200, refused[message.outbox_id])

    def send_many(self, messages: Sequence[OutgoingMessage]) -> Mapping[int, str]:
        events = [(m.outbox_id, audit_event(m, self.account)) for m in messages]
        refused: dict[int, str] = {}
        failures: list[IntegrationError] = []
        for batch in batches(events):
            try:
                refused.update(self._put(batch))
            except IntegrationError as exc:
                failures.append(exc)
                refused.update({outbox_id: str(exc) for outbox_id, _ in batch})
        if failures and len(refused) == len(events):
            raise failures[0]
        return refused

    def _put(self, batch: Sequence[tuple[int, dict[str, str]]]) -> dict[int, str]:
        extra = {"externalId": self.external_id} if self.external_id else {}
        try:
            answer = self._client.put_audit_events(
                auditEvents=[event for _, event in batch], channelArn=self.channel_arn, **extra
            )
        except AWS_ERRORS as exc:
            raise integration_error(self.endpoint, exc) from None
        by_id = {event["id"]: outbox_id for outbox_id, event in batch}
        failed = {
            by_id[f["id"]]: text(f"{f['errorCode']}: {f['errorMessage']}")
            for f in answer.get("failed", [])
            if f.get("id") in by_id
        }
        accepted = {by_id[s["id"]] for s in answer.get("successful", []) if s.get("id") in by_id}
        # An event the answer does not mention was not ingested: send it again.
        for outbox_id in by_id.values():
            if outbox_id not in accepted and outbox_id not in failed:
                failed[outbox_id] = "not in PutAuditEvents' answer"
        return failed
