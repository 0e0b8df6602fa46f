"""One property rule of a mapping file: parsed once, then evaluated against a Config item.

The grammar is documented in `mappings/README.md`. A rule either yields a value or yields
nothing (ABSENT), and "nothing" is what Config's nulls, missing keys and mapped-away values
become: an absent property is one the resource does not have, never a guess.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()
Path = tuple[str, ...]
_FILTER: Final = re.compile(r"\[(?P<key>[^=\]]+)=(?P<value>[^\]]*)\]")
RULE_KEYS: Final = frozenset(
    {"from", "decode", "values", "fields", "explode", "omit_when", "unless"}
)
DECODERS: Final = frozenset({"json", "policy", "arn-resource"})


class MappingError(ValueError):
    """A mapping file that does not follow the format: a packaging fault, raised loudly."""


@dataclass(frozen=True)
class Explode:
    """One output object per source entry, each carrying the `common` fields of its parent."""

    common: Mapping[str, Rule]
    sources: tuple[Rule, ...]


@dataclass(frozen=True)
class Rule:
    sources: tuple[Path, ...] = ()  # alternatives, first present wins; () is the context itself
    decode: str | None = None
    values: Mapping[str, object] | None = None
    fields: Mapping[str, Rule] | None = None
    explode: Explode | None = None
    omit_when: Mapping[Path, str] | None = None
    unless: Path | None = None


def text(value: object) -> str:
    """How a scalar reads in a value map or a condition: booleans as JSON spells them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def path(raw: str) -> Path:
    return () if raw == "." else tuple(raw.split("."))


def parse(raw: object, where: str) -> Rule:
    if isinstance(raw, str):
        return Rule(sources=(path(raw),))
    if not isinstance(raw, Mapping):
        raise MappingError(f"{where}: a rule is a path or a mapping, not {raw!r}")
    unknown = set(raw) - RULE_KEYS
    if unknown:
        raise MappingError(f"{where}: unknown rule keys {sorted(unknown)}")
    if raw.get("fields") is not None and raw.get("explode") is not None:
        raise MappingError(f"{where}: a rule has `fields` or `explode`, not both")
    return Rule(
        sources=_sources(raw.get("from"), where),
        decode=_decoder(raw.get("decode"), where),
        values=_values(raw.get("values"), where),
        fields=_fields(raw.get("fields"), where),
        explode=_explode(raw.get("explode"), where),
        omit_when=_conditions(raw.get("omit_when"), where),
        unless=path(unless) if isinstance(unless := raw.get("unless"), str) else None,
    )


def _sources(raw: object, where: str) -> tuple[Path, ...]:
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    paths = tuple(path(item) for item in items if isinstance(item, str))
    if len(paths) != len(items):
        raise MappingError(f"{where}: `from` is a path or a list of paths")
    return paths


def _decoder(raw: object, where: str) -> str | None:
    if raw is not None and raw not in DECODERS:
        raise MappingError(f"{where}: decode is one of {sorted(DECODERS)}, not {raw!r}")
    return raw if isinstance(raw, str) else None


def _values(raw: object, where: str) -> Mapping[str, object] | None:
    if raw is None:
        return None
    # YAML 1.1 reads a bare Off/Yes/No as a boolean: an unquoted key would silently never match.
    if not isinstance(raw, Mapping) or not all(isinstance(key, str) for key in raw):
        raise MappingError(f"{where}: `values` maps quoted Config values to CloudFormation ones")
    return dict(raw)


def _fields(raw: object, where: str) -> Mapping[str, Rule] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or not raw:
        raise MappingError(f"{where}: `fields` maps CloudFormation names to rules")
    return {str(name): parse(rule, f"{where}/{name}") for name, rule in raw.items()}


def _explode(raw: object, where: str) -> Explode | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("sources"), list):
        raise MappingError(f"{where}: `explode` has `common` fields and a list of `sources`")
    return Explode(
        common=_fields(raw.get("common"), f"{where}/common") or {},
        sources=tuple(
            parse(source, f"{where}/sources/{i}") for i, source in enumerate(raw["sources"])
        ),
    )


def _conditions(raw: object, where: str) -> Mapping[Path, str] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise MappingError(f"{where}: `omit_when` maps paths to values")
    return {path(str(key)): text(value) for key, value in raw.items()}


def lookup(value: object, steps: Sequence[str]) -> object:
    """Follow a path: keys, list indexes, `*` (every item), `[key=value]` (the first match)."""
    for i, step in enumerate(steps):
        if value is None or value is ABSENT:
            return ABSENT
        if step == "*":
            if not isinstance(value, list):
                return ABSENT
            found = [lookup(item, steps[i + 1 :]) for item in value]
            return [item for item in found if item is not ABSENT and item is not None]
        if (match := _FILTER.fullmatch(step)) and isinstance(value, list):
            key, wanted = match["key"], match["value"]
            picked = [v for v in value if isinstance(v, Mapping) and text(v.get(key)) == wanted]
            value = picked[0] if picked else ABSENT
        elif isinstance(value, list) and step.isdigit():
            value = value[int(step)] if int(step) < len(value) else ABSENT
        elif isinstance(value, Mapping):
            value = value.get(step, ABSENT)
        else:
            return ABSENT
    return ABSENT if value is None else value


def _policy(value: object) -> object:
    # RDK's sample items carry a decoded document wrapped in a one-item list.
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], Mapping):
        return value[0]
    if isinstance(value, str) and value.lstrip()[:1] not in ("{", "["):
        value = unquote(value)  # IAM returns documents URL-encoded (RFC 3986)
    return _json(value)


def _json(value: object) -> object:
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _arn_resource(value: object) -> object:
    parts = value.split(":", 5) if isinstance(value, str) else []
    return parts[5] if len(parts) == 6 and parts[0] == "arn" else value


_DECODE: Final = {"json": _json, "policy": _policy, "arn-resource": _arn_resource}


def _skipped(rule: Rule, context: object) -> bool:
    if rule.unless is not None and lookup(context, rule.unless) not in (ABSENT, [], {}, ""):
        return True
    return any(
        (found := lookup(context, where)) is not ABSENT and text(found) == value
        for where, value in (rule.omit_when or {}).items()
    )


def _first(sources: tuple[Path, ...], context: object) -> object:
    for source in sources or ((),):
        found = lookup(context, source)
        if found is not ABSENT:
            return found
    return ABSENT


def evaluate(rule: Rule, context: object) -> object:
    """Steps in order: `unless` and `omit_when` on the context, `from`, `decode`, `values`,
    then `fields` or `explode`."""
    found = ABSENT if _skipped(rule, context) else _first(rule.sources, context)
    if found is ABSENT:
        return ABSENT
    if rule.decode is not None:
        found = _DECODE[rule.decode](found)
    if rule.values is not None and not isinstance(found, Mapping | list):
        found = rule.values.get(text(found), found)
        if found is None:
            return ABSENT
    if rule.fields is not None:
        return _build(rule.fields, found)
    if rule.explode is not None:
        return _exploded(rule.explode, found)
    return found


def build(fields: Mapping[str, Rule], context: object) -> dict[str, object]:
    out = {name: evaluate(rule, context) for name, rule in fields.items()}
    return {name: value for name, value in out.items() if value is not ABSENT}


def _build(fields: Mapping[str, Rule], value: object) -> object:
    if isinstance(value, list):
        return [built for item in value if (built := build(fields, item))]
    built = build(fields, value)
    return built or ABSENT  # an object with nothing observed in it is not there


def _exploded(explode: Explode, value: object) -> object:
    if not isinstance(value, list):
        return ABSENT
    out: list[object] = []
    for parent in value:
        common = build(explode.common, parent)
        for source in explode.sources:
            found = evaluate(source, parent)
            entries = found if isinstance(found, list) else [] if found is ABSENT else [found]
            out.extend({**common, **entry} for entry in entries if isinstance(entry, Mapping))
    return out
