"""AWS clients for `config ingest --source aws|cloudformation`, from the standard AWS chain.

Credentials, region and endpoint come from the usual AWS environment (AWS_PROFILE,
AWS_REGION, AWS_ENDPOINT_URL, ...), which is how every AWS tool is configured.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from changegate.domain.configuration import ObservedItem, observed_from_drift
from changegate.domain.errors import BadInput


def read(
    source: str, types: list[str], bucket: str | None, prefix: str, stacks: list[str]
) -> tuple[list[ObservedItem], list[str]]:
    # Imported here: boto3 costs every other command startup time it does not need.
    import boto3  # type: ignore[import-untyped]  # noqa: PLC0415

    from changegate.integrations.awsconfig import AwsConfigReader  # noqa: PLC0415
    from changegate.integrations.cloudformation import CloudFormationDriftReader  # noqa: PLC0415

    if source == "cloudformation":
        if not stacks:
            raise BadInput("--source cloudformation needs --stack NAME")
        reader = CloudFormationDriftReader(boto3.client("cloudformation"))
        seen = [observed_from_drift(d) for s in stacks for d in reader.detect(s, time.sleep)]
        return [item for item in seen if item is not None], []
    if not types and not bucket:
        raise BadInput("--source aws needs --resource-type TYPE or --bucket NAME")
    config = AwsConfigReader(boto3.client("config"), boto3.client("s3"))
    items: list[ObservedItem] = []
    problems: list[str] = []
    batches = [config.discover(t) for t in types]
    if bucket:
        batches.append(config.from_s3(bucket, prefix))
    for found, skipped in batches:
        items.extend(found)
        problems.extend(skipped)
    return items, problems


def cloud_control(
    types: list[str], identifiers: list[str], targets: list[tuple[str, str]]
) -> list[ObservedItem]:
    """Live properties from AWS Cloud Control: every resource of `types` (ListResources), or
    only `identifiers` of the one type given, plus each (type, id) a baseline names."""
    import boto3  # noqa: PLC0415

    from changegate.integrations.cloudcontrol import CloudControlReader  # noqa: PLC0415

    if identifiers and len(types) != 1:
        raise BadInput("--identifier needs exactly one --resource-type")
    if not types and not targets:
        raise BadInput("--source cloudcontrol needs --resource-type TYPE or --baseline NAME")
    reader = CloudControlReader(
        boto3.client("cloudcontrol"), _account(boto3), lambda: datetime.now(UTC)
    )
    if identifiers:
        found = [reader.get(types[0], ident) for ident in identifiers]
    else:
        found = [item for kind in types for item in reader.list(kind)]
    return found + [reader.get(kind, ident) for kind, ident in targets]


def _account(boto3: Any) -> str:
    """The caller's account (Cloud Control does not say); empty if STS cannot be asked."""
    try:
        return str(boto3.client("sts").get_caller_identity()["Account"])
    except Exception:  # no STS reachable (a private endpoint, a local peer): leave it unknown
        return ""


def stack_resources(stack: str) -> dict[str, str]:
    """The physical ids of a deployed stack's resources, by logical id."""
    import boto3  # noqa: PLC0415

    from changegate.integrations.cloudformation import CloudFormationDriftReader  # noqa: PLC0415

    return CloudFormationDriftReader(boto3.client("cloudformation")).physical_ids(stack)
