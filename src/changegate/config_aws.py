"""Runtime settings for what changegate writes into AWS: CloudTrail Lake and S3 checkpoints.

Read from the environment by `config.Settings.from_env` only (README's settings table and
docs/cloudtrail-lake.md, docs/ledger.md list them). Credentials and region come from boto3's
standard chain (environment, profile, instance role), never from these settings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from changegate.domain.errors import BadInput

# arn:PARTITION:cloudtrail:REGION:ACCOUNT:channel/ID (the API takes `^arn:.*$`; a channel's
# ARN always has this form, and its region and account are what the events must name).
CHANNEL_ARN = re.compile(r"arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:\d{12}:channel/[A-Za-z0-9-]+")
EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")
# S3 bucket naming rules: 3 to 63 lowercase letters, digits, dots and hyphens.
BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
MAX_RETENTION_DAYS = 36500


@dataclass(frozen=True)
class CloudTrailSettings:
    """The CloudTrail Lake channel change and waiver events go to (docs/cloudtrail-lake.md)."""

    channel_arn: str
    external_id: str | None = None
    # For tests and VPC interface endpoints; None: the regional endpoint boto3 resolves.
    endpoint_url: str | None = None

    @property
    def region(self) -> str:
        return self.channel_arn.split(":")[3]


@dataclass(frozen=True)
class CheckpointSettings:
    """Where the worker anchors signed ledger checkpoints: S3 with Object Lock (docs/ledger.md)."""

    bucket: str
    prefix: str = "changegate/checkpoints"
    retention: timedelta = timedelta(days=400)
    every: timedelta = timedelta(hours=1)


def cloudtrail_from(env: Mapping[str, str]) -> CloudTrailSettings | None:
    arn = env.get("CHANGEGATE_CLOUDTRAIL_CHANNEL_ARN", "").strip()
    external = env.get("CHANGEGATE_CLOUDTRAIL_EXTERNAL_ID", "").strip()
    endpoint = env.get("CHANGEGATE_CLOUDTRAIL_ENDPOINT_URL", "").strip()
    if not arn:
        if external or endpoint:
            raise BadInput(
                "CHANGEGATE_CLOUDTRAIL_* is set but CHANGEGATE_CLOUDTRAIL_CHANNEL_ARN is not"
            )
        return None
    if not CHANNEL_ARN.fullmatch(arn):
        raise BadInput(
            "CHANGEGATE_CLOUDTRAIL_CHANNEL_ARN: not a CloudTrail channel ARN "
            f"(arn:aws:cloudtrail:REGION:ACCOUNT:channel/ID): {arn[:200]!r}"
        )
    if external and not EXTERNAL_ID.fullmatch(external):
        raise BadInput(
            "CHANGEGATE_CLOUDTRAIL_EXTERNAL_ID: 2 to 1224 of letters, digits and +=,.@:/-_"
        )
    return CloudTrailSettings(arn, external or None, _endpoint(endpoint) or None)


def _endpoint(raw: str) -> str:
    if not raw:
        return raw
    parts = urlsplit(raw)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise BadInput(f"CHANGEGATE_CLOUDTRAIL_ENDPOINT_URL: not an http(s) URL: {raw[:200]!r}")
    return raw


def checkpoints_from(env: Mapping[str, str], signing_key: bool) -> CheckpointSettings | None:
    bucket = env.get("CHANGEGATE_CHECKPOINT_BUCKET", "").strip()
    others = ("PREFIX", "RETENTION_DAYS", "INTERVAL_MINUTES")
    if not bucket:
        stray = [
            f"CHANGEGATE_CHECKPOINT_{k}" for k in others if env.get(f"CHANGEGATE_CHECKPOINT_{k}")
        ]
        if stray:
            raise BadInput(f"{stray[0]} is set but CHANGEGATE_CHECKPOINT_BUCKET is not")
        return None
    if not BUCKET.fullmatch(bucket):
        raise BadInput(f"CHANGEGATE_CHECKPOINT_BUCKET: not an S3 bucket name: {bucket[:80]!r}")
    if not signing_key:
        # Anyone who can write to the bucket could add a checkpoint; only a signed one is proof.
        raise BadInput("CHANGEGATE_CHECKPOINT_BUCKET needs CHANGEGATE_SIGNING_KEY to sign them")
    prefix = env.get("CHANGEGATE_CHECKPOINT_PREFIX", "changegate/checkpoints").strip().strip("/")
    days = _whole(env, "CHANGEGATE_CHECKPOINT_RETENTION_DAYS", 400, MAX_RETENTION_DAYS)
    minutes = _whole(env, "CHANGEGATE_CHECKPOINT_INTERVAL_MINUTES", 60, 7 * 24 * 60)
    return CheckpointSettings(bucket, prefix, timedelta(days=days), timedelta(minutes=minutes))


def _whole(env: Mapping[str, str], name: str, default: int, most: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        raise BadInput(f"{name}: a whole number from 1 to {most}, not {raw[:40]!r}")
    return int(raw)
