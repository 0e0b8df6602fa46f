"""Declared against observed, both in CloudFormation's vocabulary (CFG-1, CFG-4).

Only what a baseline declares is compared, so volatile fields never raise drift. How a type's
properties compare is data (`TypeRules`, from the translation layer): which top-level
properties an observation can show at all (`covered`; a declared property outside it is
**unverifiable**, never a drift), which lists AWS treats as sets (compared without order,
matching each declared item against an observed one on the keys the template gives), and what
AWS holds when a template leaves a property out (`defaults`). Tags are a key-value map, and
AWS's own `aws:*` tags are nobody's baseline. A declared value known only at deploy (see
`domain.intrinsics`) is unverifiable too, with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, TypeGuard

from changegate.domain.intrinsics import PSEUDO, UNKNOWN, is_unknown

MISSING: Final = "(absent)"
NOT_RECORDED: Final = "AWS Config does not record this property for this resource type"
_INDEX: Final = re.compile(r"/\d+(?=/|$)")
# What JSON decodes to besides dicts: never mappings, so the (slow) ABC check can be skipped.
_PLAIN: Final = frozenset({str, int, float, bool, list, type(None)})


@dataclass(frozen=True)
class TypeRules:
    """How one resource type compares. `covered` None: every property is observable (an
    observation already in CloudFormation's vocabulary, e.g. from CloudFormation drift)."""

    covered: frozenset[str] | None = None
    unordered: frozenset[str] = frozenset()
    defaults: Mapping[str, object] = field(default_factory=dict)
    tag_property: str | None = "Tags"


@dataclass(frozen=True)
class Difference:
    path: str
    expected: object
    actual: object


@dataclass(frozen=True)
class Unverifiable:
    path: str
    reason: str


@dataclass
class Comparison:
    differences: list[Difference] = field(default_factory=list)
    unverifiable: list[Unverifiable] = field(default_factory=list)


def compare(
    declared: Mapping[str, object], observed: Mapping[str, object], rules: TypeRules
) -> Comparison:
    out = Comparison()
    folded: dict[str, object] | None = None
    for key, expected in sorted(declared.items()):
        path = f"/{key}"
        if rules.covered is not None and key not in rules.covered:
            out.unverifiable.append(Unverifiable(path, NOT_RECORDED))
            continue
        if key in observed:
            actual = observed[key]
        else:
            folded = folded if folded is not None else {k.lower(): v for k, v in observed.items()}
            actual = folded.get(key.lower(), MISSING)
        if actual is MISSING:
            _absent(key, expected, rules, out)
        elif key == rules.tag_property:
            _tags(expected, actual, path, out)
        else:
            _compare(expected, actual, path, rules, out)
    return out


def unverifiable(declared: Mapping[str, object], rules: TypeRules) -> list[Unverifiable]:
    """What of a baseline resource no observation can confirm, known without observing it."""
    out = Comparison()
    for key, expected in sorted(declared.items()):
        if rules.covered is not None and key not in rules.covered:
            out.unverifiable.append(Unverifiable(f"/{key}", NOT_RECORDED))
        else:
            _unknowns(expected, f"/{key}", out)
    return out.unverifiable


def _unknowns(value: object, path: str, out: Comparison) -> None:
    reason = _reason(value)
    if reason is not None:
        out.unverifiable.append(Unverifiable(path, reason))
    elif _is_mapping(value):
        for key, item in value.items():
            _unknowns(item, f"{path}/{key}", out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _unknowns(item, f"{path}/{index}", out)


def _reason(value: object) -> str | None:
    """Why a declared value cannot be checked, or None if it can."""
    if is_unknown(value):
        return str(value[UNKNOWN])  # type: ignore[index]
    if _is_mapping(value) and len(value) == 1:
        name, arg = next(iter(value.items()))
        if (name == "Ref" and arg in PSEUDO) or name in (
            "Fn::Sub",
            "Fn::Join",
            "Fn::Select",
            "Fn::Split",
        ):
            return f"{name} needs pseudo parameters no observation carries"
    return None


def _unknowable(value: object) -> bool:
    """Every value in it is known only at deploy: absent or not, nothing can be said."""
    if _reason(value) is not None:
        return True
    if _is_mapping(value):
        return bool(value) and all(_unknowable(v) for v in value.values())
    if isinstance(value, list):
        return bool(value) and all(_unknowable(v) for v in value)
    return False


def _absent(key: str, expected: object, rules: TypeRules, out: Comparison) -> None:
    path = f"/{key}"
    if _unknowable(expected):
        _unknowns(expected, path, out)
    elif key in rules.defaults and _same(expected, rules.defaults[key], rules, path):
        return  # the template states what AWS does anyway
    elif key == rules.tag_property and not _tag_map(expected)[0]:
        return  # only aws:* tags, or none: nothing of the baseline's own
    else:
        out.differences.append(Difference(path, expected, MISSING))


def _same(expected: object, actual: object, rules: TypeRules, path: str) -> bool:
    probe = Comparison()
    _compare(expected, actual, path, rules, probe)
    return not probe.differences


def _compare(
    expected: object, actual: object, path: str, rules: TypeRules, out: Comparison
) -> None:
    if expected == actual:
        # Equal in C, whole subtrees at once: the common case of a resource as declared. An
        # observation never holds an unknown marker or a pending Ref, so there is none here.
        return
    reason = _reason(expected)
    if reason is not None:
        out.unverifiable.append(Unverifiable(path, reason))
    elif _is_mapping(expected) and _is_mapping(actual):
        _compare_mapping(expected, actual, path, rules, out)
    elif isinstance(expected, list) and isinstance(actual, list):
        if _pattern(path) in rules.unordered:
            _compare_set(expected, actual, path, rules, out)
        elif len(expected) != len(actual):
            out.differences.append(Difference(path, expected, actual))
        else:
            for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
                _compare(want, got, f"{path}/{index}", rules, out)
    elif not same_scalar(expected, actual):
        out.differences.append(Difference(path, expected, actual))


def _compare_mapping(
    expected: Mapping[str, object],
    actual: Mapping[str, object],
    path: str,
    rules: TypeRules,
    out: Comparison,
) -> None:
    """Only the keys the baseline gives: what else AWS reports is not the baseline's."""
    for key, want in expected.items():
        got = actual.get(key, MISSING)
        if got is MISSING and _unknowable(want):
            _unknowns(want, f"{path}/{key}", out)
        elif got is MISSING:
            out.differences.append(Difference(f"{path}/{key}", want, MISSING))
        else:
            _compare(want, got, f"{path}/{key}", rules, out)


def _compare_set(
    expected: list[object], actual: list[object], path: str, rules: TypeRules, out: Comparison
) -> None:
    """Each declared item matches a distinct observed one on the keys it gives; observed items
    left over are differences too (an ingress rule nobody declared is drift)."""
    unused = list(range(len(actual)))
    item_path = f"{path}/*"
    for want in expected:
        match = next((i for i in unused if _same(want, actual[i], rules, item_path)), None)
        if match is None:
            out.differences.append(Difference(f"{path}/[]", want, MISSING))
        else:
            unused.remove(match)
            _compare(want, actual[match], item_path, rules, out)  # keeps its unverifiables
    for extra in unused:
        out.differences.append(Difference(f"{path}/[]", MISSING, actual[extra]))


def _tag_map(raw: object) -> tuple[dict[str, object], list[str]]:
    """({key: value} without aws:* tags, keys whose value cannot be known)."""
    pairs: list[tuple[object, object]] = []
    if _is_mapping(raw):
        pairs = list(raw.items())
    elif isinstance(raw, list):
        pairs = [(t.get("Key"), t.get("Value")) for t in raw if _is_mapping(t)]
    tags = {str(k): v for k, v in pairs if not str(k).lower().startswith("aws:")}
    unknown_keys = [k for k, v in tags.items() if _reason(v) is not None]
    return tags, unknown_keys


def _tags(expected: object, actual: object, path: str, out: Comparison) -> None:
    if expected == actual:
        return  # declared in the order AWS reports them (sorted by key): nothing to fold
    want, unknown_keys = _tag_map(expected)
    got, _ = _tag_map(actual)
    for key in sorted(set(want) | set(got)):
        if key in unknown_keys:
            out.unverifiable.append(Unverifiable(f"{path}/{key}", str(_reason(want[key]))))
        elif key not in got:
            out.differences.append(Difference(f"{path}/{key}", want[key], MISSING))
        elif key not in want:
            out.differences.append(Difference(f"{path}/{key}", MISSING, got[key]))
        elif not same_scalar(want[key], got[key]):
            out.differences.append(Difference(f"{path}/{key}", want[key], got[key]))


def _pattern(path: str) -> str:
    return _INDEX.sub("/*", path).lstrip("/")


def same_scalar(expected: object, actual: object) -> bool:
    """Equal as CloudFormation means them: YAML's `true` is the text "true", 30 is "30"."""
    if expected == actual:
        return True
    if isinstance(expected, dict | list) or isinstance(actual, dict | list):
        return False
    left, right = _scalar_text(expected), _scalar_text(actual)
    if left == right:
        return True
    try:
        return float(left) == float(right)
    except ValueError:
        return False


def _scalar_text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value).strip().lower()


def _is_mapping(value: object) -> TypeGuard[Mapping[str, object]]:
    # Called for every declared and observed value of every resource a scan compares.
    cls = type(value)
    return cls is dict or (cls not in _PLAIN and isinstance(value, Mapping))
