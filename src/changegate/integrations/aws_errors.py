"""boto3's errors as the one error that crosses the ports, for the AWS adapters that write."""

from __future__ import annotations

from typing import Final

from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from changegate.integrations.ports import IntegrationError

AWS_ERRORS: Final = (ClientError, BotoCoreError)
ERROR_DETAIL: Final = 300


def integration_error(endpoint: str, exc: Exception) -> IntegrationError:
    """A ClientError keeps the service's status, code and message (`HTTP 404: NoSuchBucket:
    ...`); any other botocore error (refused, timed out, no credentials) is "no response"."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        detail = f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip(": ")
        return IntegrationError(endpoint, status, text(detail))
    return IntegrationError(endpoint, None, text(str(exc)))


def text(detail: str) -> str:
    return " ".join(detail.split())[:ERROR_DETAIL]
