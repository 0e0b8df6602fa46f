"""The CloudTrail catalogue (cloudtrail_catalogue.yaml beside this module), loaded once.

The file is plain data so that the same lists can be turned into SQL for Athena or DuckDB;
this module only checks its shape and hands the domain a `Catalogue`.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

from changegate.domain.trail.classify import Catalogue

FILE = "cloudtrail_catalogue.yaml"


@cache
def catalogue() -> Catalogue:
    """The packaged catalogue; a broken file is a packaging error, so it raises ValueError."""
    text = resources.files("changegate.integrations").joinpath(FILE).read_text()
    return from_document(yaml.safe_load(text))


def document() -> dict[str, Any]:
    """The catalogue file as data (for `trail` commands that show it, and SQL generators)."""
    text = resources.files("changegate.integrations").joinpath(FILE).read_text()
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def from_document(doc: Any) -> Catalogue:
    if not isinstance(doc, dict) or doc.get("version") != 1:
        raise ValueError(f"{FILE}: expected a mapping with version: 1")
    not_changes = doc.get("not_changes", {})
    if not isinstance(not_changes, dict):
        raise ValueError(f"{FILE}: not_changes must map event sources to event names")
    return Catalogue(
        non_api_event_types=_names(doc, "non_api_event_types"),
        service_event_types=_names(doc, "service_event_types"),
        service_identity_types=_names(doc, "service_identity_types"),
        invoked_by_suffixes=tuple(sorted(_names(doc, "invoked_by_suffixes"))),
        invoked_by_values=_names(doc, "invoked_by_values"),
        data_categories=_names(doc, "data_categories"),
        read_prefixes=tuple(sorted(_names(doc, "read_prefixes"))),
        not_changes={str(k): _names(not_changes, k) for k in not_changes},
        session_sources=_names(doc, "session_sources"),
    )


def _names(doc: dict[Any, Any], key: str) -> frozenset[str]:
    value = doc.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{FILE}: {key} must be a list of names")
    return frozenset(value)
