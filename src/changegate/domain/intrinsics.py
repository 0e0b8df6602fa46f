"""CloudFormation intrinsic functions, evaluated as far as a baseline can know them.

A template's declared properties are what a resource should look like, but many of their
values are only known at deploy time. `evaluate` resolves what can be resolved before deploy
(parameters, mappings, conditions, `Fn::Sub`/`Fn::Join`/`Fn::Select`/`Fn::Split` over known
values, and the pseudo parameters it is given) and marks the rest **unknown**: a JSON object
`{"changegate:unknown": "<why>"}` that the comparer reports as unverifiable, never as drift.
Pseudo parameters it is not given (`AWS::Region`, `AWS::AccountId`, ...) stay as they are, so a
second `evaluate` with the account and region of an observation finishes the job.

Source: the CloudFormation User Guide's "Intrinsic function reference" and "Pseudo parameters
reference"; `AWS::LanguageExtensions` for `Fn::Length`, `Fn::ToJsonString` and `Fn::FindInMap`
defaults.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

UNKNOWN: Final = "changegate:unknown"
NO_VALUE: Final = "AWS::NoValue"
PSEUDO: Final = frozenset(
    {
        "AWS::AccountId",
        "AWS::NotificationARNs",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    }
)
_SUB: Final = re.compile(r"\$\{([^}]*)\}")
# Functions whose value only exists once the stack does: their results cannot be baselined.
_DEPLOY_TIME: Final = {
    "Fn::GetAtt": "an attribute of a deployed resource",
    "Fn::ImportValue": "another stack's export",
    "Fn::GetAZs": "the region's availability zones",
    "Fn::Cidr": "an address block computed at deploy",
    "Fn::Transform": "a macro's output",
}


def unknown(reason: str) -> dict[str, object]:
    return {UNKNOWN: reason}


def is_unknown(value: object) -> bool:
    return isinstance(value, dict) and len(value) == 1 and UNKNOWN in value


class _Drop:
    """`AWS::NoValue`: the property (or list item) is removed."""


DROP: Final = _Drop()


@dataclass(frozen=True)
class Environment:
    """What the evaluator may know. `pseudo` holds only the pseudo parameters that are known;
    `physical` the physical ids of the stack's resources (from `baseline import --stack`);
    `conditions` the template's conditions, evaluated (True, False or None for unknown)."""

    parameters: Mapping[str, object] = field(default_factory=dict)
    mappings: Mapping[str, object] = field(default_factory=dict)
    conditions: Mapping[str, bool | None] = field(default_factory=dict)
    pseudo: Mapping[str, object] = field(default_factory=dict)
    physical: Mapping[str, str] = field(default_factory=dict)
    resources: frozenset[str] = frozenset()


def evaluate(node: object, env: Environment) -> object:
    """The node with every intrinsic resolved that `env` can resolve (see module doc)."""
    out = _eval(node, env)
    return None if out is DROP else out


def _eval(node: object, env: Environment) -> object:
    if isinstance(node, str):
        return unknown(f"dynamic reference {node}") if "{{resolve:" in node else node
    if isinstance(node, list):
        items = [_eval(item, env) for item in node]
        return [item for item in items if item is not DROP]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        name, arg = next(iter(node.items()))
        handler = _HANDLERS.get(name)
        if handler is not None:
            return handler(arg, env)
        if name in _DEPLOY_TIME:
            return unknown(f"{name}: {_DEPLOY_TIME[name]}")
        if name == UNKNOWN:
            return node
    evaluated = {key: _eval(value, env) for key, value in node.items()}
    return {key: value for key, value in evaluated.items() if value is not DROP}


def _pending(value: object) -> bool:
    """A pseudo-parameter reference left for later, or an expression that holds one."""
    if isinstance(value, dict) and len(value) == 1:
        name, arg = next(iter(value.items()))
        return name in ("Ref", "Fn::Sub", "Fn::Join", "Fn::Select", "Fn::Split") and (
            name != "Ref" or arg in PSEUDO
        )
    return False


def pseudo_properties(properties: Mapping[str, object]) -> list[str]:
    """The evaluated properties that still hold an expression on pseudo parameters, to be
    bound from each observation (its account and region) before they are compared."""
    return sorted(key for key, value in properties.items() if _binds(value))


def bind(
    properties: Mapping[str, object], names: Sequence[str] | None, env: Environment
) -> dict[str, object]:
    """`properties` with the named ones (None: all of them) evaluated in `env`: a scan binds
    only what needs binding, not every property of every resource."""
    if names is None:
        out = evaluate(dict(properties), env)
        return out if isinstance(out, dict) else {}
    bound = dict(properties)
    for name in names:
        if name in bound:
            value = _eval(bound[name], env)
            if value is DROP:
                del bound[name]
            else:
                bound[name] = value
    return bound


def _binds(node: object) -> bool:
    if _pending(node):
        return True
    if isinstance(node, list):
        return any(_binds(v) for v in node)
    if isinstance(node, dict):
        return any(_binds(v) for v in node.values())
    return False


def _known(*values: object) -> bool:
    return not any(is_unknown(v) or _pending(v) or _holds_unknown(v) for v in values)


def _holds_unknown(value: object) -> bool:
    if is_unknown(value) or _pending(value):
        return True
    if isinstance(value, list):
        return any(_holds_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_unknown(v) for v in value.values())
    return False


def _first_unknown(*values: object) -> object:
    for value in values:
        if is_unknown(value):
            return value
    return None


def _ref(name: object, env: Environment) -> object:
    if not isinstance(name, str):
        return unknown(f"Ref to {name!r}")
    if name == NO_VALUE:
        return DROP
    if name in env.parameters:
        return env.parameters[name]
    if name in PSEUDO:
        return env.pseudo.get(name, {"Ref": name})
    if name in env.physical:
        return env.physical[name]
    if name in env.resources:
        return unknown(f"Ref to resource {name}: its physical id exists only once deployed")
    return unknown(f"Ref to {name}, which the template does not declare")


def _find_in_map(arg: object, env: Environment) -> object:
    if not isinstance(arg, list) or len(arg) not in (3, 4):
        return unknown("Fn::FindInMap wants [map, top key, second key]")
    keys = [_eval(a, env) for a in arg[:3]]
    default = _eval(arg[3], env) if len(arg) == 4 else None
    if not _known(*keys):
        return _first_unknown(*keys) or unknown("Fn::FindInMap over values known only at deploy")
    found: object = env.mappings
    for key in keys:
        found = found.get(str(key)) if isinstance(found, Mapping) else None
    if found is None and isinstance(default, dict) and "DefaultValue" in default:
        return default["DefaultValue"]
    if found is None:
        return unknown(f"Fn::FindInMap: no {'/'.join(map(str, keys))} in Mappings")
    return _eval(found, env)


def _if(arg: object, env: Environment) -> object:
    if not isinstance(arg, list) or len(arg) != 3 or not isinstance(arg[0], str):
        return unknown("Fn::If wants [condition, value if true, value if false]")
    holds = env.conditions.get(arg[0])
    if holds is None:
        return unknown(f"Fn::If on condition {arg[0]}, known only at deploy")
    return _eval(arg[1] if holds else arg[2], env)


def _sub_args(arg: object, env: Environment) -> tuple[str, dict[str, object]] | None:
    if isinstance(arg, str):
        return arg, {}
    if (
        isinstance(arg, list)
        and len(arg) == 2
        and isinstance(arg[0], str)
        and isinstance(arg[1], dict)
    ):
        return arg[0], {k: _eval(v, env) for k, v in arg[1].items()}
    return None


def _sub_value(name: str, extra: Mapping[str, object], env: Environment) -> object:
    if name in extra:
        return extra[name]
    if "." in name:
        return unknown(f"${{{name}}}: an attribute known only at deploy")
    return _ref(name, env)


def _sub(arg: object, env: Environment) -> object:
    parsed = _sub_args(arg, env)
    if parsed is None:
        return unknown("Fn::Sub wants a string or [string, variables]")
    text, extra = parsed
    pending: list[str] = []
    reasons: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        value = None if name.startswith("!") else _sub_value(name, extra, env)
        if value is None or _pending(value):
            pending.extend([name] if value is not None else [])
            return match.group(0)
        if isinstance(value, dict) and UNKNOWN in value:
            reasons.append(str(value[UNKNOWN]))
        elif not isinstance(value, str | int | float | bool):
            reasons.append(f"${{{name}}} is not text")
        else:
            return str(value).lower() if isinstance(value, bool) else str(value)
        return match.group(0)

    out = _SUB.sub(replace, text)
    if "{{resolve:" in out:
        return unknown(f"dynamic reference in {text}")
    if reasons:
        return unknown(f"Fn::Sub: {reasons[0]}")
    if not pending:
        return re.sub(r"\$\{!", "${", out)
    # Variables waiting for pseudo parameters keep their definitions for the second pass.
    waiting = {name: extra[name] for name in pending if name in extra}
    return {"Fn::Sub": [out, waiting] if waiting else out}


def _join(arg: object, env: Environment) -> object:
    if not isinstance(arg, list) or len(arg) != 2:
        return unknown("Fn::Join wants [delimiter, list]")
    delimiter, parts = _eval(arg[0], env), _eval(arg[1], env)
    if not isinstance(delimiter, str):
        return unknown("Fn::Join delimiter is not text")
    if not isinstance(parts, list):
        return parts if is_unknown(parts) else unknown("Fn::Join over a value known at deploy")
    if _first_unknown(*parts) is not None or any(
        _holds_unknown(p) and not _pending(p) for p in parts
    ):
        return _first_unknown(*parts) or unknown("Fn::Join over values known at deploy")
    if any(_pending(p) for p in parts):
        return {"Fn::Join": [delimiter, parts]}
    return delimiter.join(str(p).lower() if isinstance(p, bool) else str(p) for p in parts)


def _select(arg: object, env: Environment) -> object:
    if not isinstance(arg, list) or len(arg) != 2:
        return unknown("Fn::Select wants [index, list]")
    index, items = _eval(arg[0], env), _eval(arg[1], env)
    if not _known(index) or not isinstance(items, list) or not _known(*items):
        return _first_unknown(index, items) or unknown("Fn::Select over values known at deploy")
    try:
        return items[int(str(index))]
    except (ValueError, IndexError):
        return unknown(f"Fn::Select: no item {index} in a list of {len(items)}")


def _split(arg: object, env: Environment) -> object:
    if not isinstance(arg, list) or len(arg) != 2:
        return unknown("Fn::Split wants [delimiter, text]")
    delimiter, text = _eval(arg[0], env), _eval(arg[1], env)
    if isinstance(delimiter, str) and isinstance(text, str):
        return text.split(delimiter)
    return _first_unknown(delimiter, text) or unknown("Fn::Split over a value known at deploy")


def _base64(arg: object, env: Environment) -> object:
    value = _eval(arg, env)
    if isinstance(value, str):
        return base64.b64encode(value.encode()).decode()
    return _first_unknown(value) or unknown("Fn::Base64 of a value known only at deploy")


def _length(arg: object, env: Environment) -> object:
    value = _eval(arg, env)
    if isinstance(value, list) and _known(*value):
        return len(value)
    return _first_unknown(value) or unknown("Fn::Length of a list known only at deploy")


def _to_json(arg: object, env: Environment) -> object:
    value = _eval(arg, env)
    if _holds_unknown(value):
        return unknown("Fn::ToJsonString of a value known only at deploy")
    return json.dumps(value, separators=(",", ":"))


_HANDLERS = {
    "Ref": _ref,
    "Fn::FindInMap": _find_in_map,
    "Fn::If": _if,
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::Base64": _base64,
    "Fn::Length": _length,
    "Fn::ToJsonString": _to_json,
}


def conditions(declared: Mapping[str, object], env: Environment) -> dict[str, bool | None]:
    """Each condition's value with these parameters; None when it depends on deploy time (or
    on itself, which CloudFormation refuses)."""
    out: dict[str, bool | None] = {}
    for name in declared:
        _condition(name, declared, env, out, ())
    return out


def _condition(
    name: str,
    declared: Mapping[str, object],
    env: Environment,
    out: dict[str, bool | None],
    seen: tuple[str, ...],
) -> bool | None:
    if name not in out:
        out[name] = (
            None
            if name in seen or name not in declared
            else _holds(declared[name], declared, env, out, (*seen, name))
        )
    return out[name]


def _holds(
    node: object,
    declared: Mapping[str, object],
    env: Environment,
    out: dict[str, bool | None],
    seen: tuple[str, ...],
) -> bool | None:
    if not (isinstance(node, dict) and len(node) == 1):
        return None
    name, arg = next(iter(node.items()))
    if name == "Condition":
        return _condition(arg, declared, env, out, seen) if isinstance(arg, str) else None
    args = arg if isinstance(arg, list) else [arg]
    if name == "Fn::Equals":
        return _equals(args, env)
    values = [_holds(a, declared, env, out, seen) for a in args]
    if name == "Fn::Not" and len(values) == 1:
        return None if values[0] is None else not values[0]
    if name == "Fn::And":
        return False if False in values else (None if None in values else True)
    if name == "Fn::Or":
        return True if True in values else (None if None in values else False)
    return None


def _equals(args: list[object], env: Environment) -> bool | None:
    if len(args) != 2:
        return None
    left, right = (evaluate(a, env) for a in args)
    if not _known(left, right):
        return None
    # Parameters are text: a YAML `true` compares equal to the parameter value "true".
    return _text(left) == _text(right)


def _text(value: object) -> object:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if isinstance(value, int | float) else value
