"""A faithful JSON codec of the audit's frozen dataclasses (`AuditFacts` and what it nests).

Written from `dataclasses.fields` and the fields' type hints, so a field added to a fact is
carried without touching this module. Encoding: datetimes and dates as ISO 8601 text, a
timedelta as `{"seconds": n}`, enums by value, tuples and frozensets as arrays (frozensets
sorted, so the same facts always give the same bytes), mappings with text keys as objects and
others as arrays of `[key, value]` pairs. Decoding follows the hints back, so
`decode(T, encode(x)) == x` for every value the audit holds. Standard library and the domain
only: the offline verifier imports it.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from enum import Enum
from functools import cache
from typing import Any, TypeVar, cast

T = TypeVar("T")


class Malformed(ValueError):
    """The JSON does not have the shape the type hints ask for."""


SCALARS = (str, int, float, bool, type(None))


def encode(value: Any) -> Any:
    """`value` as JSON-ready data (dict, list, str, int, float, bool, None)."""
    if type(value) in SCALARS:  # most of a year's values: settle them first
        return value
    if type(value) is tuple:
        return [encode(v) for v in value]
    names = _names(type(value))
    if names is not None:
        return {name: encode(getattr(value, name)) for name in names}
    return _encode_other(value)


def _encode_other(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return {"seconds": value.total_seconds()}
    if isinstance(value, frozenset | set):
        return sorted((encode(v) for v in value), key=_order)
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    if isinstance(value, Mapping):
        if all(isinstance(k, str) for k in value):
            return {k: encode(v) for k, v in value.items()}
        return [[encode(k), encode(v)] for k, v in value.items()]
    return value


_NAMES: dict[type, tuple[str, ...] | None] = {}


def _names(cls: type) -> tuple[str, ...] | None:
    """A dataclass's field names (None: not a dataclass), looked up once per class."""
    if cls not in _NAMES:
        fields = dataclasses.fields(cls) if dataclasses.is_dataclass(cls) else None
        _NAMES[cls] = None if fields is None else tuple(f.name for f in fields)
    return _NAMES[cls]


def _order(value: Any) -> str:
    return repr(value)


def decode(hint: type[T], data: Any) -> T:
    """`data` (as `encode` wrote it) back into the type `hint`. Raises Malformed."""
    try:
        return cast(T, _decode(hint, data))
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        if isinstance(exc, Malformed):
            raise
        raise Malformed(f"{getattr(hint, '__name__', hint)}: {exc}") from None


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(hint: Any, data: Any) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return data
    if origin in (typing.Union, types.UnionType):
        return _union(args, data)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass(hint, data)
    if origin is tuple:
        return _tuple(args, data)
    if origin in (frozenset, set):
        return frozenset(_decode(args[0], v) for v in _list(data))
    if origin in (dict, Mapping):
        return _mapping(args, data)
    if isinstance(hint, type):
        return _scalar(hint, data)
    raise Malformed(f"cannot decode a {hint!r}")


def _union(args: tuple[Any, ...], data: Any) -> Any:
    if data is None and type(None) in args:
        return None
    kinds = [a for a in args if a is not type(None)]
    if len(kinds) != 1:
        raise Malformed(f"cannot decode a union of {kinds!r}")
    return _decode(kinds[0], data)


def _dataclass(cls: type, data: Any) -> Any:
    if not isinstance(data, dict):
        raise Malformed(f"{cls.__name__}: expected an object")
    hints = _hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = set(data) - names
    if unknown:
        raise Malformed(f"{cls.__name__}: unknown field {sorted(unknown)[0]!r}")
    return cls(**{name: _decode(hints[name], value) for name, value in data.items()})


def _tuple(args: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    items = _list(data)
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_decode(args[0], v) for v in items)
    if len(items) != len(args):
        raise Malformed(f"expected {len(args)} items, got {len(items)}")
    return tuple(_decode(a, v) for a, v in zip(args, items, strict=True))


def _mapping(args: tuple[Any, ...], data: Any) -> dict[Any, Any]:
    key_hint, value_hint = args or (Any, Any)
    pairs = data.items() if isinstance(data, dict) else (tuple(p) for p in _list(data))
    return {_decode(key_hint, k): _decode(value_hint, v) for k, v in pairs}


def _list(data: Any) -> list[Any]:
    if not isinstance(data, list):
        raise Malformed("expected an array")
    return data


def _scalar(hint: type, data: Any) -> Any:
    if issubclass(hint, Enum):
        return hint(data)
    if hint is datetime:
        return _instant(data)
    if hint is date:
        return date.fromisoformat(_text(data))
    if hint is timedelta:
        return timedelta(seconds=float(data["seconds"]))
    if hint is bool:
        if not isinstance(data, bool):
            raise Malformed(f"expected true or false, got {data!r}")
        return data
    if hint is float and isinstance(data, int | float) and not isinstance(data, bool):
        return float(data)
    if not isinstance(data, hint) or (isinstance(data, bool) and hint is int):
        raise Malformed(f"expected {hint.__name__}, got {data!r}")
    return data


def _instant(data: Any) -> datetime:
    value = datetime.fromisoformat(_text(data))
    if value.tzinfo is None:
        raise Malformed(f"{data!r} names no time zone")
    return value


def _text(data: Any) -> str:
    if not isinstance(data, str):
        raise Malformed(f"expected text, got {data!r}")
    return data
