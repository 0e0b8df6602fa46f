"""The paging parameters every list endpoint takes (the limits are the read models')."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from changegate.services.views.common import MAX_LIMIT

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="At most this many items.")]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1, description="Skip this many items first.")]
