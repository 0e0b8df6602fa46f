"""AWS Config items in CloudFormation's vocabulary, so a baseline compares with what was observed.

AWS Config reports a resource in its own shape (camelCase `configuration`, a
`supplementaryConfiguration` per sub-resource API, `tags` as a key→value map); a baseline holds
CloudFormation template properties. Comparing the two by folding key case alone makes almost
every bucket and security group "drift" although it is exactly as declared (CFG-1, CFG-4).

What is data and what is code:
- One mapping file per CloudFormation type under `mappings/` says where each property comes from
  in a Config item (format: `mappings/README.md`). Types that Config already records in their
  CloudFormation schema shape (through Cloud Control) are passed through.
- Property names, read-only properties, the tag property and which lists are sets come from the
  CloudFormation resource schemas that cfn-lint ships (`schemas`), not from lists kept here.

Rules a comparer can rely on:
- `covered` names what a translation can produce for the type. A declared property outside it is
  unverifiable from Config, never drift; a covered property missing from `properties` is absent
  on the resource.
- Tags: every `aws:*` tag is dropped (CloudFormation adds `aws:cloudformation:*` to everything it
  creates); the rest become the schema's tag property, sorted by key, and that property is
  always unordered.
- Scalars take the type the schema declares (`"true"` → true, `"30"` → 30, 100 → "100"); a value
  that does not convert is kept as observed. Booleans declared as strings read "true"/"false",
  which is how CloudFormation stores YAML's YES/NO.
- `defaults` holds what AWS gives a property a template leaves out (the security group's
  allow-all egress rule): a comparer should read a declared-absent or declared-empty value as it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Final

from changegate.domain.comparison import TypeRules
from changegate.domain.configuration import CLOUDFORMATION, ObservedItem
from changegate.integrations.vocabulary import schemas, typemaps
from changegate.integrations.vocabulary.rules import ABSENT, MappingError, evaluate
from changegate.integrations.vocabulary.typemaps import TypeMap

__all__ = [
    "ConfigVocabulary",
    "MappingError",
    "Translation",
    "cloudformation_type",
    "mapped_types",
    "problems",
    "read_only_properties",
    "translate",
]


# Config's Cloud Control items carry the item's resource id as `Id` (Glue, launch templates).
CONFIG_KEYS: Final = frozenset({"Id"})


@dataclass(frozen=True)
class Translation:
    """`properties`: the observed resource in CloudFormation's shape. `covered`: the top-level
    properties the translation can produce for the type, present in this item or not.
    `unordered`: property paths ("/" between levels, "*" for list items) whose lists are sets.
    `passthrough`: Config recorded the CloudFormation shape itself. `defaults`: what AWS holds
    for a property a template leaves out."""

    properties: dict[str, object]
    covered: frozenset[str]
    unordered: frozenset[str]
    passthrough: bool
    defaults: dict[str, object] = field(default_factory=dict)


def mapped_types() -> frozenset[str]:
    """The AWS Config resource types that have a mapping file."""
    return frozenset(t.recorded_as for t in typemaps.every() if t.recorded_as is not None)


def cloudformation_type(resource_type: str) -> str | None:
    """The CloudFormation type a Config type's translation speaks (`AWS::IAM::Policy` →
    `AWS::IAM::ManagedPolicy`); the type itself when CloudFormation knows it; else None."""
    typemap = typemaps.find(resource_type)
    if typemap is not None:
        return typemap.type
    return resource_type if schemas.schema(resource_type) is not None else None


def read_only_properties(resource_type: str) -> frozenset[str]:
    """Top-level properties the CloudFormation schema marks read-only (`Arn`, `GroupId`)."""
    return schemas.read_only(resource_type)


def problems() -> list[str]:
    """Names in the mapping files that the CloudFormation schemas do not know (for tests)."""
    return typemaps.problems()


def translate(
    resource_type: str,
    configuration: Mapping[str, object] | None,
    supplementary: Mapping[str, object],
    tags: Mapping[str, str],
) -> Translation | None:
    """A Config item's properties in CloudFormation's shape. `resource_type` is the item's
    Config type (the CloudFormation name of a mapped type is accepted too). None for a type with
    no mapping whose configuration is not recognisably CloudFormation-shaped."""
    typemap = typemaps.find(resource_type)
    if typemap is not None and typemap.passthrough:
        return _passthrough(typemap.type, configuration, tags, typemap)
    if typemap is not None:
        return _mapped(typemap, configuration, supplementary, tags)
    if configuration and _native(resource_type, configuration):
        return _passthrough(resource_type, configuration, tags, None)
    return None


def _native(resource_type: str, configuration: Mapping[str, object]) -> bool:
    keys = set(configuration) - CONFIG_KEYS
    return bool(keys) and keys <= schemas.property_names(resource_type)


def _tag_value(
    resource_type: str, where: tuple[str, bool], tags: Mapping[str, str], inline: object
) -> object:
    name, is_list = where
    key_name, value_name = schemas.tag_fields(resource_type, name)
    pairs = dict(tags)
    if not pairs and isinstance(inline, Mapping):  # a passthrough item's own tag property
        pairs = {str(k): str(v) for k, v in inline.items()}
    elif not pairs and isinstance(inline, list):
        pairs = {
            str(tag[key_name]): str(tag.get(value_name, ""))
            for tag in inline
            if isinstance(tag, Mapping) and tag.get(key_name) is not None
        }
    kept = sorted((k, v) for k, v in pairs.items() if not k.lower().startswith("aws:"))
    if not is_list:
        return dict(kept)
    return [{key_name: key, value_name: value} for key, value in kept]


def _unordered(kind: str, typemap: TypeMap | None, tag: tuple[str, bool] | None) -> frozenset[str]:
    extra = typemap.unordered if typemap is not None else frozenset()
    return schemas.unordered(kind) | extra | ({tag[0]} if tag else set())


def _defaults(kind: str, typemap: TypeMap | None) -> dict[str, object]:
    found = {**schemas.defaults(kind), **(typemap.defaults if typemap is not None else {})}
    return {name: value for name, value in found.items() if name not in schemas.write_only(kind)}


def _mapped(
    typemap: TypeMap,
    configuration: Mapping[str, object] | None,
    supplementary: Mapping[str, object],
    tags: Mapping[str, str],
) -> Translation:
    kind = typemap.type
    tag = schemas.tag_property(kind) if typemap.tags else None
    properties: dict[str, object] = {}
    if configuration is not None:  # a deleted or unrecorded resource has nothing to compare
        item = {"configuration": configuration, "supplementaryConfiguration": supplementary}
        for name, rule in typemap.properties.items():
            value = evaluate(rule, item)
            if value is not ABSENT:
                properties[name] = value
        if tag is not None:
            properties[tag[0]] = _tag_value(kind, tag, tags, None)
    return Translation(
        properties=schemas.coerce(kind, properties),
        covered=frozenset(typemap.properties) | ({tag[0]} if tag else set()),
        unordered=_unordered(kind, typemap, tag),
        passthrough=False,
        defaults=_defaults(kind, typemap),
    )


def _passthrough(
    kind: str,
    configuration: Mapping[str, object] | None,
    tags: Mapping[str, str],
    typemap: TypeMap | None,
) -> Translation:
    tag = schemas.tag_property(kind) if typemap is None or typemap.tags else None
    tag_name = tag[0] if tag else None
    if typemap is not None and typemap.covered is not None:
        covered = set(typemap.covered)
    else:
        # What a Cloud Control read returns, and whatever else Config did record (the launch
        # template sample carries its write-only LaunchTemplateData).
        covered = set(
            schemas.readable(kind) | (schemas.property_names(kind) & set(configuration or ()))
        )
    properties: dict[str, object] = {}
    if configuration is not None:  # a deleted or unrecorded resource has nothing to compare
        properties = {k: v for k, v in configuration.items() if k in covered and k != tag_name}
        if tag is not None:
            properties[tag[0]] = _tag_value(kind, tag, tags, configuration.get(tag[0]))
    return Translation(
        properties=schemas.coerce(kind, properties),
        covered=frozenset(covered | ({tag_name} if tag_name else set())),
        unordered=_unordered(kind, typemap, tag),
        passthrough=True,
        defaults=_defaults(kind, typemap),
    )


class ConfigVocabulary:
    """The `Vocabulary` port over the mapping files and cfn-lint's schemas."""

    def translate(self, item: ObservedItem) -> dict[str, object] | None:
        if item.shape == CLOUDFORMATION:
            return dict(item.configuration) if item.configuration is not None else {}
        found = translate(item.resource_type, item.configuration, item.supplementary, item.tags)
        return found.properties if found is not None else None

    def rules(self, resource_type: str, cloudformation: bool = False) -> TypeRules:
        return _rules(resource_type, cloudformation)

    def read_only(self, resource_type: str) -> frozenset[str]:
        kind = cloudformation_type(resource_type) or resource_type
        return read_only_properties(kind)


@cache
def _rules(resource_type: str, cloudformation: bool) -> TypeRules:
    typemap = typemaps.find(resource_type)
    kind = (
        typemap.type
        if typemap is not None
        else (cloudformation_type(resource_type) or resource_type)
    )
    if typemap is not None and not typemap.passthrough:
        made = _mapped(typemap, None, {}, {})
    else:
        made = _passthrough(kind, None, {}, typemap)
    tag = schemas.tag_property(kind)
    return TypeRules(
        covered=None if cloudformation else made.covered,
        unordered=made.unordered,
        defaults=made.defaults,
        tag_property=tag[0] if tag else None,
    )
