"""AWS clients for `config ingest --source aws|cloudformation`, from the standard AWS chain.

Credentials, region and endpoint come from the usual AWS environment (AWS_PROFILE,
AWS_REGION, AWS_ENDPOINT_URL, ...), which is how every AWS tool is configured.
"""

from __future__ import annotations

import time

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
