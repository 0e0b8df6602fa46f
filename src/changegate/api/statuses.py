"""Every error status an operation can answer, declared in the OpenAPI document with its
RFC 9457 problem body (`application/problem+json`), so clients and fuzzers know them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from fastapi.utils import create_model_field
from pydantic import BaseModel, ConfigDict

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


class ProblemOut(BaseModel):
    """RFC 9457 problem details; some problems add members (e.g. `control`, `errors`)."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str


WHY = {
    400: "Malformed: nested too deeply, NUL in the URL, a bad header",
    401: "No valid bearer token (RFC 6750): `WWW-Authenticate: Bearer`",
    403: "The token's principal lacks a role this operation allows (`x-roles`)",
    404: "No such record (a hook: its integration is not configured)",
    409: "Refused by a rule, an invalid transition, or a concurrent writer",
    413: "The request body is over the server's limit",
    422: "Invalid input: the problem names the field",
    428: "A decision that does not name the version it decides on",
}


def _statuses(route: APIRoute) -> list[int]:
    roles = (route.openapi_extra or {}).get("x-roles")
    found = [422, 400]
    if roles is not None:
        found += [401, 403]
    # A hook answers 404 while its integration is not configured.
    if "{" in route.path_format or roles is not None or route.path_format.startswith("/hooks/"):
        found.append(404)
    if (route.methods or set()) & WRITES:
        found += [409, 413]
    if route.path_format.endswith("/approvals"):
        found.append(428)
    return sorted(set(found))


def declare(router: APIRouter) -> None:
    """Add the problem responses to every API route of `router` (before it is included)."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        for status in _statuses(route):
            answer: dict[str, Any] = {
                "description": WHY[status],
                "model": ProblemOut,
                "content": {"application/problem+json": {}},
            }
            if status in route.responses:
                continue
            route.responses[status] = answer
            # What FastAPI builds for `responses=` at route creation, so the schema is published.
            fields = dict(route.response_fields or {})
            fields[status] = create_model_field(
                name=f"Response_{status}_{route.unique_id}", type_=ProblemOut, mode="serialization"
            )
            route.response_fields = fields
