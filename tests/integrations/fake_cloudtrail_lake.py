"""A local CloudTrail Lake ingestion endpoint (`cloudtrail-data`), which moto lacks.

It speaks the documented REST-JSON protocol (API_PutAuditEvents, botocore's
cloudtrail-data-2021-08-11 model): `POST /PutAuditEvents?channelArn=ARN[&externalId=X]`,
SigV4-signed for the service `cloudtrail-data`, body `{"auditEvents": [{"id", "eventData",
"eventDataChecksum"?}]}` with 1 to 100 events and at most 1 MB; answer 200
`{"successful": [{"id", "eventID"}], "failed": [{"id", "errorCode", "errorMessage"}]}`. A call
refused as a whole is a 400 whose `x-amzn-ErrorType` header names the error (ChannelNotFound,
InvalidChannelARN, DuplicatedAuditEventId), which botocore raises as a ClientError.

Each event is checked against the CloudTrail Lake integrations event schema (required fields,
lengths, `eventTime` as yyyy-MM-DDTHH:mm:ss, `recipientAccountId` = the channel's owner,
the checksum) and refused per id as the service does (FieldNotFound, FieldTooLong,
InvalidChecksum, InvalidData, InvalidRecipient). An id already ingested is answered with the
eventID it got the first time and stored once; `received` counts every copy that arrived.
Tests script failures: `fail_ids` (id -> times to refuse it with Throttling), `refuse_calls`
(whole calls to refuse with a status), and `stop()`/`start()` on the same port (an outage).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from changegate.sandbox.loopback import Loopback, reply

ID = re.compile(r"[-_A-Za-z0-9]{1,128}")
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
AUTH = re.compile(
    r"AWS4-HMAC-SHA256 Credential=[^/]+/\d{8}/(?P<region>[a-z0-9-]+)/(?P<service>[a-z-]+)/"
    r"aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}"
)
REQUIRED = ("version", "eventSource", "eventName", "eventTime", "UID", "recipientAccountId")
LENGTHS = {"version": 256, "eventSource": 1024, "eventName": 1024, "UID": 1024, "userAgent": 1024}


class FakeCloudTrailLake(Loopback):
    def __init__(self, channels: set[str]) -> None:
        self.channels = channels
        self.events: dict[str, dict[str, Any]] = {}  # id -> eventData, once
        self.event_ids: dict[str, str] = {}  # id -> the eventID CloudTrail assigned
        self.received: Counter[str] = Counter()  # id -> copies accepted (a retry counts again)
        self.calls: list[dict[str, Any]] = []  # each request: channel, externalId, ids, bytes
        self.fail_ids: dict[str, int] = {}
        self.refuse_calls: list[tuple[int, str]] = []
        self.errors: list[str] = []  # the peer's own view of a malformed request
        self._lock = threading.Lock()
        self._listen()

    def answer(self, path: str, headers: Any, raw: bytes) -> tuple[int, dict[str, str], Any]:
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        signed = AUTH.fullmatch(headers.get("Authorization", ""))
        if parts.path != "/PutAuditEvents" or signed is None or not headers.get("X-Amz-Date"):
            self.errors.append(f"not a signed PutAuditEvents: {path} {headers!r}")
            return _error(403, "InvalidSignatureException", "request not signed with SigV4")
        channel = query.get("channelArn", "")
        if not channel.startswith("arn:"):
            return _error(400, "InvalidChannelARN", "The specified channel ARN is not valid.")
        if channel not in self.channels:
            return _error(400, "ChannelNotFound", f"Channel {channel} not found.")
        if (signed["service"], signed["region"]) != ("cloudtrail-data", channel.split(":")[3]):
            self.errors.append(f"signed for {signed['service']} in {signed['region']}")
        events = json.loads(raw)["auditEvents"]
        if not 1 <= len(events) <= 100 or len(raw) > 1_000_000:
            self.errors.append(f"{len(events)} events, {len(raw)} bytes in one request")
            return _error(400, "ValidationException", "1 to 100 events, at most 1 MB")
        ids = [e["id"] for e in events]
        if len(set(ids)) != len(ids):
            return _error(400, "DuplicatedAuditEventId", "Two or more entries have the same id.")
        with self._lock:
            self.calls.append(
                {"channel": channel, "externalId": query.get("externalId"), "ids": ids}
            )
            if self.refuse_calls:
                status, code = self.refuse_calls.pop(0)
                return _error(status, code, f"refused for the test: {code}")
            return 200, {}, self._ingest(events, channel.split(":")[4])

    def _ingest(self, events: list[dict[str, str]], account: str) -> dict[str, Any]:
        successful, failed = [], []
        for event in events:
            problem = self._problem(event, account)
            if problem is None and self.fail_ids.get(event["id"], 0) > 0:
                self.fail_ids[event["id"]] -= 1
                problem = ("Throttling", "Rate exceeded; retry the event later.")
            if problem is not None:
                failed.append(
                    {"id": event["id"], "errorCode": problem[0], "errorMessage": problem[1]}
                )
                continue
            self.received[event["id"]] += 1
            if event["id"] not in self.events:
                self.events[event["id"]] = json.loads(event["eventData"])
                self.event_ids[event["id"]] = str(uuid.uuid4())
            successful.append({"id": event["id"], "eventID": self.event_ids[event["id"]]})
        return {"successful": successful, "failed": failed}

    def _problem(self, event: dict[str, str], account: str) -> tuple[str, str] | None:
        if not ID.fullmatch(event.get("id", "")):
            return "InvalidData", "id must be 1 to 128 of [-_A-Za-z0-9]"
        given = event.get("eventDataChecksum")
        digest = base64.b64encode(hashlib.sha256(event["eventData"].encode()).digest()).decode()
        if given is not None and given != digest:
            return "InvalidChecksum", "The checksum does not match the event data."
        try:
            data = json.loads(event["eventData"])
        except ValueError:
            return "InvalidData", "eventData is not JSON"
        identity = data.get("userIdentity") or {}
        missing = [f for f in REQUIRED if not data.get(f)] + [
            f"userIdentity.{f}" for f in ("type", "principalId") if not identity.get(f)
        ]
        if missing:
            return "FieldNotFound", f"Missing required field: {missing[0]}"
        too_long = [f for f, most in LENGTHS.items() if len(str(data.get(f, ""))) > most]
        if too_long or len(identity["type"]) > 128 or len(identity["principalId"]) > 1024:
            return "FieldTooLong", f"Field too long: {(too_long or ['userIdentity'])[0]}"
        if not TIME.fullmatch(data["eventTime"]):
            return "InvalidData", "eventTime must be yyyy-MM-DDTHH:mm:ss"
        if data["recipientAccountId"] != account:
            return "InvalidRecipient", "recipientAccountId must be the channel owner's account"
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                status, headers, body = peer.answer(
                    self.path, self.headers, self.rfile.read(length)
                )
                reply(self, status, json.dumps(body).encode(), headers=headers)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], Any]:
    return status, {"x-amzn-ErrorType": code}, {"message": message}
