"""AWS Cloud Control API: a resource's live properties, already in CloudFormation's vocabulary.

`GetResource` and `ListResources` return `ResourceDescription`s whose `Properties` is a JSON
string of the resource's properties as its CloudFormation resource schema names them (AWS Cloud
Control API Reference), so an observation from here compares with a baseline as it is. Cloud
Control reports no capture time and no account: the read time is the capture time, and the
account is the caller's (given by the entry point, from STS). Errors become IntegrationError
naming the operation; a resource that no longer exists is an observation of a deleted resource.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from changegate.domain.configuration import CLOUDFORMATION, ObservedItem
from changegate.domain.errors import BadInput
from changegate.integrations.ports import IntegrationError

NOT_FOUND = "ResourceNotFoundException"
PAGE = 100


class CloudControlReader:
    """Reads resources through an injected boto3 `cloudcontrol` client."""

    def __init__(self, client: Any, account_id: str, clock: Callable[[], datetime]) -> None:
        self._client = client
        self._account = account_id
        self._clock = clock
        self._region = str(getattr(getattr(client, "meta", None), "region_name", "") or "")

    def _call(self, operation: str, **params: Any) -> Mapping[str, Any]:
        try:
            result: Mapping[str, Any] = getattr(self._client, operation)(**params)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code == NOT_FOUND:
                raise LookupError(code) from None
            detail = re.sub(r"\s+", " ", str(exc))[:300]
            raise IntegrationError(f"cloudcontrol:{operation}", status, detail) from None
        except BotoCoreError as exc:
            raise IntegrationError(f"cloudcontrol:{operation}", None, str(exc)[:300]) from None
        return result

    def get(self, type_name: str, identifier: str) -> ObservedItem:
        """The resource now; a deleted resource (not found) is observed as deleted."""
        try:
            found = self._call("get_resource", TypeName=type_name, Identifier=identifier)
        except LookupError:
            return self._item(type_name, identifier, None)
        return self._described(type_name, found.get("ResourceDescription"))

    def list(self, type_name: str) -> list[ObservedItem]:
        """Every resource of a type in the account and region."""
        items: list[ObservedItem] = []
        params: dict[str, Any] = {"TypeName": type_name, "MaxResults": PAGE}
        while True:
            page = self._call("list_resources", **params)
            items.extend(
                self._described(type_name, d) for d in page.get("ResourceDescriptions", [])
            )
            if not page.get("NextToken"):
                return items
            params["NextToken"] = page["NextToken"]

    def _described(self, type_name: str, description: object) -> ObservedItem:
        if not isinstance(description, Mapping) or not isinstance(
            description.get("Identifier"), str
        ):
            raise BadInput(f"Cloud Control: {type_name}: a resource description without Identifier")
        try:
            properties = json.loads(description.get("Properties") or "{}")
        except json.JSONDecodeError:
            raise BadInput(
                f"Cloud Control: {type_name} {description['Identifier']}: Properties is not JSON"
            ) from None
        if not isinstance(properties, dict):
            raise BadInput(f"Cloud Control: {type_name}: Properties is not an object")
        return self._item(type_name, description["Identifier"], properties)

    def _item(
        self, type_name: str, identifier: str, properties: dict[str, object] | None
    ) -> ObservedItem:
        return ObservedItem(
            resource_type=type_name,
            resource_id=identifier,
            arn=None,
            account_id=self._account,
            region=self._region or None,
            captured_at=self._clock(),
            status="OK" if properties is not None else "ResourceDeleted",
            configuration=properties,
            resource_name=identifier,
            shape=CLOUDFORMATION,
        )
