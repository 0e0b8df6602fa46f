"""AWS Config: observed configuration (CFG-1, CFG-4) from the API, S3 deliveries and notifications.

Decisions an auditor may ask about:
- One normaliser for every field style: the API's (`accountId`, `arn`, `configuration` as a JSON
  *string*, `version`) and the notification's (`awsAccountId`, `ARN`, `configuration` as an
  object, `configurationItemVersion`), schema 1.2 and 1.3. Capture times may be ISO text, epoch
  seconds (or milliseconds) or a datetime (boto3); text without a zone is UTC, as Config writes.
  Anything else (e.g. the `datetime.datetime(..., tzinfo=tzlocal())` repr some tools dump) is
  refused: a local time of an unknown zone cannot be evidence.
- A malformed item is reported as one problem ("FILE item 3: missing resourceType") and skipped;
  the rest of the file is kept. Documents that hold no item (compliance notifications, scheduled
  rule events, delivery notices) are problems too, never exceptions.
- Oversized change notifications carry only a summary: they are reported with the S3 location
  to fetch, never turned into an item built from the summary.
- Gzip is recognised by its magic bytes, and decompression stops at MAX_FILE_BYTES.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from changegate.domain.configuration import ObservedItem
from changegate.domain.documents import loads_json
from changegate.domain.errors import BadInput
from changegate.integrations.ports import IntegrationError
from changegate.integrations.times import aws_time

MAX_FILE_BYTES: Final = 256 * 1024 * 1024
BATCH_SIZE: Final = 100
MAX_RETRIES: Final = 3
_GZIP_MAGIC: Final = b"\x1f\x8b"
_REGION: Final = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
_NO_ITEM: Final = "carries no configuration item"

Raw = Mapping[str, Any]


def _text(raw: Raw, *keys: str) -> str | None:
    for key in keys:
        value = raw.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return None


def _required(raw: Raw, where: str, *keys: str) -> str:
    value = _text(raw, *keys)
    if value is None:
        raise BadInput(f"{where}: missing {keys[0]}")
    return value


def _captured_at(value: object, where: str) -> datetime:
    return aws_time(value, where, "configurationItemCaptureTime")


def _configuration(value: object, where: str) -> dict[str, object] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise BadInput(f"{where}: configuration is not JSON") from None
    if not isinstance(value, dict):
        raise BadInput(f"{where}: configuration is not an object")
    return value


def _tags(value: object, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {str(k): "" if v is None else str(v) for k, v in value.items()}
    if isinstance(value, list):
        tags: dict[str, str] = {}
        for tag in value:
            key = tag.get("key", tag.get("Key")) if isinstance(tag, Mapping) else None
            if key is None:
                raise BadInput(f"{where}: tag {tag!r} has no key")
            tags[str(key)] = str(tag.get("value", tag.get("Value")) or "")
        return tags
    raise BadInput(f"{where}: tags are neither a mapping nor a list")


def _json_or_text(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _region(raw: Raw, arn: str | None) -> str | None:
    region = _text(raw, "awsRegion")
    if region and (region == "global" or _REGION.fullmatch(region)):
        return region  # not "Not Applicable", which some 1.2 items carry
    if arn and len(parts := arn.split(":")) > 3 and _REGION.fullmatch(parts[3]):
        return parts[3]
    zone = _text(raw, "availabilityZone", "availibilityZone") or ""  # sic: AWS docs' spelling
    return zone[:-1] if _REGION.fullmatch(zone[:-1]) else None


def normalise_item(
    raw: Raw, source: str, position: str, *, diff: Mapping[str, object] | None = None
) -> ObservedItem:
    """One configuration item in either field style; BadInput names `source` and `position`."""
    where = f"{source} {position}"
    if not isinstance(raw, Mapping):
        raise BadInput(f"{where}: not an object")
    arn = _text(raw, "arn", "ARN")
    supplementary = raw.get("supplementaryConfiguration") or {}
    events = raw.get("relatedEvents") or []
    return ObservedItem(
        resource_type=_required(raw, where, "resourceType"),
        resource_id=_required(raw, where, "resourceId"),
        arn=arn,
        account_id=_required(raw, where, "accountId", "awsAccountId"),
        region=_region(raw, arn),
        captured_at=_captured_at(raw.get("configurationItemCaptureTime"), where),
        status=_required(raw, where, "configurationItemStatus"),
        configuration=_configuration(raw.get("configuration"), where),
        tags=_tags(raw.get("tags"), where),
        schema_version=_text(raw, "version", "configurationItemVersion"),
        resource_name=_text(raw, "resourceName"),
        state_id=_text(raw, "configurationStateId", "configurationStateID"),
        supplementary=(
            {str(k): _json_or_text(v) for k, v in supplementary.items()}
            if isinstance(supplementary, Mapping)
            else {}
        ),
        related_events=tuple(str(e) for e in events if isinstance(e, str)),
        diff=dict(diff) if isinstance(diff, Mapping) else None,
    )


def _decompress(data: bytes, source: str) -> bytes:
    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    try:
        out = inflater.decompress(data, MAX_FILE_BYTES + 1)
    except zlib.error as exc:
        raise BadInput(f"{source}: corrupt gzip: {exc}") from None
    if len(out) > MAX_FILE_BYTES:
        raise BadInput(f"{source}: over {MAX_FILE_BYTES} bytes uncompressed")
    return out


def load_document(data: bytes, source: str) -> object:
    """A delivered file (gzip or not) as JSON; BadInput naming the file, line and column."""
    return _load(data, source)


def _load(data: bytes, source: str) -> object:
    if data[:2] == _GZIP_MAGIC:
        data = _decompress(data, source)
    elif len(data) > MAX_FILE_BYTES:
        raise BadInput(f"{source}: over {MAX_FILE_BYTES} bytes")
    try:
        return loads_json(data, source)
    except json.JSONDecodeError as exc:
        raise BadInput(
            f"{source}: not JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except UnicodeDecodeError as exc:
        raise BadInput(f"{source}: not UTF-8 at byte {exc.start}") from None


# A walk over the known document shapes yields (position, item, diff) or a problem string.
Entry = tuple[str, object, object] | str


def _walk(doc: object, source: str) -> Iterator[Entry]:
    if isinstance(doc, list):
        for i, raw in enumerate(doc):
            yield f"item {i + 1}", raw, None
        return
    if not isinstance(doc, Mapping):
        yield f"{source}: not a configuration item document"
        return
    if doc.get("source") == "aws.config" and isinstance(doc.get("detail"), Mapping):
        # Amazon EventBridge: "Config Configuration Item Change" carries the notification in
        # `detail` (the AWS Config Developer Guide, "Monitoring AWS Config with EventBridge").
        yield from _walk(doc["detail"], source)
        return
    for wrapper in ("Message", "invokingEvent"):  # SNS envelope; Config rule (Lambda) event
        if wrapper in doc and isinstance(doc[wrapper], str | Mapping):
            inner = doc[wrapper]
            try:
                inner = json.loads(inner) if isinstance(inner, str) else inner
            except json.JSONDecodeError:
                yield f"{source}: {wrapper} is not JSON"
                return
            yield from _walk(inner, source)
            return
    yield from _walk_message(doc, source)


def _walk_message(doc: Raw, source: str) -> Iterator[Entry]:
    kind = doc.get("messageType")
    if kind == "OversizedConfigurationItemChangeNotification":
        yield f"{source}: oversized notification: fetch {_oversized_location(doc)}"
        return
    for key in ("configurationItems", "baseConfigurationItems"):  # S3 file, history, batch-get
        if isinstance(doc.get(key), list):
            for i, raw in enumerate(doc[key]):
                yield f"item {i + 1}", raw, None
            return
    if "configurationItem" in doc:
        items, diff = doc["configurationItem"], doc.get("configurationItemDiff")
        if isinstance(items, list):  # the 2014 example notification wraps it in a list
            for i, raw in enumerate(items):
                yield f"item {i + 1}", raw, diff
        else:
            yield "item 1", items, diff
        return
    if kind is None and "resourceType" in doc and "resourceId" in doc:
        yield "item 1", doc, None
        return
    where = f" (s3://{doc['s3Bucket']}/{doc['s3ObjectKey']})" if "s3ObjectKey" in doc else ""
    yield f"{source}: {kind or 'document'} {_NO_ITEM}{where}"


def _oversized_location(doc: Raw) -> str:
    summary = doc.get("s3DeliverySummary")
    if isinstance(summary, Mapping) and summary.get("s3BucketLocation"):
        return f"s3://{summary['s3BucketLocation']}"
    item = doc.get("configurationItemSummary")
    if isinstance(item, Mapping):
        return (
            f"GetResourceConfigHistory {item.get('resourceType')} {item.get('resourceId')}"
            " (no S3 location in the notification)"
        )
    return "(no location in the notification)"


def is_unreadable(problem: str) -> bool:
    """A problem that lost data (bad JSON, a malformed item, an oversized notification), as
    against a document that simply holds no item (a compliance or delivery notice)."""
    return _NO_ITEM not in problem


def read_file(data: bytes, source: str) -> tuple[list[ObservedItem], list[str]]:
    """Every configuration item in a delivered file, notification, response or bare item, plus
    one problem per item or document that could not be read."""
    try:
        document = _load(data, source)
    except BadInput as exc:
        return [], [exc.message]
    items: list[ObservedItem] = []
    problems: list[str] = []
    for entry in _walk(document, source):
        if isinstance(entry, str):
            problems.append(entry)
            continue
        position, raw, diff = entry
        try:
            items.append(
                normalise_item(
                    raw,  # type: ignore[arg-type]
                    source,
                    position,
                    diff=diff if isinstance(diff, Mapping) else None,
                )
            )
        except BadInput as exc:
            problems.append(exc.message)
    return items, problems


def _call(client: Any, service: str, operation: str, **params: Any) -> Mapping[str, Any]:
    try:
        result: Mapping[str, Any] = getattr(client, operation)(**params)
    except (BotoCoreError, ClientError) as exc:
        response = getattr(exc, "response", None) or {}
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        detail = re.sub(r"\s+", " ", str(exc))[:300]  # names the operation and code, no secret
        code = status if isinstance(status, int) else None
        raise IntegrationError(f"{service}:{operation}", code, detail) from None
    return result


class AwsConfigReader:
    """Reads configuration items through injected boto3 `config` (and optional `s3`) clients.
    `sleep` is called between retries of unprocessed keys; by default there is no wait."""

    def __init__(
        self, config: Any, s3: Any = None, sleep: Callable[[float], None] | None = None
    ) -> None:
        self._config = config
        self._s3 = s3
        self._sleep = sleep

    def _items(self, raws: Sequence[Raw], source: str, problems: list[str]) -> list[ObservedItem]:
        items = []
        for i, raw in enumerate(raws):
            try:
                items.append(normalise_item(raw, source, f"item {i + 1}"))
            except BadInput as exc:
                problems.append(exc.message)
        return items

    def select(self, expression: str) -> list[dict[str, object]]:
        """Rows of an advanced query (SelectResourceConfig), each a parsed JSON object. Rows are
        projections, so they become items only if the query selects an item's fields."""
        rows: list[dict[str, object]] = []
        params: dict[str, Any] = {"Expression": expression}
        while True:
            page = _call(self._config, "config", "select_resource_config", **params)
            rows.extend(
                row for row in map(_json_or_text, page.get("Results", [])) if isinstance(row, dict)
            )
            if not page.get("NextToken"):
                return rows
            params["NextToken"] = page["NextToken"]

    def discover(self, resource_type: str) -> tuple[list[ObservedItem], list[str]]:
        """Current items of every recorded resource of a type: ListDiscoveredResources, then
        BatchGetResourceConfig (the path when SelectResourceConfig is unavailable)."""
        keys: list[tuple[str, str]] = []
        params: dict[str, Any] = {"resourceType": resource_type}
        while True:
            page = _call(self._config, "config", "list_discovered_resources", **params)
            keys.extend(
                (r["resourceType"], r["resourceId"]) for r in page.get("resourceIdentifiers", [])
            )
            if not page.get("nextToken"):
                return self.batch_get(keys)
            params["nextToken"] = page["nextToken"]

    def batch_get(self, keys: Sequence[tuple[str, str]]) -> tuple[list[ObservedItem], list[str]]:
        items: list[ObservedItem] = []
        problems: list[str] = []
        for start in range(0, len(keys), BATCH_SIZE):
            chunk = keys[start : start + BATCH_SIZE]
            pending = [{"resourceType": kind, "resourceId": rid} for kind, rid in chunk]
            for attempt in range(MAX_RETRIES + 1):
                if attempt and self._sleep is not None:
                    self._sleep(2.0**attempt)
                page = _call(
                    self._config, "config", "batch_get_resource_config", resourceKeys=pending
                )
                items += self._items(
                    page.get("baseConfigurationItems", []), "BatchGetResourceConfig", problems
                )
                pending = list(page.get("unprocessedResourceKeys") or [])
                if not pending:
                    break
            problems += [
                f"BatchGetResourceConfig: unprocessed {k['resourceType']} {k['resourceId']}"
                for k in pending
            ]
        return items, problems

    def history(self, resource_type: str, resource_id: str) -> tuple[list[ObservedItem], list[str]]:
        """Every recorded item of one resource, oldest first."""
        items: list[ObservedItem] = []
        problems: list[str] = []
        params: dict[str, Any] = {
            "resourceType": resource_type,
            "resourceId": resource_id,
            "chronologicalOrder": "Forward",
        }
        while True:
            page = _call(self._config, "config", "get_resource_config_history", **params)
            source = f"GetResourceConfigHistory {resource_type} {resource_id}"
            items += self._items(page.get("configurationItems", []), source, problems)
            if not page.get("nextToken"):
                return items, problems
            params["nextToken"] = page["nextToken"]

    def from_s3(self, bucket: str, prefix: str) -> tuple[list[ObservedItem], list[str]]:
        """Every snapshot and history file Config delivered under `prefix` (.json, .json.gz)."""
        if self._s3 is None:
            raise BadInput("from_s3 needs an s3 client")
        items: list[ObservedItem] = []
        problems: list[str] = []
        params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        while True:
            page = _call(self._s3, "s3", "list_objects_v2", **params)
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if not key.endswith((".json", ".json.gz")) or "ConfigWritabilityCheckFile" in key:
                    continue
                source = f"s3://{bucket}/{key}"
                if obj.get("Size", 0) > MAX_FILE_BYTES:
                    problems.append(f"{source}: over {MAX_FILE_BYTES} bytes")
                    continue
                body = _call(self._s3, "s3", "get_object", Bucket=bucket, Key=key)["Body"]
                found, trouble = read_file(body.read(), source)
                items += found
                problems += trouble
            if not page.get("IsTruncated"):
                return items, problems
            params["ContinuationToken"] = page["NextContinuationToken"]
