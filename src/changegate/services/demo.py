"""A quarter of Casper Studios' change management, replayed through the real use cases.

Every write is one transaction at a simulated time, so the ledger is what the services would have
written that day, each record marked as made under a simulated clock. The plan is a fixed table
plus a seeded RNG: two runs write the same ledger, hash for hash.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from changegate.db.changes import Changes
from changegate.db.users import Users
from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.calendar import BusinessCalendar
from changegate.domain.changes import ChangeFields, ChangeStatus, ChangeType, Risk, Window
from changegate.domain.errors import BadInput
from changegate.policy import Policy
from changegate.services import (
    approvals,
    changes,
    demo_audit,
    demo_cab,
    demo_gate,
    demo_trail,
    installation,
    lifecycle,
    users,
)
from changegate.services.context import Context
from changegate.services.demo_data import (
    APPROVE_NOTES,
    CAB,
    HIGHLIGHTS,
    ISO,
    JUSTIFICATIONS,
    KINDS,
    PEOPLE,
    REVISIONS,
    RISKS,
    ROWS,
    Person,
    emails,
)

T = TypeVar("T")
SEED = 20260701
ADMIN = "local-admin"
ORG = "Casper Studios"


class Runner(Protocol):
    """What the seed needs of the composition root: one transaction per call, at a given time."""

    def run(
        self,
        fn: Callable[[Context], T],
        actor: str = ...,
        at: datetime | None = ...,
        simulated: bool = ...,
    ) -> T: ...


@dataclass(frozen=True)
class Step:
    day: int
    minute: int
    actor: str
    op: str
    role: ApprovalRole | None = None
    text: str = ""
    updates: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    row: int
    outcome: str
    fields: ChangeFields
    start: int
    steps: list[Step]


@dataclass(frozen=True)
class DemoSummary:
    organisation: str
    first_day: date
    last_day: date
    people: tuple[Person, ...]
    statuses: dict[str, int]
    highlights: list[tuple[str, str]]
    transactions: int
    next_key: str
    audit: demo_audit.AuditSummary
    gate: demo_gate.GateExample
    trail: demo_trail.TrailDay


@dataclass
class _Script:
    """The steps of one change, in business days after its first day."""

    requester: str
    cab_quorum: int
    iso_required: bool
    rng: random.Random
    steps: list[Step] = field(default_factory=list)
    planned: int = 3

    def add(
        self,
        day: int,
        hour: float,
        actor: str,
        op: str,
        role: ApprovalRole | None = None,
        text: str = "",
        updates: Mapping[str, object] | None = None,
    ) -> None:
        # Jitter stays under the smallest gap between two steps, so their order holds.
        minute = int(hour * 60) + self.rng.randint(0, 14)
        self.steps.append(Step(day, minute, actor, op, role, text, updates or {}))

    def open(self, hour: float = 9.5) -> None:
        self.add(0, hour, self.requester, "create")
        self.add(0, hour + 1.5, self.requester, "submit")

    def votes(self, day: int, note: str | None = None) -> None:
        for n, who in enumerate(self.rng.sample(emails("cab"), self.cab_quorum)):
            text = self.rng.choice(APPROVE_NOTES) if note is None else note
            self.add(day, 10 + n, who, "approve", CAB, text)
        if self.iso_required:
            self.add(day, 14, emails("iso")[0], "approve", ISO, note or "")

    def ship(self, day: int, close: bool = True) -> None:
        self.add(day, 15, emails("pipeline")[0], "implement")
        if close:
            self.add(day + 1, 10, self.requester, "close")


def _revise(s: _Script, nth: int, fields: ChangeFields) -> int:
    role, why, name, extra = REVISIONS[nth % len(REVISIONS)]
    who = emails("iso")[0] if role is ISO else s.rng.choice(emails("cab"))
    s.add(1, 11, who, "reject", role, why)
    s.add(2, 10, s.requester, "edit", updates={name: f"{getattr(fields, name)} {extra}"})
    s.add(2, 10.5, s.requester, "submit")
    return 3


def _normal(s: _Script, code: str, nth: int, fields: ChangeFields) -> None:
    if code == "D":
        s.add(0, 10, s.requester, "create")
        return
    s.open()
    if code == "X":
        s.add(1, 11, s.requester, "cancel", text="Superseded by the platform-wide retry policy.")
    elif code == "R":
        s.add(
            1,
            11,
            emails("iso")[0],
            "reject",
            ISO,
            "Rate limits protect real users; use a dedicated load-test tenant instead.",
        )
    elif code == "Q":
        s.add(1, 11, emails("cab")[0], "approve", CAB, "Tax rules reviewed.")
    if code in "XRPQ":
        return
    day = _revise(s, nth, fields) if code == "V" else 1
    s.votes(day)
    s.planned = day + 1 + s.rng.randint(0, 1)
    if code == "Y":
        s.add(day + 2, 9.5, s.requester, "cancel", text="Reporting moved to the vendor's tool.")
    elif code in "CVI":
        s.ship(s.planned, close=code != "I")


def _emergency(s: _Script, code: str, nth: int, fields: ChangeFields) -> None:
    s.open(hour=13)
    s.add(0, 14.8, emails("pipeline")[0], "implement")
    if code == "O":
        return
    retro, pir = {"E": (1, 3), "L": (2, 8), "T": (7, 4)}[code]
    if code == "T":  # the late retro approval is known in advance: ask for an exception
        cab, iso = demo_audit.waiver_approvers()
        s.add(1, 9, s.requester, "waiver_request")
        s.add(1, 11, cab, "waiver_approve", CAB)
        s.add(1, 16, iso, "waiver_approve", ISO)
        s.add(9, 11, cab, "waiver_close")  # reviewed before it expires (EXC-1)
    s.votes(retro, note=f"Retroactive: incident review held, fix accepted ({fields.ticket}).")
    s.add(
        pir,
        16,
        s.requester,
        "pir",
        text="Fix verified; no recurrence in 72 hours. Root cause "
        f"and follow-ups in {fields.ticket}; regression test added.",
    )
    s.add(max(retro, pir), 17, s.requester, "close")


def _fields(n: int, nth: int, requester: str, rng: random.Random) -> ChangeFields:
    title, services, risk, kind, _ = ROWS[n]
    svcs = tuple(services.split("+"))
    scope, impact, rollback = (t.format(title=title, svc=" and ".join(svcs)) for t in KINDS[kind])
    peers = [e for e in emails("requester") if e != requester]
    authors = (requester, rng.choice(peers)) if rng.random() < 0.4 else (requester,)
    emergency = kind == "fix"
    return ChangeFields(
        title=title,
        scope=scope,
        impact=impact,
        rollback_plan=rollback,
        risk=RISKS[risk],
        change_type=ChangeType.EMERGENCY if emergency else ChangeType.NORMAL,
        justification=JUSTIFICATIONS[nth % len(JUSTIFICATIONS)] if emergency else "",
        affected_services=svcs,
        environments=("staging", "production"),
        customer_impact={
            "l": "None expected.",
            "m": "Brief latency increase possible.",
            "h": "Visible if it fails; status page drafted.",
        }[risk],
        expected_downtime_minutes=10 if (kind, risk) == ("infra", "h") else 0,
        ticket=f"ENG-{1180 + 23 * n + rng.randint(0, 9)}",
        commit_authors=authors,
    )


def _plans(policy: Policy, span: int, days: list[date], tz: str) -> list[Plan]:
    rng, seen, plans = random.Random(SEED), Counter[str](), []
    for n, (_, _, risk, kind, code) in enumerate(ROWS):
        requester = rng.choice(emails("requester"))
        nth = seen["fix" if kind == "fix" else code]
        seen["fix" if kind == "fix" else code] += 1
        fields = _fields(n, nth, requester, rng)
        s = _Script(requester, policy.quorum(RISKS[risk]).cab, policy.approvals.iso_required, rng)
        (_emergency if kind == "fix" else _normal)(s, code, nth, fields)
        last = max(x.day for x in s.steps)
        start = min(round(n * (span - 3) / (len(ROWS) - 1)), span - 1 - last)
        # Not yet deployed (A approved, P and Q awaiting decisions): no window fixed yet, so
        # the demo's gate examples answer for their approvals and evidence at any real time.
        if kind != "fix" and code not in "APQ":
            begin = _at(days[start + s.planned], 14 * 60 + 30, tz)
            fields = dataclasses.replace(fields, window=Window(begin, begin + timedelta(hours=3)))
        plans.append(Plan(n, code, fields, start, s.steps))
    return plans


def _at(day: date, minute: int, tz: str) -> datetime:
    local = time(minute // 60, minute % 60)
    return datetime.combine(day, local, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def _quarter(cal: BusinessCalendar, start: date) -> tuple[list[date], int]:
    """Business days from the quarter's start (beyond its end too, for planned windows)."""
    month = start.month + 3
    end = date(start.year + (month > 12), (month - 1) % 12 + 1, 1) - timedelta(days=1)
    days = [d for d in (start + timedelta(days=i) for i in range(140)) if cal.is_business_day(d)]
    return days, sum(d <= end for d in days)


def _op(ctx: Context, plan: Plan, step: Step, keys: dict[int, str]) -> None:
    if step.op == "create":
        keys[plan.row] = changes.create(ctx, plan.fields).key
        return
    key = keys[plan.row]
    match step.op:
        case "submit":
            changes.submit(ctx, key)
        case "approve" | "reject":
            decision = Decision.APPROVED if step.op == "approve" else Decision.REJECTED
            # The approver reads the change first: they decide on its current version.
            seen = Changes(ctx.session).get(key).version
            approvals.decide(ctx, key, step.role or CAB, decision, seen, step.text)
        case "edit":
            changes.edit(ctx, key, step.updates)
        case "cancel":
            changes.cancel(ctx, key, step.text)
        case "implement":
            lifecycle.implement(ctx, key)
        case "waiver_request" | "waiver_approve" | "waiver_close":
            demo_audit.waiver_op(ctx, key, step.op, step.role)
        case "pir":
            lifecycle.record_pir(ctx, key, step.text)
        case "close":
            lifecycle.close(ctx, key)
        case _:
            raise AssertionError(f"unknown demo step {step.op!r}")


def _add_people(ctx: Context) -> None:
    for person in PEOPLE:
        users.add_user(ctx, person.email, person.name, list(person.roles))


def seed(app: Runner, quarter_start: date) -> DemoSummary:
    """Seed an empty database with a quarter of changes; each write at its own simulated time."""
    opened = datetime.combine(quarter_start, time(8), tzinfo=UTC)
    policy = app.run(lambda ctx: ctx.policy, actor=ADMIN, at=opened, simulated=True)
    tz = policy.timezone
    days, span = _quarter(policy.calendar(opened), quarter_start)
    if policy.quorum(Risk.HIGH).cab > len(emails("cab")):
        raise BadInput(f"the demo has {len(emails('cab'))} CAB members; the policy wants more")
    plans = _plans(policy, span, days, tz)
    events = sorted(
        (
            (_at(days[p.start + s.day], s.minute, tz), p.row, n, p, s)
            for p in plans
            for n, s in enumerate(p.steps)
        ),
        key=lambda e: e[:3],
    )
    # The company adopted changegate on the quarter's first day: its audits start there.
    app.run(
        lambda ctx: installation.adopt(ctx, quarter_start),
        actor=ADMIN,
        at=_at(days[0], 7 * 60, tz),
        simulated=True,
    )
    app.run(_add_people, actor=ADMIN, at=_at(days[0], 8 * 60, tz), simulated=True)
    keys: dict[int, str] = {}
    for at, _, _, plan, step in events:
        app.run(
            partial(_op, plan=plan, step=step, keys=keys), actor=step.actor, at=at, simulated=True
        )
    end = events[-1][0]
    held = demo_cab.hold_meeting(
        lambda fn, actor, when: app.run(fn, actor=actor, at=when, simulated=True),
        end + timedelta(minutes=5),
    )
    # The ISO audits the quarter on the first business day after it.
    audited = max(end, _at(days[span], 9 * 60, tz)) + timedelta(minutes=30)
    # The quarter's last business day on AWS, ingested the next morning, before the audit.
    trail = app.run(
        partial(_trail_day, day=days[span - 1]),
        actor=emails("pipeline")[0],
        at=audited - timedelta(minutes=10),
        simulated=True,
    )
    audit = app.run(
        lambda ctx: demo_audit.run_audit(ctx, _name(quarter_start)),
        actor=emails("iso")[0],
        at=audited,
        simulated=True,
    )
    gate = app.run(demo_gate.seed_evidence, actor=emails("pipeline")[0], at=audited, simulated=True)
    statuses = app.run(
        lambda ctx: Changes(ctx.session).count_by_status(),
        actor=ADMIN,
        at=end,
        simulated=True,
    )
    return DemoSummary(
        ORG,
        days[0],
        days[span - 1],
        PEOPLE,
        statuses,
        _highlights(plans, keys),
        len(events) + 5 + held,
        f"CHG-{max(int(k.removeprefix('CHG-')) for k in keys.values()) + 1}",
        audit,
        gate,
        trail,
    )


def _trail_day(ctx: Context, day: date) -> demo_trail.TrailDay:
    approved = Changes(ctx.session).list(ChangeStatus.APPROVED)[0].key
    people = emails("requester")
    return demo_trail.seed(ctx, day, (people[0], people[2]), approved)


def _name(quarter_start: date) -> str:
    return f"{quarter_start.year}-Q{(quarter_start.month - 1) // 3 + 1}"


def population(ctx: Context) -> tuple[int, int]:
    """How many people and changes a database holds: the demo seeds only an empty one."""
    counts = Changes(ctx.session).count_by_status()
    return Users(ctx.session).count(), sum(counts.values())


def _highlights(plans: list[Plan], keys: dict[int, str]) -> list[tuple[str, str]]:
    out = []
    for code, why in HIGHLIGHTS.items():
        found = next(
            p
            for p in plans
            if p.outcome == code.removesuffix("high")
            and (code != "Chigh" or p.fields.risk is Risk.HIGH)
        )
        out.append((keys[found.row], why))
    return out
