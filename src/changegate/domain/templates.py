"""A CloudFormation template, parsed, as the resources a baseline declares (CFG-1).

`declare` takes the template as JSON-shaped data (the integration reads YAML or JSON), expands
`AWS::LanguageExtensions`' `Fn::ForEach`, resolves parameters (their defaults, or values given
at import), evaluates the conditions and drops the resources whose condition is false, and
evaluates every resource's properties as far as they can be known before deploy (see
`domain.intrinsics`). Other transforms (SAM's `AWS::Serverless-2016-10-31`, macros) expand into
resources only CloudFormation knows: such a template is refused, with how to get the processed
one. Source: the CloudFormation User Guide's "Template anatomy", "Parameters", "Conditions",
and "AWS::LanguageExtensions transform" (`Fn::ForEach`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Final

from changegate.domain import intrinsics
from changegate.domain.errors import BadInput
from changegate.domain.intrinsics import Environment, evaluate, unknown

LANGUAGE_EXTENSIONS: Final = "AWS::LanguageExtensions"
FOR_EACH: Final = "Fn::ForEach::"
MAX_LOOP: Final = 1000  # items one Fn::ForEach may make; a template has at most 500 resources


@dataclass(frozen=True)
class Declared:
    """One resource as its template declares it, its properties evaluated."""

    logical_id: str
    resource_type: str
    properties: dict[str, object]


def declare(
    template: Mapping[str, object],
    source: str,
    given: Mapping[str, str] | None = None,
    pseudo: Mapping[str, object] | None = None,
    physical: Mapping[str, str] | None = None,
) -> list[Declared]:
    """The resources of `template`; BadInput (naming `source`) for what cannot be a baseline."""
    transforms = _transforms(template.get("Transform"), source)
    parameters = _parameters(template.get("Parameters"), given or {}, source)
    resources = template.get("Resources")
    if not isinstance(resources, dict):
        raise BadInput(f"{source}: no Resources mapping")
    if LANGUAGE_EXTENSIONS in transforms:
        resources = _expand(resources, parameters, source)
    mappings, declared = template.get("Mappings"), template.get("Conditions")
    env = Environment(
        parameters=parameters,
        mappings=mappings if isinstance(mappings, dict) else {},
        pseudo=pseudo or {},
        physical=physical or {},
        resources=frozenset(resources),
    )
    env = replace(
        env, conditions=intrinsics.conditions(declared if isinstance(declared, dict) else {}, env)
    )
    return [
        r
        for logical, body in resources.items()
        if (r := _resource(logical, body, env, source)) is not None
    ]


def _transforms(raw: object, source: str) -> list[str]:
    # A name, a list of them, or one macro with its parameters (AWS::Include at the top level).
    names = [raw] if isinstance(raw, str | dict) else raw if isinstance(raw, list) else []
    text = [n for n in names if isinstance(n, str)]
    others = [n for n in text if n != LANGUAGE_EXTENSIONS] + [
        "a macro" for n in names if not isinstance(n, str)
    ]
    if others:
        raise BadInput(
            f"{source}: Transform {', '.join(others)} makes resources only CloudFormation can "
            "expand; import the processed template instead (aws cloudformation get-template "
            "--stack-name NAME --template-stage Processed)"
        )
    return text


def _parameters(raw: object, given: Mapping[str, str], source: str) -> dict[str, object]:
    declared = raw if isinstance(raw, dict) else {}
    strays = sorted(set(given) - set(declared))
    if strays:
        raise BadInput(
            f"{source}: no parameter {strays[0]} in the template "
            f"(it declares {', '.join(sorted(declared)) or 'none'})"
        )
    out: dict[str, object] = {}
    for name, spec in declared.items():
        kind = str(spec.get("Type", "String")) if isinstance(spec, dict) else "String"
        if kind.startswith("AWS::SSM::Parameter::Value"):
            out[name] = unknown(f"parameter {name} is read from SSM at deploy")
            continue
        value = given.get(name, spec.get("Default") if isinstance(spec, dict) else None)
        if value is None:
            out[name] = unknown(f"parameter {name} has no default; give --parameter {name}=VALUE")
        elif kind == "CommaDelimitedList" or kind.startswith("List<"):
            out[name] = (
                value if isinstance(value, list) else [v.strip() for v in str(value).split(",")]
            )
        else:
            out[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


def _resource(logical: str, body: object, env: Environment, source: str) -> Declared | None:
    if not isinstance(body, dict) or not isinstance(body.get("Type"), str):
        raise BadInput(f"{source}: resource {logical} has no Type")
    condition = body.get("Condition")
    if isinstance(condition, str) and env.conditions.get(condition) is False:
        return None
    properties = evaluate(body.get("Properties") or {}, env)
    if not isinstance(properties, dict):
        raise BadInput(f"{source}: resource {logical}: Properties is not a mapping")
    return Declared(logical, body["Type"], properties)


def _expand(
    node: dict[str, object], parameters: Mapping[str, object], source: str
) -> dict[str, object]:
    """Every `Fn::ForEach::Name: [Identifier, Collection, {KeyTemplate: Body}]` in a mapping,
    replaced by one entry per item of the collection (nested loops too)."""
    out: dict[str, object] = {}
    for key, value in node.items():
        if not key.startswith(FOR_EACH):
            out[key] = value
            continue
        if not (
            isinstance(value, list)
            and len(value) == 3
            and isinstance(value[0], str)
            and isinstance(value[2], dict)
        ):
            raise BadInput(f"{source}: {key} wants [identifier, collection, {{key: body}}]")
        identifier, template = value[0], value[2]
        for item in _collection(value[1], parameters, key, source):
            for out_key, body in template.items():
                made = _substitute({out_key: body}, identifier, item)
                out.update(_expand(made, parameters, source) if isinstance(made, dict) else {})
    return out


def _collection(raw: object, parameters: Mapping[str, object], loop: str, source: str) -> list[str]:
    value = raw
    if isinstance(raw, dict) and set(raw) == {"Ref"}:
        value = parameters.get(str(raw["Ref"]))
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise BadInput(
            f"{source}: {loop}: the collection must be a list of values known before deploy"
        )
    if len(value) > MAX_LOOP:
        raise BadInput(f"{source}: {loop}: over {MAX_LOOP} items")
    return [str(v) for v in value]


def _substitute(node: object, identifier: str, item: str) -> object:
    """`${Id}` and `&{Id}` (the item, alphanumerics only) in keys and text; `Ref: Id`."""
    if isinstance(node, str):
        plain = re.sub(r"[^A-Za-z0-9]", "", item)
        return node.replace(f"${{{identifier}}}", item).replace(f"&{{{identifier}}}", plain)
    if isinstance(node, list):
        return [_substitute(v, identifier, item) for v in node]
    if isinstance(node, dict):
        if set(node) == {"Ref"} and node["Ref"] == identifier:
            return item
        return {
            str(_substitute(k, identifier, item)): _substitute(v, identifier, item)
            for k, v in node.items()
        }
    return node
