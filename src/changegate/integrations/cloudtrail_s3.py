"""A CloudTrail bucket read in delivery order, per account and region, from where it stopped.

Key layouts (CloudTrail user guide, "Finding your CloudTrail log files"):
`[prefix/]AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_
UNIQUE.json.gz`, and for an organisation trail `[prefix/]AWSLogs/o-ORGID/ACCOUNT/CloudTrail/...`.
Within one account and region the keys sort by delivery time, so S3's ordered listing with
`StartAfter` (the last key ingested) resumes exactly after it. Digest and Insights files live
under `CloudTrail-Digest/` and `CloudTrail-Insight/`, beside `CloudTrail/`, and are not listed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from changegate.integrations.ports import IntegrationError

ACCOUNT = re.compile(r"^\d{12}$")
ORGANISATION = re.compile(r"^o-[a-z0-9]+$")  # AWS: 10 to 32; test data uses fewer
LOG_FILE = (".json.gz", ".json")


@dataclass(frozen=True)
class Trail:
    """One account and region's log folder; `base` is the key prefix before the account."""

    base: str  # e.g. "AWSLogs/" or "logs/AWSLogs/o-1234abcde/"
    account: str
    region: str

    @property
    def folder(self) -> str:
        return f"{self.base}{self.account}/CloudTrail/{self.region}/"


class TrailBucket:
    """The S3 bucket a trail delivers to, through an injected boto3 S3 client."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix if not prefix or prefix.endswith("/") else f"{prefix}/"

    def trails(self) -> list[Trail]:
        """Every account and region with a CloudTrail folder, in key order."""
        root = f"{self.prefix}AWSLogs/"
        found: list[Trail] = []
        for name in self._folders(root):
            if ORGANISATION.match(name):
                for account in self._folders(f"{root}{name}/"):
                    if ACCOUNT.match(account):
                        found += self._regions(f"{root}{name}/", account)
            elif ACCOUNT.match(name):
                found += self._regions(root, name)
        return found

    def keys(self, trail: Trail, after: str | None) -> Iterator[str]:
        """Log file keys of `trail` after `after` (exclusive), in order, a page at a time."""
        args = {"Prefix": trail.folder} | ({"StartAfter": after} if after else {})
        for page in self._pages(**args):
            for item in page.get("Contents", []):
                if item["Key"].endswith(LOG_FILE):
                    yield item["Key"]

    def open(self, key: str) -> IO[bytes]:
        """The object's body as a stream (read as it is parsed, never whole)."""
        with self._errors():
            body: IO[bytes] = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        return body

    def _regions(self, base: str, account: str) -> list[Trail]:
        return [Trail(base, account, r) for r in self._folders(f"{base}{account}/CloudTrail/")]

    def _folders(self, prefix: str) -> list[str]:
        return [
            common["Prefix"][len(prefix) :].rstrip("/")
            for page in self._pages(Prefix=prefix, Delimiter="/")
            for common in page.get("CommonPrefixes", [])
        ]

    def _pages(self, **args: str) -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("list_objects_v2")
        with self._errors():
            yield from paginator.paginate(Bucket=self.bucket, **args)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """boto3's failures as the one error adapters raise, naming the bucket."""
        endpoint = f"s3://{self.bucket}"
        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            detail = f"{error.get('Code')}: {error.get('Message')}"
            raise IntegrationError(endpoint, status, detail) from None
        except BotoCoreError as exc:
            raise IntegrationError(endpoint, None, str(exc).splitlines()[0]) from None
