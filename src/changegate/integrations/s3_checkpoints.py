"""Signed ledger checkpoints in S3 under Object Lock, as CloudTrail keeps its digest files.

What this relies on, and where it is documented:

- PutObject with `ObjectLockMode=COMPLIANCE` and `ObjectLockRetainUntilDate`: in compliance
  mode no user, the account's root included, can overwrite or delete that object version or
  shorten its retention until the date passes. A request that sets retention must carry
  Content-MD5 (or an x-amz-checksum), so it is always sent.
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
- Object Lock can only be used in a bucket created with it (`ObjectLockEnabledForBucket`);
  GetObjectLockConfiguration answers `ObjectLockEnabled: Enabled` there, and
  ObjectLockConfigurationNotFoundError elsewhere. A missing bucket is NoSuchBucket (404).
- Keys are `PREFIX/YYYY/MM/DD/YYYYMMDDTHHMMSSZ-seq<N>.json` (UTC), so ListObjectsV2, which
  lists in UTF-8 key order, lists them in time order, as CloudTrail's digest layout does.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Final

from changegate.integrations.aws_errors import AWS_ERRORS, integration_error
from changegate.integrations.ports import IntegrationError

LARGEST: Final = 64 * 1024  # a checkpoint is a few hundred bytes; read no more than this


def key_for(prefix: str, at: datetime, seq: int) -> str:
    at = at.astimezone(UTC)
    return f"{prefix}/{at:%Y/%m/%d}/{at:%Y%m%dT%H%M%SZ}-seq{seq}.json".lstrip("/")


class S3Checkpoints:
    """One bucket and prefix; `client` is a boto3 S3 client (endpoint and credentials the
    caller's)."""

    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self._client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.location = f"s3://{bucket}/{self.prefix}"

    def check(self) -> None:
        """Raise IntegrationError unless the bucket exists and has Object Lock enabled."""
        answer = self._call("get_object_lock_configuration", Bucket=self.bucket)
        enabled = answer.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled")
        if enabled != "Enabled":
            raise IntegrationError(self.location, None, "Object Lock is not enabled on the bucket")

    def put(self, at: datetime, seq: int, body: bytes, retain_until: datetime) -> str:
        key = key_for(self.prefix, at, seq)
        self._call(
            "put_object",
            Bucket=self.bucket,
            Key=key,
            Body=body,
            ContentType="application/json",
            ContentMD5=base64.b64encode(hashlib.md5(body).digest()).decode(),
            ObjectLockMode="COMPLIANCE",
            ObjectLockRetainUntilDate=retain_until,
        )
        return key

    def objects(self) -> Iterator[tuple[str, bytes]]:
        keys: list[str] = []
        token: dict[str, str] = {}
        while True:
            page = self._call(
                "list_objects_v2", Bucket=self.bucket, Prefix=f"{self.prefix}/", **token
            )
            keys += [item["Key"] for item in page.get("Contents", [])]
            if not page.get("IsTruncated"):
                break
            token = {"ContinuationToken": page["NextContinuationToken"]}
        for key in sorted(keys):
            answer = self._call("get_object", Bucket=self.bucket, Key=key)
            yield key, answer["Body"].read(LARGEST + 1)

    def _call(self, operation: str, **params: Any) -> Any:
        try:
            return getattr(self._client, operation)(**params)
        except AWS_ERRORS as exc:
            raise integration_error(self.location, exc) from None
