"""The root command, its lazily loaded sub-commands, and the one table from errors to exit codes.

`changegate --help` names every command without importing any of them: each is loaded only
when it runs (or when shell completion asks for it), so a command pays only for what it uses.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from typing import Any

import typer
from typer import _click as click
from typer.core import TyperArgument, TyperGroup, TyperOption

from changegate import __version__
from changegate.cli.output import error
from changegate.domain.errors import (
    BadInput,
    Conflict,
    DomainError,
    Forbidden,
    Refused,
    Unauthenticated,
    VersionMoved,
)

OK, REFUSED, BAD = 0, 1, 2

EXIT_CODES: dict[type[DomainError], int] = {
    Refused: REFUSED,
    Forbidden: REFUSED,
    Unauthenticated: REFUSED,
    BadInput: BAD,
    Conflict: BAD,
    VersionMoved: BAD,
}

# name: (module under changegate.cli, its Typer app, one line of help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": (
        "users",
        "init_app",
        "Create or upgrade the database schema; records the adoption date.",
    ),
    "status": (
        "status",
        "app",
        "Database, schema, policy, signing key, people, and what awaits you.",
    ),
    "doctor": ("status", "app", "Same as `status`."),
    "login": ("login", "app", "Sign in through the browser; store a personal API token."),
    "logout": ("login", "logout_app", "Forget the token `changegate login` stored."),
    "user": ("users", "app", "People and principals, and their roles."),
    "token": ("tokens", "app", "API tokens for people and pipelines."),
    "change": ("changes", "app", "Change requests: create, submit, approve, implement, close."),
    "pir": ("changes", "pir_app", "Post-implementation reviews."),
    "cab": ("cab", "app", "CAB meetings: agenda, attendance, decisions, minutes."),
    "test": ("pipeline", "test_app", "Regression-test evidence (CM-4)."),
    "gate": ("pipeline", "gate_app", "The deployment gate."),
    "deploy": ("pipeline", "deploy_app", "Deployments."),
    "baseline": (
        "baselines",
        "baseline_app",
        "Approved configuration baselines (CFG-1, CFG-3).",
    ),
    "config": ("observations", "config_app", "Observed configuration (AWS Config)."),
    "trail": ("trail", "app", "CloudTrail: production changes held to a change (CM-5)."),
    "linear": ("linear", "app", "Linear: issues that ask for changes and waivers (CM-1, EXC-1)."),
    "drift": ("drift", "drift_app", "Drift from the baselines (CFG-2, CFG-4)."),
    "waiver": ("waivers", "app", "Waivers: time-limited, jointly approved exceptions (EXC-1)."),
    "audit": ("audits", "audit_app", "Automated audits: re-perform every control."),
    "finding": ("audits", "finding_app", "Findings (violations) and disciplinary records."),
    "review": ("reviews", "app", "Signed periodic reviews: preview, sign, list, show, print."),
    "dashboard": (
        "dashboard",
        "app",
        "A quarter's CM-6 metrics and DORA keys, as reviews sign them.",
    ),
    "calendar": ("calendar", "app", "Planned change windows and freezes by week, with conflicts."),
    "ledger": ("ledger", "app", "The tamper-evident ledger."),
    "evidence": ("evidence", "app", "The evidence package for auditors: export, verify offline."),
    "policy": ("policy", "app", "The change-management policy in force."),
    "demo": ("demo", "app", "Seed a realistic quarter of changes and serve it."),
    "serve": ("serve", "app", "Serve the REST API (OpenAPI at /docs)."),
    "worker": ("worker", "app", "Deliver notifications and run the periodic jobs."),
    "sandbox": (
        "sandbox",
        "app",
        "Local stand-ins for Linear and Google Drive, to try changegate (never production).",
    ),
    "outbox": ("worker", "outbox_app", "The notification outbox."),
    "completion": (
        "completion",
        "app",
        "Print the shell completion script for bash, zsh, fish or PowerShell.",
    ),
}
HIDDEN = {"doctor"}


class LazyGroup(TyperGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[cmd_name]
        sub_app = getattr(importlib.import_module(f"changegate.cli.{module}"), attr)
        command = typer.main.get_command(sub_app)
        command.name = cmd_name
        readable(command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, text) for name, (_, _, text) in COMMANDS.items() if name not in HIDDEN]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def readable(command: click.Command) -> None:
    """Every option's value gets a metavar a person can read in --help: its choices
    (`low|medium|high`) or its name (`--title TITLE`), where the command did not name one."""
    for sub in getattr(command, "commands", {}).values():
        readable(sub)
    for param in command.params:
        if isinstance(param, TyperArgument):
            # The argument's name says what it is (CHANGE, FILE); Typer would add `<str>`.
            setattr(param, "display_type_rich", _no_type)  # noqa: B010
        if not isinstance(param, TyperOption) or param.is_flag or param.metavar is not None:
            continue
        choices = getattr(param.type_descriptor, "choices", None)
        longest = max(param.opts, key=len).lstrip("-")
        param.metavar = (
            "|".join(str(getattr(c, "value", c)) for c in choices)
            if choices
            else longest.upper().replace("-", "_")
        )


def _no_type(ctx: click.Context) -> None:
    return None


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"changegate {__version__}\n")
        raise typer.Exit(0)


app = typer.Typer(
    name="changegate",
    cls=LazyGroup,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Change management that is enforced where it can be and evidenced always.",
)


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Change management that is enforced where it can be and evidenced always."""


def exit_code(exc: DomainError) -> int:
    for kind in type(exc).__mro__:
        if kind in EXIT_CODES:
            return EXIT_CODES[kind]
    return BAD


def _not_utf8(argv: list[str]) -> str | None:
    for n, arg in enumerate(argv):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            option = next((a for a in reversed(argv[:n]) if a.startswith("-")), None)
            where = (
                f"the value of {option}"
                if option and n and argv[n - 1] == option
                else (f"argument {n + 1}")
            )
            return f"{where} is not valid UTF-8"
    return None


def run(argv: list[str]) -> int:
    problem = _not_utf8(argv)
    if problem is not None:
        error(problem)
        return BAD
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="changegate", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        # A bare group (`changegate`, `changegate change`) asks for help; it is not an error.
        sys.stdout.write(exc.ctx.get_help() + "\n" if exc.ctx else "")
        return OK
    except typer.Exit as exc:
        return int(exc.exit_code)
    except SystemExit as exc:  # shell completion exits by itself
        return exc.code if isinstance(exc.code, int) else OK
    except click.ClickException as exc:
        error(exc.format_message().removeprefix("Value error, "))
        return BAD
    except typer.Abort:
        error("aborted")
        return BAD
    except Exception as exc:
        return _failure(exc, argv)
    return result if isinstance(result, int) else OK


def _failure(exc: Exception, argv: list[str]) -> int:
    # Imported here: only a failing command pays for SQLAlchemy's and the adapters' errors.
    from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415

    from changegate.integrations.ports import IntegrationError  # noqa: PLC0415

    if isinstance(exc, DomainError):
        error(exc.message)
        return exit_code(exc)
    if isinstance(exc, IntegrationError):
        error(str(exc))
        return BAD
    if isinstance(exc, SQLAlchemyError):
        error(f"database error: {_first_line(getattr(exc, 'orig', None) or exc)}")
        return BAD
    if "--debug" in argv:
        traceback.print_exc()
    # The last line of defence: no traceback reaches a user.
    error(f"internal error ({type(exc).__name__}): {_first_line(exc)}")
    return BAD


def _first_line(exc: Any) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def main() -> None:
    sys.exit(run(sys.argv[1:]))
