"""CloudFormation resource schemas, as cfn-lint ships them.

cfn-lint carries the CloudFormation registry's provider schemas for every region and keeps them
current with each release, so property names, read-only and write-only properties, the tag
property and which lists are sets come from AWS's own data rather than from a list kept here.
Schemas are read from the files cfn-lint bundles (`data/schemas/providers/<region>.json` maps a
type to a schema file in `data/schemas/resources/`), located without importing cfn-lint, whose
import costs over a second (it loads its whole linter) on every scan and import. Where that
layout is not found (another cfn-lint version), its public `PROVIDER_SCHEMA_MANAGER` is used.
Nothing is read until a type is asked for, and no network is used.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Final

# us-east-1 carries every type first; the translator speaks one vocabulary for all regions.
REGION: Final = "us-east-1"
# Schemas recurse (WAF statements, Step Functions states); sets deeper than this are not listed.
MAX_DEPTH: Final = 8

Node = Mapping[str, object]


@cache
def schema(resource_type: str) -> Node | None:
    """The provider schema of a CloudFormation type, or None for a type cfn-lint does not know."""
    bundled = _bundled()
    if bundled is not None:
        found = _read_bundled(bundled, resource_type)
    else:
        found = _from_manager(resource_type)
    # cfn-lint answers any Custom::* with the custom resource schema: not the type asked for.
    return found if found is not None and found.get("typeName") == resource_type else None


@cache
def _bundled() -> tuple[Path, Mapping[str, str]] | None:
    """(resources folder, type -> schema file stem) of cfn-lint's bundled schemas, if present."""
    spec = importlib.util.find_spec("cfnlint")  # finds the package without importing it
    if spec is None or spec.origin is None:
        return None
    data = Path(spec.origin).parent / "data" / "schemas"
    try:
        index = json.loads((data / "providers" / f"{REGION}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return (data / "resources", index) if isinstance(index, dict) else None


def _read_bundled(bundled: tuple[Path, Mapping[str, str]], resource_type: str) -> Node | None:
    folder, index = bundled
    stem = index.get(resource_type)
    if not isinstance(stem, str):
        return None
    try:
        found = json.loads((folder / f"{stem}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, Mapping) else None


def _from_manager(resource_type: str) -> Node | None:
    # Imported here: cfn-lint takes over a second to import.
    from cfnlint.schema import (  # type: ignore[import-untyped]  # noqa: PLC0415
        PROVIDER_SCHEMA_MANAGER,
        ResourceNotFoundError,
    )

    try:
        found: Node = PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION, resource_type).schema
    except ResourceNotFoundError:
        return None
    return found


def _node(value: object) -> Node:
    return value if isinstance(value, Mapping) else {}


def _resolve(root: Node, node: Node) -> Node:
    seen: set[str] = set()
    while isinstance(ref := node.get("$ref"), str) and ref.startswith("#/") and ref not in seen:
        seen.add(ref)
        target: object = root
        for part in ref[2:].split("/"):
            target = _node(target).get(part)
        node = _node(target)
    return node


def _alternatives(root: Node, node: Node) -> Iterator[Node]:
    node = _resolve(root, node)
    yield node
    for keyword in ("oneOf", "anyOf", "allOf"):
        choices = node.get(keyword)
        for choice in choices if isinstance(choices, list) else ():
            yield _resolve(root, _node(choice))


def _top_level(paths: object) -> frozenset[str]:
    prefix = "/properties/"
    return frozenset(
        path[len(prefix) :]
        for path in (paths if isinstance(paths, list) else ())
        if isinstance(path, str) and path.startswith(prefix) and "/" not in path[len(prefix) :]
    )


@cache
def property_names(resource_type: str) -> frozenset[str]:
    found = schema(resource_type)
    return frozenset(_node(found.get("properties"))) if found else frozenset()


@cache
def read_only(resource_type: str) -> frozenset[str]:
    found = schema(resource_type)
    return _top_level(found.get("readOnlyProperties")) if found else frozenset()


@cache
def write_only(resource_type: str) -> frozenset[str]:
    found = schema(resource_type)
    return _top_level(found.get("writeOnlyProperties")) if found else frozenset()


@cache
def readable(resource_type: str) -> frozenset[str]:
    """What a Cloud Control read can return: every property but the write-only ones."""
    return property_names(resource_type) - write_only(resource_type)


@cache
def defaults(resource_type: str) -> Mapping[str, object]:
    """What CloudFormation gives a top-level property a template leaves out, where the schema
    says so with a plain value (a templated default such as a key policy's is not a value)."""
    root = schema(resource_type)
    out: dict[str, object] = {}
    for name, prop in _node(root.get("properties") if root else None).items():
        value = _node(prop).get("default")
        if isinstance(value, bool | int | float) or (isinstance(value, str) and "<" not in value):
            out[name] = value
    return out


def subschema(resource_type: str, path: Sequence[str]) -> Node | None:
    """The schema of a property path ("*" steps into list items); None where the schema does
    not say (free-form objects, JSON-or-string policy documents, unknown names)."""
    root = schema(resource_type)
    if root is None:
        return None
    node: Node = {"type": "object", "properties": root.get("properties")}
    for step in path:
        key = "items" if step == "*" else "properties"
        for choice in _alternatives(root, node):
            inner = _node(choice.get(key))
            target = inner if step == "*" else _node(inner.get(step))
            if target:
                node = _resolve(root, target)
                break
        else:
            return None
    return node


def fields_of(resource_type: str, path: Sequence[str]) -> frozenset[str] | None:
    """Property names an object at `path` may hold; None when the schema leaves it open."""
    root = schema(resource_type)
    node = subschema(resource_type, path)
    if root is None or node is None:
        return None
    names: set[str] = set()
    for choice in _alternatives(root, node):
        names.update(_node(choice.get("properties")))
    return frozenset(names) or None


@cache
def unordered(resource_type: str) -> frozenset[str]:
    """Property paths of arrays the schema marks `"insertionOrder": false` (sets to AWS)."""
    root = schema(resource_type)
    if root is None:
        return frozenset()
    found: set[str] = set()
    for name, prop in _node(root.get("properties")).items():
        _collect(root, _node(prop), (name,), found, frozenset())
    return frozenset(found)


def _collect(
    root: Node, node: Node, path: tuple[str, ...], found: set[str], refs: frozenset[str]
) -> None:
    if len(path) > MAX_DEPTH:
        return
    ref = node.get("$ref")
    if isinstance(ref, str):
        if ref in refs:
            return
        refs = refs | {ref}
    node = _resolve(root, node)
    if node.get("insertionOrder") is False:
        found.add("/".join(path))
    items = _node(node.get("items"))
    if items:
        _collect(root, items, (*path, "*"), found, refs)
    for name, prop in _node(node.get("properties")).items():
        _collect(root, _node(prop), (*path, name), found, refs)


@cache
def tag_property(resource_type: str) -> tuple[str, bool] | None:
    """(name, is_list) of the type's tag property, from the schema's `tagging` block; None when
    the type takes no tags. Most types hold a list of {Key, Value}; some a key→value map."""
    root = schema(resource_type)
    if root is None:
        return None
    tagging = _node(root.get("tagging"))
    if tagging.get("taggable") is False:
        return None
    where = tagging.get("tagProperty")
    name = where.rsplit("/", 1)[-1] if isinstance(where, str) else "Tags"
    node = subschema(resource_type, (name,))
    if node is None:
        return None
    return name, node.get("type") == "array" or "items" in node


@cache
def tag_fields(resource_type: str, name: str) -> tuple[str, str]:
    """The key and value field names of one tag: `Key`/`Value` for nearly every type."""
    fields = fields_of(resource_type, (name, "*")) or frozenset()
    by_case = {field.lower(): field for field in fields}
    return by_case.get("key", "Key"), by_case.get("value", "Value")


def coerce(resource_type: str, properties: Mapping[str, object]) -> dict[str, object]:
    """Scalars in the type the schema declares: Config reports some numbers and booleans as text
    ("true", "30") and some strings as numbers (RDS `AllocatedStorage`); a value that does not
    convert cleanly is kept as observed, so it still shows as a difference."""
    root = schema(resource_type)
    if root is None:
        return dict(properties)
    node: Node = {"type": "object", "properties": root.get("properties")}
    out = _coerce(root, node, properties, 0)
    return dict(out) if isinstance(out, Mapping) else dict(properties)


def _types(root: Node, node: Node) -> set[str]:
    found: set[str] = set()
    for choice in _alternatives(root, node):
        kind = choice.get("type")
        found.update([kind] if isinstance(kind, str) else kind if isinstance(kind, list) else [])
    return found


def _coerce(root: Node, node: Node, value: object, depth: int) -> object:
    if depth > MAX_DEPTH:
        return value
    node = _resolve(root, node)
    if isinstance(value, Mapping):
        props = _node(node.get("properties"))
        return {
            key: _coerce(root, _node(props.get(key)), item, depth + 1) if key in props else item
            for key, item in value.items()
        }
    if isinstance(value, list):
        items = _node(node.get("items"))
        return [_coerce(root, items, item, depth + 1) for item in value] if items else value
    return _scalar(value, _types(root, node))


def _scalar(value: object, types: set[str]) -> object:
    if len(types) != 1 or value is None:
        return value
    kind = next(iter(types))
    if isinstance(value, str):
        text = value.strip()
        if kind == "boolean" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        if kind == "integer" and text.lstrip("-").isdigit():
            return int(text)
        if kind == "number":
            try:
                number = float(text)
            except ValueError:
                return value
            return int(number) if number.is_integer() and "." not in text else number
        return value
    if kind == "string" and isinstance(value, bool):
        return "true" if value else "false"
    if kind == "string" and isinstance(value, int | float):
        return str(value)
    return value
