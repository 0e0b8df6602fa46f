"""The Linear issue templates (docs/linear.md): Markdown headings become a request's fields.

A change request's description has `## Scope`, `## Impact assessment`, `## Rollback plan`,
`## Risk`, `## Services`, `## Environments` and optionally `## Window`, `## Type`,
`## Justification`, `## Customer impact` and `## Downtime`; a waiver request's has
`## Justification`, `## Compensating controls`, `## Controls`, `## Scope` and optionally
`## Duration`. Headings of any level match, case-insensitively; text under a heading runs to
the next heading. Lists are bullet items or comma-separated. What is missing or malformed is
returned as a list of problems (each names the heading to fix), never raised: the caller says
them back on the issue.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, TypeVar

from markdown_it import MarkdownIt

from changegate.domain.changes import ChangeFields, ChangeType, Risk, Window

ALIASES: Final[Mapping[str, str]] = {
    "scope": "scope",
    "impact assessment": "impact",
    "impact": "impact",
    "rollback plan": "rollback",
    "rollback": "rollback",
    "risk": "risk",
    "services": "services",
    "affected services": "services",
    "environments": "environments",
    "window": "window",
    "type": "type",
    "justification": "justification",
    "customer impact": "customer_impact",
    "downtime": "downtime",
    "compensating controls": "compensating",
    "controls": "controls",
    "duration": "duration",
}
CHANGE_REQUIRED: Final = (
    ("scope", "Scope"),
    ("impact", "Impact assessment"),
    ("rollback", "Rollback plan"),
    ("risk", "Risk"),
    ("services", "Services"),
    ("environments", "Environments"),
)
WAIVER_REQUIRED: Final = (
    ("justification", "Justification"),
    ("compensating", "Compensating controls"),
    ("controls", "Controls"),
    ("scope", "Scope"),
)
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_WINDOW = re.compile(
    r"^(?P<start>\S+)\s*(?:to|until|->|\u2013|\u2014)\s*(?P<end>\S+)$", re.IGNORECASE
)
_DAYS = re.compile(r"^(?P<days>\d{1,4})\s*(?:days?|d)?$", re.IGNORECASE)
_PARSER = MarkdownIt("commonmark")
_E = TypeVar("_E", Risk, ChangeType)


@dataclass(frozen=True)
class Parsed:
    """Fields as the template gave them, or the problems that keep them from counting."""

    fields: ChangeFields | None
    problems: tuple[str, ...]


@dataclass(frozen=True)
class WaiverAsk:
    title: str
    justification: str
    compensating_controls: str
    controls: tuple[str, ...]
    scope_kind: str
    scope_value: str
    days: int


@dataclass(frozen=True)
class ParsedWaiver:
    ask: WaiverAsk | None
    problems: tuple[str, ...]


def sections(markdown: str) -> dict[str, str]:
    """Known headings -> the text under them (stripped); the first of two same headings wins.
    Headings inside code blocks are text, as Markdown renders them."""
    lines = markdown.splitlines()
    tokens = _PARSER.parse(markdown)
    heads = [
        (token.map[0], token.map[1], tokens[i + 1].content)
        for i, token in enumerate(tokens)
        if token.type == "heading_open" and token.map is not None
    ]
    found: dict[str, str] = {}
    for n, (_, body_from, title) in enumerate(heads):
        name = ALIASES.get(" ".join(title.strip().rstrip(":").lower().split()))
        body_to = heads[n + 1][0] if n + 1 < len(heads) else len(lines)
        if name is not None and name not in found:
            found[name] = "\n".join(lines[body_from:body_to]).strip()
    return found


def items(text: str) -> tuple[str, ...]:
    """A bullet list's items, else the comma-separated parts of the text."""
    rows = [line for line in text.splitlines() if line.strip()]
    if rows and all(_BULLET.match(line) for line in rows):
        parts = [_BULLET.sub("", line) for line in rows]
    else:
        parts = " ".join(rows).split(",")
    return tuple(p.strip().strip("`") for p in parts if p.strip().strip("`"))


def parse_change(title: str, description: str, ticket: str) -> Parsed:
    """The change request an issue describes (CM-1), or what to add to it."""
    found = sections(description)
    problems = [f"add a `## {head}` section" for key, head in CHANGE_REQUIRED if not found.get(key)]
    risk = _choice(found.get("risk", ""), Risk, "Risk", problems)
    kind = _choice(found.get("type", "") or "normal", ChangeType, "Type", problems)
    window = _window(found.get("window", ""), problems)
    downtime = _minutes(found.get("downtime", ""), problems)
    if kind is ChangeType.EMERGENCY and not found.get("justification"):
        problems.append("an emergency change needs a `## Justification` section")
    if problems or risk is None or kind is None:
        return Parsed(None, tuple(problems))
    return Parsed(
        ChangeFields(
            title=title.strip(),
            scope=found["scope"],
            impact=found["impact"],
            rollback_plan=found["rollback"],
            risk=risk,
            change_type=kind,
            justification=found.get("justification", ""),
            affected_services=items(found["services"]),
            environments=tuple(e.lower() for e in items(found["environments"])),
            customer_impact=found.get("customer_impact", ""),
            expected_downtime_minutes=downtime,
            window=window,
            ticket=ticket,
        ),
        (),
    )


def parse_waiver(title: str, description: str, default_days: int) -> ParsedWaiver:
    """The waiver an exception-request issue asks for (EXC-1), or what to add to it."""
    found = sections(description)
    problems = [f"add a `## {head}` section" for key, head in WAIVER_REQUIRED if not found.get(key)]
    kind, _, value = found.get("scope", "").partition(":")
    if found.get("scope") and not value.strip():
        problems.append("write `## Scope` as KIND: VALUE, e.g. `environment: production`")
    days = default_days
    if found.get("duration"):
        match = _DAYS.match(_first_line(found["duration"]))
        if match is None:
            problems.append("write `## Duration` as a number of days, e.g. `30 days`")
        else:
            days = int(match["days"])
    if problems:
        return ParsedWaiver(None, tuple(problems))
    ask = WaiverAsk(
        title.strip(),
        found["justification"],
        found["compensating"],
        tuple(c.upper() for c in items(found["controls"])),
        kind.strip().lower(),
        value.strip(),
        days,
    )
    return ParsedWaiver(ask, ())


def digest(value: object) -> str:
    """SHA-256 of a value's canonical JSON: what was applied, or what was complained about."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _choice(text: str, kind: type[_E], head: str, problems: list[str]) -> _E | None:
    word = text.strip().strip("`*_").split()[0].lower() if text.strip() else ""
    if not word:
        return None  # reported as a missing section
    try:
        return kind(word)
    except ValueError:
        allowed = ", ".join(k.value for k in kind)
        problems.append(f"`## {head}` must be one of {allowed}, not {word[:40]!r}")
        return None


def _window(text: str, problems: list[str]) -> Window:
    if not text:
        return Window()
    match = _WINDOW.match(" ".join(_first_line(text).split()))
    start = _instant(match["start"]) if match else None
    end = _instant(match["end"]) if match else None
    if start is None or end is None or end <= start:
        problems.append(
            "write `## Window` as START to END in ISO 8601 with a zone, "
            "e.g. `2026-12-03T22:00Z to 2026-12-03T23:00Z`"
        )
        return Window()
    return Window(start, end)


def _instant(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.astimezone(UTC) if value.tzinfo is not None else None


def _minutes(text: str, problems: list[str]) -> int:
    if not text:
        return 0
    match = re.match(r"^(\d{1,6})\s*(?:min(?:ute)?s?|m)?$", _first_line(text), re.IGNORECASE)
    if match is None:
        problems.append("write `## Downtime` as a number of minutes, e.g. `5 minutes`")
        return 0
    return int(match[1])


def _first_line(text: str) -> str:
    """A one-value section's value: its first line, without a bullet or emphasis."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return _BULLET.sub("", first).strip().strip("`*_")
