"""The policy file: load, validate with messages that name the key, defaults from the policy."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources
from importlib.metadata import version
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from changegate.domain.approvals import Quorum
from changegate.domain.calendar import BusinessCalendar, calendar_from
from changegate.domain.changes import ChangeStatus, Risk
from changegate.domain.documents import check_depth, too_deep
from changegate.domain.errors import BadInput
from changegate.domain.gate import Freeze, WindowRule
from changegate.domain.trail.actors import DEFAULT_SESSION_PATTERN, AccountMapping, TrailRules
from changegate.domain.users import Role
from changegate.domain.waivers import WaiverStatus

PositiveInt = Annotated[int, Field(ge=1)]


def holidays_lib() -> ModuleType:
    import holidays  # noqa: PLC0415  (only where a calendar is built)

    return holidays


@cache
def _country_codes() -> frozenset[str]:
    from holidays.registry import COUNTRIES  # noqa: PLC0415

    return frozenset(code for names in COUNTRIES.values() for code in names[1:3])


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class HolidaySettings(Strict):
    country: str | None = "US"
    subdivision: str | None = None
    closures: list[date] = []
    # None: the country's own weekend (Friday and Saturday in Israel), Saturday and Sunday
    # without a country. Given, it replaces the country's.
    weekend: tuple[Weekday, ...] | None = None

    @field_validator("weekend", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return [str(v).strip().lower()[:3] for v in value] if isinstance(value, list) else value

    @model_validator(mode="after")
    def _known_country(self) -> HolidaySettings:
        # Every command loads the policy: the registry names the countries without importing
        # their modules (a tenth of a second each); `known_calendar` checks the subdivision.
        if self.country is not None and self.country.upper() not in _country_codes():
            raise ValueError(f"the holidays package has no country {self.country!r}")
        return self

    def known_calendar(self) -> None:
        """The country and subdivision as the holidays package knows them (BadInput if not)."""
        if self.country is None:
            return
        try:
            holidays_lib().country_holidays(self.country, subdiv=self.subdivision)
        except NotImplementedError:
            raise BadInput(
                f"holidays: the holidays package has no subdivision "
                f"{self.subdivision!r} of {self.country!r}"
            ) from None


AwsAccount = Annotated[str, Field(pattern=r"^[0-9]{12}$")]


class Environment(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    isolated: bool = False
    production: bool = False
    # The AWS accounts this environment runs in: CFG-1 holds every resource observed in a
    # production environment's accounts to an approved baseline.
    aws_accounts: list[AwsAccount] = []
    # What the gate asks of a deployment here; unset: as production does (both) or not (neither).
    approval: bool | None = None  # CAB+ISO approval of the current version, in its window
    tests: bool | None = None  # passing regression evidence from an isolated environment


class ChangeSettings(Strict):
    require_ticket: bool = True


class ApprovalSettings(Strict):
    cab_quorum: dict[Risk, PositiveInt]
    iso_required: bool = True

    @field_validator("cab_quorum")
    @classmethod
    def _every_risk(cls, value: dict[Risk, int]) -> dict[Risk, int]:
        missing = [r.value for r in Risk if r not in value]
        if missing:
            raise ValueError(f"needs a quorum for every risk; missing {', '.join(missing)}")
        return value


class EmergencySettings(Strict):
    retro_approval_business_days: PositiveInt
    pir_business_days: PositiveInt
    # Who owes a retroactive approval or a PIR is reminded this many business days before
    # its deadline's last day (0: on that day).
    reminder_business_days: int = Field(default=1, ge=0, le=10)


class DriftSettings(Strict):
    remediation_hours: PositiveInt


class ViolationSettings(Strict):
    remediation_business_days: PositiveInt
    report_hours: PositiveInt = 24


class WaiverSettings(Strict):
    max_days: PositiveInt = 90


class AuditSettings(Strict):
    # A quarter's signed reviews (CM-6, CFG-3, EXC-1) fall due this many business days after it.
    quarterly_review_business_days: PositiveInt = 10
    # The day the controls took effect; earlier events and quarters are not audited.
    effective_from: date | None = None


class FreezeWindow(Strict):
    name: str = Field(min_length=1)
    start: datetime
    end: datetime
    environments: list[str] = ["production"]

    @model_validator(mode="after")
    def _ordered(self) -> FreezeWindow:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("start and end need a time zone, e.g. 2026-12-20T00:00:00Z")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class WindowSettings(Strict):
    early_minutes: int = Field(default=30, ge=0, le=10_080)
    late_minutes: int = Field(default=60, ge=0, le=10_080)
    without_window: Literal["allow", "deny"] = "allow"

    def rule(self) -> WindowRule:
        return WindowRule(
            timedelta(minutes=self.early_minutes),
            timedelta(minutes=self.late_minutes),
            self.without_window == "allow",
        )


class GateSettings(Strict):
    decision_ttl_minutes: PositiveInt = 60
    emergency_requires_tests: bool = False
    # CM-4 "documented": the passing run must be filed in or verified from Google Workspace.
    # None: required when the policy names a shared drive (Policy.documented_tests).
    require_documented_tests: bool | None = None
    freeze_windows: list[FreezeWindow] = []
    window: WindowSettings = WindowSettings()


class TestSettings(Strict):
    __test__ = False  # not a pytest class, despite the name
    # `fail`: a test that ended with a warning (PHPUnit) is not passed; `pass`: it is.
    warnings: Literal["fail", "pass"] = "fail"


class IdentitySettings(Strict):
    """DESIGN.md section 2, Identity: decisions are made by authenticated principals."""

    # Whether the in-process `--as` path (whoever can reach the database) may make decisions;
    # when allowed, each such ledger record says `"authenticated": false` and AUTH-1 reports it.
    local_decisions: Literal["allow", "deny"] = "deny"
    # The web app's sign-in by picking a person from a list, with no identity provider: demos.
    demo_sign_in: bool = False


class TrailAccount(Strict):
    account: AwsAccount
    environment: str
    regions: list[str] | None = None  # None: every region


class CloudTrailSettings(Strict):
    """CM-5 over CloudTrail (docs/cloudtrail.md): which accounts are which environment, which
    roles are the pipeline's, and how a pipeline's role session names its change."""

    accounts: list[TrailAccount] = []
    pipeline_roles: list[str] = []  # IAM role (or user) ARNs
    workload_roles: list[str] = []  # roles whose writes are a system running, not a person
    session_pattern: str = DEFAULT_SESSION_PATTERN  # case-insensitive; group `change`
    emergency_window_hours: PositiveInt = 4
    pipeline_tolerance_minutes: int = Field(default=15, ge=0, le=1440)
    people: dict[str, str] = {}  # AWS principal ARN or name -> changegate email

    @field_validator("pipeline_roles", "workload_roles")
    @classmethod
    def _arns(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not re.match(r"^arn:[\w-]+:(iam|sts)::\d{12}:", v)]
        if bad:
            raise ValueError(f"not an IAM ARN: {bad[0]!r}")
        return value

    @field_validator("session_pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        try:
            compiled = re.compile(value, re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        if "change" not in compiled.groupindex:
            raise ValueError("needs a named group `change`, e.g. (?P<change>\\d+)")
        return value

    def rules(self, environments: list[Environment]) -> TrailRules:
        """The section as the domain reads it. Accounts an environment lists under
        `aws_accounts` (CFG-1) map to it too, after this section's own mappings."""
        mapped = [
            AccountMapping(a.account, a.environment, _regions(a.regions)) for a in self.accounts
        ]
        mapped += [AccountMapping(acct, e.name) for e in environments for acct in e.aws_accounts]
        return TrailRules(
            accounts=tuple(mapped),
            production=frozenset(e.name for e in environments if e.production),
            pipeline_roles=frozenset(r.casefold() for r in self.pipeline_roles),
            workload_roles=frozenset(r.casefold() for r in self.workload_roles),
            session_pattern=self.session_pattern,
            emergency_window=timedelta(hours=self.emergency_window_hours),
            pipeline_tolerance=timedelta(minutes=self.pipeline_tolerance_minutes),
            people={k.casefold(): v for k, v in self.people.items()},
        )


def _regions(regions: list[str] | None) -> frozenset[str] | None:
    return None if regions is None else frozenset(regions)


class LinearPolicy(Strict):
    """Linear as the front door (docs/linear.md): which teams' issues, which labels ask for a
    change or a waiver, and which workflow state shows each changegate status there. A state
    change in Linear is never an approval: the mapping only goes from changegate to Linear."""

    teams: list[str] = []  # team keys (ENG); empty: every team the webhook delivers
    change_label: str = Field(default="change-request", min_length=1)
    exception_label: str = Field(default="exception-request", min_length=1)
    change_states: dict[ChangeStatus, str] = {}  # a change's status -> Linear state name
    waiver_states: dict[WaiverStatus, str] = {}  # a waiver's status -> Linear state name
    waiver_days: PositiveInt = 30  # a waiver request's duration when its issue names none


class WorkspacePolicy(Strict):
    """Google Workspace as the filing cabinet for test evidence (docs/workspace.md): the shared
    drive (its id) and the folder in it (an id; None: the drive's top level) that hold a folder
    per change, and whether `test record` files a run there without being asked (`--upload`)."""

    shared_drive: str | None = Field(default=None, min_length=1, max_length=200)
    folder: str | None = Field(default=None, min_length=1, max_length=200)
    upload: bool = False


class Control(Strict):
    id: str = Field(pattern=r"^[A-Z]+-\d+$")
    clause: str
    summary: str
    cited: list[str]
    tsc: list[str] = Field(min_length=1)
    preventive: str | None
    detective: str | None


class Policy(Strict):
    organisation: str
    document: str
    timezone: str
    holidays: HolidaySettings
    environments: list[Environment] = Field(min_length=1)
    roles: dict[Role, str]
    changes: ChangeSettings
    approvals: ApprovalSettings
    emergency: EmergencySettings
    drift: DriftSettings
    violations: ViolationSettings
    gate: GateSettings = GateSettings()
    tests: TestSettings = TestSettings()
    waivers: WaiverSettings = WaiverSettings()
    audits: AuditSettings = AuditSettings()
    identity: IdentitySettings = IdentitySettings()
    cloudtrail: CloudTrailSettings = CloudTrailSettings()
    linear: LinearPolicy = LinearPolicy()
    workspace: WorkspacePolicy = WorkspacePolicy()
    controls: list[Control] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            calendar_from(value, (), "")
        except BadInput as exc:
            raise ValueError(exc.message) from None
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> Policy:
        for label, names in (
            ("environments", [e.name for e in self.environments]),
            ("controls", [c.id for c in self.controls]),
        ):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{label}: duplicate {', '.join(dupes)}")
        known = {e.name for e in self.environments}
        for mapping in self.cloudtrail.accounts:
            if mapping.environment not in known:
                raise ValueError(
                    f"cloudtrail.accounts: {mapping.account}: unknown environment "
                    f"{mapping.environment}"
                )
        for window in self.gate.freeze_windows:
            unknown = sorted(set(window.environments) - known)
            if unknown:
                raise ValueError(
                    f"gate.freeze_windows: {window.name}: unknown environment {', '.join(unknown)}"
                )
        return self

    def quorum(self, risk: Risk) -> Quorum:
        return Quorum(self.approvals.cab_quorum[risk], self.approvals.iso_required)

    def environment(self, name: str) -> Environment:
        """By name, case-insensitively (GitHub's rule for environment names)."""
        wanted = name.strip().lower()
        for env in self.environments:
            if env.name == wanted:
                return env
        known = ", ".join(e.name for e in self.environments)
        raise BadInput(f"unknown environment {name!r}; the policy defines {known}")

    def production_accounts(self) -> frozenset[str]:
        """The AWS accounts that are production in every region (CFG-1 holds their resources
        to baselines): those a production environment lists under `aws_accounts`, and those
        `cloudtrail.accounts` maps to one without naming regions. One fact, said in either
        place, means the same to every rule."""
        production = {e.name for e in self.environments if e.production}
        listed = {a for e in self.environments if e.production for a in e.aws_accounts}
        mapped = {
            m.account
            for m in self.cloudtrail.accounts
            if m.environment in production and m.regions is None
        }
        return frozenset(listed | mapped)

    def trail_rules(self) -> TrailRules:
        return self.cloudtrail.rules(self.environments)

    def calendar(self, around: datetime) -> BusinessCalendar:
        """The business calendar for deadlines that start near `around` (that year and next):
        the country's holidays, weekend and make-up working days, and the company's closures."""
        days: set[date] = set(self.holidays.closures)
        label = f"weekends + {len(days)} company closure(s)"
        weekend: set[int] = {5, 6}
        workdays: set[date] = set()
        if self.holidays.country:
            self.holidays.known_calendar()
            years = [around.year, around.year + 1]
            found = holidays_lib().country_holidays(
                self.holidays.country, subdiv=self.holidays.subdivision, years=years
            )
            days.update(found.keys())
            weekend = set(found.weekend)
            workdays = {d for d in found.weekend_workdays if d.year in years}
            region = "/".join(p for p in (self.holidays.country, self.holidays.subdivision) if p)
            label = f"{region} holidays ({version('holidays')}) + {label}"
        if self.holidays.weekend is not None:
            weekend = {WEEKDAYS.index(d) for d in self.holidays.weekend}
        return calendar_from(self.timezone, days, label, weekend, workdays)

    def freezes(self) -> list[Freeze]:
        return [
            Freeze(w.name, w.start, w.end, tuple(w.environments)) for w in self.gate.freeze_windows
        ]

    @property
    def documented_tests(self) -> bool:
        """Whether CM-4 needs a passing run documented in Workspace: as set, or by default
        whenever the policy names a shared drive to document it in."""
        required = self.gate.require_documented_tests
        return self.workspace.shared_drive is not None if required is None else required

    def canonical(self) -> str:
        """The effective policy as JSON with sorted keys and no spaces: what `digest` hashes."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def digest(self) -> str:
        """SHA-256 (hex) of `canonical()`: the policy a gate decision or audit cites."""
        return hashlib.sha256(self.canonical().encode()).hexdigest()


def _safe_load(text: str, source: str = "policy") -> Any:
    """YAML's safe loader, in C where PyYAML was built with libyaml (every command loads the
    policy; the pure-Python parser takes a tenth of a second over the defaults)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return check_depth(yaml.load(text, Loader=loader), source)
    except RecursionError:
        raise too_deep(source) from None


def default_document() -> dict[str, Any]:
    text = resources.files("changegate").joinpath("default_policy.yaml").read_text()
    loaded: dict[str, Any] = _safe_load(text)
    return loaded


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; anything else (lists included) replaces."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def explain(error: ValidationError, source: str) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
    message = message.removeprefix("Value error, ")
    more = len(error.errors()) - 1
    tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{source}: {where}: {message}{tail}"


def from_document(document: dict[str, Any], source: str) -> Policy:
    try:
        return Policy.model_validate(merge(default_document(), document))
    except ValidationError as exc:
        raise BadInput(explain(exc, source)) from None


MAX_POLICY_BYTES = 1024 * 1024


def load(path: Path | None) -> Policy:
    if path is None:
        return from_document({}, "built-in policy")
    try:
        with path.open("rb") as file:
            text = file.read(MAX_POLICY_BYTES + 1)
        if len(text) > MAX_POLICY_BYTES:
            raise BadInput(f"{path}: a policy file is at most {MAX_POLICY_BYTES:,} bytes")
        document = _safe_load(text.decode("utf-8"), str(path)) or {}
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path}: not UTF-8 at byte {exc.start}") from None
    except OSError as exc:
        raise BadInput(f"cannot read policy file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        if "nesting depth" in str(exc):  # libyaml's own limit, before ours
            raise too_deep(str(path)) from None
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise BadInput(f"{path}:{where} is not valid YAML") from None
    if not isinstance(document, dict):
        raise BadInput(f"{path}: the policy must be a mapping of keys")
    return from_document(document, str(path))
