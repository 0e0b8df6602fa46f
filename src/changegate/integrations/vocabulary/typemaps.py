"""The per-type mapping files under `mappings/`: loaded on first use, checked against cfn-lint.

One YAML file per CloudFormation type (`S3_Bucket.yaml` for `AWS::S3::Bucket`); the format is
documented in `mappings/README.md`. A file that breaks the format raises MappingError naming
the file, because a silently skipped mapping would turn every property of its type into drift.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Final

import yaml

from changegate.integrations.vocabulary import schemas
from changegate.integrations.vocabulary.rules import MappingError, Rule, parse

FILE_KEYS: Final = frozenset(
    {
        "type",
        "recorded_as",
        "passthrough",
        "tags",
        "properties",
        "covered",
        "unordered",
        "defaults",
        "uncovered",
    }
)


@dataclass(frozen=True)
class TypeMap:
    file: str
    type: str  # the CloudFormation type the properties belong to
    recorded_as: str | None  # the AWS Config resourceType read; None: Config keeps no such item
    passthrough: bool
    tags: bool  # Config records the resource's tags
    properties: Mapping[str, Rule]
    covered: frozenset[str] | None  # passthrough only: what Config records, when listed
    unordered: frozenset[str]
    defaults: Mapping[str, object]
    uncovered: Mapping[str, str]


def file_name(resource_type: str) -> str:
    """`AWS::S3::Bucket` → `S3_Bucket.yaml`."""
    return "_".join(resource_type.split("::")[1:]) + ".yaml"


def _strings(raw: object, where: str) -> frozenset[str]:
    if raw is None:
        return frozenset()
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise MappingError(f"{where}: a list of names or paths")
    return frozenset(raw)


def _mapping(raw: object, where: str) -> Mapping[str, object]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise MappingError(f"{where}: a mapping")
    return {str(key): value for key, value in raw.items()}


def load(name: str, content: str) -> TypeMap:
    raw = yaml.safe_load(content)
    if not isinstance(raw, Mapping) or not isinstance(raw.get("type"), str):
        raise MappingError(f"{name}: a mapping file names its CloudFormation `type`")
    unknown = set(raw) - FILE_KEYS
    if unknown:
        raise MappingError(f"{name}: unknown keys {sorted(unknown)}")
    recorded = raw.get("recorded_as", raw["type"])
    properties = _mapping(raw.get("properties"), f"{name} properties")
    return TypeMap(
        file=name,
        type=raw["type"],
        recorded_as=recorded if isinstance(recorded, str) else None,
        passthrough=raw.get("passthrough") is True,
        tags=raw.get("tags", True) is True,
        properties={key: parse(rule, f"{name} {key}") for key, rule in properties.items()},
        covered=_strings(raw["covered"], f"{name} covered") if "covered" in raw else None,
        unordered=_strings(raw.get("unordered"), f"{name} unordered"),
        defaults=_mapping(raw.get("defaults"), f"{name} defaults"),
        uncovered={k: str(v) for k, v in _mapping(raw.get("uncovered"), name).items()},
    )


@cache
def every() -> tuple[TypeMap, ...]:
    folder = files("changegate.integrations.vocabulary").joinpath("mappings")
    return tuple(
        load(entry.name, entry.read_text(encoding="utf-8"))
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    )


@cache
def _index() -> dict[str, TypeMap]:
    found: dict[str, TypeMap] = {}
    # Config's own type name wins: Config's AWS::IAM::Policy is a managed policy, which
    # CloudFormation calls AWS::IAM::ManagedPolicy, not CloudFormation's inline AWS::IAM::Policy.
    for typemap in every():
        if typemap.recorded_as is not None:
            found.setdefault(typemap.type.casefold(), typemap)
    for typemap in every():
        if typemap.recorded_as is not None:
            found[typemap.recorded_as.casefold()] = typemap
    return found


def find(resource_type: str) -> TypeMap | None:
    """The mapping that reads items of this Config type (case-insensitive, as some AWS samples
    spell `AWS::EC2::VOLUME`); a CloudFormation type name finds the mapping that produces it."""
    return _index().get(resource_type.casefold())


def problems(typemaps: Iterable[TypeMap] | None = None) -> list[str]:
    """Everything in the mapping files (by default, all of them) that CloudFormation's schemas
    do not know."""
    chosen = tuple(every() if typemaps is None else typemaps)
    found = [problem for typemap in chosen for problem in _check(typemap)]
    readers: dict[str, str] = {}
    for typemap in chosen:
        if typemap.recorded_as is not None:
            other = readers.setdefault(typemap.recorded_as.casefold(), typemap.file)
            if other != typemap.file:
                found.append(f"{typemap.file}: {other} reads {typemap.recorded_as} items too")
    return found


def _check(typemap: TypeMap) -> Iterator[str]:
    where = typemap.file
    if where != file_name(typemap.type):
        yield f"{where}: a mapping for {typemap.type} is named {file_name(typemap.type)}"
    names = schemas.property_names(typemap.type)
    if not names:
        yield f"{where}: cfn-lint has no schema for {typemap.type}"
        return
    listed = {
        "properties": set(typemap.properties),
        "covered": set(typemap.covered or ()),
        "defaults": set(typemap.defaults),
        "uncovered": set(typemap.uncovered),
        "unordered": {path.split("/")[0] for path in typemap.unordered},
    }
    for section, found in listed.items():
        for name in sorted(found - names):
            yield f"{where} {section}: {typemap.type} has no property {name}"
    for name in sorted(set(typemap.uncovered) & set(typemap.properties)):
        yield f"{where}: {name} is both mapped and listed as uncovered"
    for name, rule in typemap.properties.items():
        yield from _check_rule(typemap.type, rule, (name,), where)


def _check_rule(resource_type: str, rule: Rule, at: tuple[str, ...], where: str) -> Iterator[str]:
    node = schemas.subschema(resource_type, at)
    is_list = node is not None and (node.get("type") == "array" or "items" in node)
    if is_list and (rule.fields is not None or rule.explode is not None):
        at = (*at, "*")
    children = dict(rule.fields or {})
    if rule.explode is not None:
        children.update(rule.explode.common)
        for source in rule.explode.sources:
            children.update(source.fields or {})
    allowed = schemas.fields_of(resource_type, at)
    for name, child in children.items():
        if allowed is not None and name not in allowed:
            yield f"{where}: {'/'.join(at)} has no field {name} in {resource_type}"
        else:
            yield from _check_rule(resource_type, child, (*at, name), where)
